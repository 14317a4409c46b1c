"""Building one trader from its TradeJob: store, model, venue, books, risk, router.

The order matters for safety: the store is migrated and read first, so the
simulated venue is rebuilt from it, the model is loaded (it names the symbols)
and matched with the feed (a model whose features the feed neither carries nor
can make is refused); then a real venue's credentials are proven (`connect`)
before anything is written or sent: a venue that refuses them stops the start-up with
its reason, before a single order.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from ..config.jobs import TradeJob
from ..config.trading import BrokerType
from ..data.sources.credentials import Credentials, load_credentials
from ..market import cadence
from ..market.costs import BPS, CostModel
from ..market.policy import PolicyStrategy
from ..market.ports import Clock
from ..risk.manager import RiskManager
from .book import Book
from .brokers import TradingBroker, open_broker
from .brokers.sim import SimVenue
from .failpoints import Failpoints
from .feeds import BarBuffer, LiveFeed, open_feed
from .hours import MarketHours
from .model import LoadedModel, ModelError, ModelPick, load_model
from .orders import OrderRouter, RetryPolicy
from .shadow import Shadow
from .store import OrderState, StoreInfo, TradeStore, open_engine
from .trader import ModelInUse, Parts, Trader

if TYPE_CHECKING:  # TA-Lib loads only in traders whose model reads features
    from ..data.features.live import LiveFeatures

log = logging.getLogger(__name__)
STORE_URL_ENV = "KUBETRADE_STORE_URL"
DEFAULT_SYMBOLS = ("AAPL", "MSFT")
WARMUP_BARS = 60
"""Bars of history the risk manager estimates volatility and VaR from."""


@dataclass
class Options:
    """What tests, benchmarks and the local CLI change; pods use the defaults."""

    failpoints: Failpoints = field(default_factory=Failpoints)
    retry: RetryPolicy | None = None
    broker_timeout: float = 10.0
    feed_clock: Clock | None = None
    credentials: Credentials | None = None
    env: Mapping[str, str] | None = None
    may_trade: Callable[[], bool] = lambda: True
    store: tuple[Engine, StoreInfo] | None = None
    """An engine already open on a migrated store (a restart loop in one process keeps
    its compiled statements); `close` then leaves it open."""


@dataclass
class Assembly:
    """A trader and what it was built from."""

    trader: Trader
    feed: LiveFeed
    store: TradeStore
    broker: TradingBroker
    symbols: tuple[str, ...]
    warmup: int
    session_id: str
    own_engine: bool = True

    def resume(self) -> None:
        """Start the feed after the last finished bar and the trader on its stored state."""
        state = self.store.state(self.session_id)
        last = state.last_bar_time if state else None
        warmup = self.feed.start(last, self.warmup)
        self.trader.start(warmup, self.store.last_targets(self.session_id))

    def close(self) -> None:
        """Release the feed, the venue's connections and the database."""
        self.feed.close()
        self.trader.p.router.close()
        self.broker.close()
        if self.own_engine:
            self.store.engine.dispose()


def _cadence(symbols: tuple[str, ...], interval: str) -> tuple[float, float]:
    """(bars per day, periods per year) for the risk manager's scaling: the same
    annualisation per market as the backtest's metrics (FX 260 x 24 hourly bars)."""
    market = cadence.market_of(symbols)
    per_day = float(cadence.BARS_PER_DAY[market][interval])
    return per_day, cadence.periods_per_year(interval, market)


