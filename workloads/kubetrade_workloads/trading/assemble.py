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

from sqlalchemy.engine import Engine

from ..config.jobs import TradeJob
from ..config.trading import BrokerType
from ..data.sources.credentials import Credentials, load_credentials
from ..market import cadence
from ..market.policy import PolicyStrategy
from ..market.ports import Clock
from ..risk.manager import RiskManager
from .book import Book
from .brokers import TradingBroker, open_broker
from .brokers.sim import SimVenue
from .failpoints import Failpoints
from .feeds import BarBuffer, LiveFeed, open_feed
from .hours import MarketHours
from .model import LoadedModel, ModelError, load_model
from .orders import OrderRouter, RetryPolicy
from .store import OrderState, StoreInfo, TradeStore, open_engine
from .trader import Parts, Trader

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
    warmup = max(loaded.strategy.lookback, WARMUP_BARS)
    missing = [name for name in loaded.features if name not in feed.features]
    maker = None
    if missing:
        if loaded.maker is None:
            raise ModelError(
                f"the model reads features {missing}, which the feed does not carry and "
                "its model card does not say how to make (retrain it, or trade it on a "
                "replay of its Dataset: trading.feed: replay)"
            )
        maker = loaded.maker
        warmup = max(warmup, loaded.strategy.lookback + maker.span)
    buffer = BarBuffer(
        symbols, capacity=max(2 * warmup, 256), features=loaded.features, maker=maker
    )
    return buffer, warmup