def build(job: TradeJob, options: Options | None = None) -> Assembly:
    """Everything one trader needs, from the job file."""
    options = options or Options()
    env = os.environ if options.env is None else options.env
    config = job.trading
    credentials = options.credentials or load_credentials(env=env)
    engine, _ = options.store or open_engine(
        env.get(STORE_URL_ENV) or None, job.state_dir, manual_checkpoints=True
    )
    store = TradeStore(engine)
    loaded = load_model(job.model_uri)
    symbols = tuple(config.symbols or loaded.symbols or DEFAULT_SYMBOLS)
    # A model the feed cannot serve (features neither carried nor makeable) is
    # refused here, before the venue is touched or the account written.
    feed = open_feed(job, symbols, credentials, clock=options.feed_clock)
    buffer, warmup = bar_buffer(loaded, feed, symbols)
    state = store.state(job.session_id)
    broker = open_broker(
        config,
        symbols,
        credentials,
        cash=state.cash if state else config.initial_cash,
        positions=dict(state.positions) if state else {},
        timeout=options.broker_timeout,
    )
    account = broker.connect()  # refused credentials stop here, before any order
    if state is None:
        simulated = BrokerType(config.broker.type) == BrokerType.SIM
        baseline = {} if simulated else {s: p.quantity for s, p in broker.positions().items()}
        initial = config.initial_cash if simulated else account.cash
        store.create_account(
            job.session_id, broker.name, initial, dt.datetime.now(dt.UTC), baseline
        )
        state = store.state(job.session_id)
        assert state is not None  # noqa: S101 - created just above
    if isinstance(broker, SimVenue):
        broker.restore(
            [
                (r.order(), r.filled_quantity, r.average_price or 0.0, r.commission)
                for r in state.open_orders
                if r.status != OrderState.PENDING
            ]
        )
    interval = str(config.interval)
    per_day, per_year = _cadence(symbols, interval)
    risk = RiskManager(config.risk, periods_per_year=per_year, bars_per_day=per_day)
    book = Book(state)
    router = OrderRouter(
        job.session_id,
        broker,
        store,
        book,
        policy=options.retry,
        failpoints=options.failpoints,
        on_fill=risk.on_fill,
        may_trade=options.may_trade,
    )
    strategy = loaded.strategy
    trader = Trader(
        Parts(
            session_id=job.session_id,
            strategy=strategy,
            risk=risk,
            broker=broker,
            store=store,
            book=book,
            router=router,
            hours=MarketHours(interval),
            buffer=buffer,
            allow_short=config.costs.allow_short,
            baseline=dict(state.baseline),
            failpoints=options.failpoints,
        )
    )
    trader.model = ModelInUse(job.model_uri)
    if isinstance(strategy, PolicyStrategy):
        log.info("trading model %s on %s", job.model_uri, ", ".join(symbols))
    return Assembly(
        trader, feed, store, broker, symbols, warmup, job.session_id, options.store is None
    )


def bar_buffer(
    loaded: LoadedModel, feed: LiveFeed, symbols: tuple[str, ...]
) -> tuple[BarBuffer, int]:
    """The bars the trader keeps, and how many it warms up on: the model's window
    (at least WARMUP_BARS), plus the bars its features are made from when the feed
    does not carry them."""
    maker = _maker(loaded, feed.features)
    warmup = _warmup(loaded, maker)
    buffer = BarBuffer(
        symbols, capacity=max(2 * warmup, 256), features=loaded.features, maker=maker
    )
    return buffer, warmup


def _maker(loaded: LoadedModel, carried: tuple[str, ...]) -> LiveFeatures | None:
    """What makes the model's features the feed does not carry (None: it carries them all)."""
    missing = [name for name in loaded.features if name not in carried]
    if missing and loaded.maker is None:
        raise ModelError(
            f"the model reads features {missing}, which the feed does not carry and "
            "its model card does not say how to make (retrain it, or trade it on a "
            "replay of its Dataset: trading.feed: replay)"
        )
    return loaded.maker if missing else None


def _warmup(loaded: LoadedModel, maker: LiveFeatures | None) -> int:
    warmup = max(loaded.strategy.lookback, WARMUP_BARS)
    return max(warmup, loaded.strategy.lookback + maker.span) if maker else warmup


def fit(loaded: LoadedModel, buffer: BarBuffer, carried: tuple[str, ...]) -> BarBuffer:
    """The buffer a model swapped into (or shadowing in) a running trader reads: the
    trader's own `buffer` when that already holds what the model reads, else a copy of
    its bars with the model's features made by the model's own maker (its Dataset's
    normalisation may differ from the champion's). ModelError, before the model ever
    decides, when it was trained on other symbols than the session's or reads
    features neither the feed (`carried`) nor its card can make."""
    if loaded.symbols is not None and set(loaded.symbols) != set(buffer.symbols):
        raise ModelError(
            f"the model trades {', '.join(loaded.symbols)}, the session "
            f"{', '.join(buffer.symbols)}: refused"
        )
    maker = _maker(loaded, carried)
    capacity = max(2 * _warmup(loaded, maker), 256)
    if maker is None:
        unheld = [name for name in loaded.features if name not in buffer.features]
        if not unheld and capacity <= buffer.capacity:
            return buffer
        if unheld:  # carried from now on, but the kept bars have none of them
            raise ModelError(
                f"the model reads features {unheld} the trader has kept no history of; "
                "restart the trader to trade it"
            )
    return buffer.refeatured(loaded.features, maker, capacity)


def shadow(
    job: TradeJob,
    assembly: Assembly,
    pick: ModelPick,
    loaded: LoadedModel | None,
    error: str = "",
) -> Shadow:
    """The challenger `pick` beside the running champion, or the reason it cannot
    run (`error`, or what `fit` refuses): then it reports that and never decides."""
    trader = assembly.trader
    costs = CostModel.from_config(job.trading.costs)
    _, per_year = _cadence(assembly.symbols, str(job.trading.interval))
    own: BarBuffer | None = None
    if loaded is not None and not error:
        try:
            buffer = fit(loaded, trader.p.buffer, assembly.feed.features)
            own = buffer if buffer is not trader.p.buffer else None
        except ModelError as err:
            error = str(err)
    return Shadow(
        pick,
        None if error or loaded is None else loaded.strategy,
        own,
        symbols=len(assembly.symbols),
        # What the backtest and the simulated venue charge per unit traded (no
        # volume impact: a paper book has weights, not quantities).
        cost_rate=costs.commission_rate + costs.slippage_bps * BPS,
        periods_per_year=per_year,
        error=error or ("" if loaded is not None else "the challenger was not loaded"),
    )


def promote(
    assembly: Assembly, loaded: LoadedModel | None, pick: ModelPick, error: str = ""
) -> str:
    """Swap `loaded` in as the champion (between bars) and audit it; the audit line.
    ModelError, with the champion unchanged, when the session cannot trade it (or
    it could not be loaded: `error`)."""
    trader, now = assembly.trader, dt.datetime.now(dt.UTC)
    before = trader.model
    was = named(ModelPick(before.artifact_uri, before.version))
    try:
        if loaded is None:
            raise ModelError(error or "not loaded")
        buffer = fit(loaded, trader.p.buffer, assembly.feed.features)
    except ModelError as err:
        detail = f"model {named(pick)} refused, {was} trades on: {err}"
        after = _wire(pick) | {"refused": str(err)}
        assembly.store.add_config_change(
            assembly.session_id, "status.model", detail, before.status(), after, now
        )
        raise ModelError(detail) from err
    trader.swap(loaded.strategy, buffer, pick)
    detail = f"model {named(pick)} swapped in after {before.bars} bars of {was}"
    assembly.store.add_config_change(
        assembly.session_id, "status.model", detail, before.status(), _wire(pick), now
    )
    return detail


def named(pick: ModelPick) -> str:
    """A model for the logs: its version and artifact."""
    return f"v{pick.version} ({pick.artifact_uri})" if pick.version else pick.artifact_uri


def _wire(pick: ModelPick) -> dict[str, Any]:
    return {"version": pick.version, "artifactUri": pick.artifact_uri}
