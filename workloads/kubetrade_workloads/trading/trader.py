"""The trader's bar step: the backtest's sequence, against a live venue.

Each bar, in the order the backtest engine meets them:

1. the bar joins the window; the venue moves to it (the simulator fills what
   is due at its open) and the router books every fill the venue reports;
2. the books are marked at the close, the day rolls if it changed, and the
   risk manager takes the bar (breakers, limits, the trading state);
3. unless HALTED, the strategy gets the window and the current weights; its
   targets, sized by the risk manager (`spec.risk.sizing`), become orders
   (sells first), each checked by the risk manager against the books as if
   the orders before it had filled, and by the market's hours; the survivors
   are written, then sent once;
4. the bar's equity, decision and risk events are stored together, which
   also moves the resume point past this bar.

A crash anywhere in a bar redoes that bar on restart: the same decisions give
the same client order ids, and the store refuses to send an id twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..market import rebalance
from ..market.history import FloatArray
from ..market.ports import PortfolioView
from ..market.strategy import Strategy, Weights, as_weights
from ..market.types import Order, Side, client_order_id
from ..monitoring.monitor import DriftMonitor
from ..risk.events import RiskEvent, TradingState
from ..risk.exposure import Exposure
from ..risk.manager import RiskManager
from .book import Book
from .brokers import TradingBroker
from .failpoints import Failpoints
from .feeds import Bar, BarBuffer
from .hours import MarketHours
from .model import ModelPick
from .orders import OrderRouter
from .reconcile import Reconciler
from .shadow import Shadow
from .snapshot import PositionView, Snapshot, iso_utc
from .store import SEQUENCE, BarClose, Purpose, TradeStore

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 2.0
"""Seconds between checkpoints of a SQLite store's write-ahead log, taken after a bar."""


@dataclass
class Decision:
    """What one bar led to."""

    time: dt.datetime
    targets: dict[str, float]
    orders: int = 0
    refused: int = 0
    closed_market: int = 0
    latency: float = 0.0
    state: str = TradingState.ACTIVE.value

    def summary(self) -> str:
        """One line for the status and the logs."""
        held = ", ".join(f"{s} {w:.2f}" for s, w in self.targets.items() if w) or "flat"
        extra = f", {self.refused} refused" if self.refused else ""
        extra += f", {self.closed_market} market closed" if self.closed_market else ""
        stamp = iso_utc(self.time)
        return f"{stamp}: {self.orders} orders{extra}; targets {held}"


@dataclass
class ModelInUse:
    """The model the trader trades now (`status.trading.model`)."""

    artifact_uri: str
    version: int | None = None
    since: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    bars: int = 0
    """Bars taken on this model since it was swapped in (or the trader started)."""
    refused: tuple[str, str] | None = None
    """The last model the operator picked that this trader would not trade (its URI
    and why), until a swap succeeds: the operator reads it to stop waiting."""

    def status(self) -> dict[str, object]:
        """The wire form."""
        refused = self.refused
        return {
            "version": self.version,
            "artifactUri": self.artifact_uri,
            "since": iso_utc(self.since),
            "bars": self.bars,
            "refused": {"artifactUri": refused[0], "reason": refused[1]} if refused else None,
        }


@dataclass
class Parts:
    """Everything a Trader stands on."""

    session_id: str
    strategy: Strategy
    risk: RiskManager
    broker: TradingBroker
    store: TradeStore
    book: Book
    router: OrderRouter
    hours: MarketHours
    buffer: BarBuffer
    allow_short: bool
    baseline: dict[str, float]
    failpoints: Failpoints = field(default_factory=Failpoints)
    monitor: DriftMonitor | None = None
    """Feature drift and performance decay of the model traded now (`status.trading.drift`);
    a swap of the model re-points it (`monitor.reset`)."""


class Trader:
    """One session's decisions, bar by bar."""

    def __init__(self, parts: Parts) -> None:
        self.p = parts
        self.symbols = parts.buffer.symbols
        self.previous: FloatArray | None = None
        self.last: Decision | None = None
        self.orders_today = 0
        self.reconciled: bool | None = None
        self.reconcile_message = ""
        self.flattening = False
        self.flat: bool | None = None
        self.on_events: Callable[[list[RiskEvent]], None] = lambda events: None
        self.on_new_day: Callable[[dt.date, Snapshot], None] = lambda day, snap: None
        self._checkpointed = time.monotonic()
        self.model = ModelInUse("")
        self.shadow: Shadow | None = None
        """The challenger in shadow (`status.challenger`), if the operator names one."""
        self._decided: FloatArray | None = None

    # -- start ------------------------------------------------------------------

    def start(self, warmup: list[Bar], previous_targets: dict[str, float] | None) -> None:
        """Warm up, settle what happened while down, reconcile with the venue."""
        p = self.p
        p.buffer.extend(warmup)
        if warmup:
            closes = pd.DataFrame([b.field("close") for b in warmup], columns=list(self.symbols))
            p.risk.warm_up(closes)
            p.book.mark(self._closes())
        if previous_targets is not None:
            self.previous = np.array([previous_targets.get(s, 0.0) for s in self.symbols])
        policy = p.router.policy
        check = Reconciler(
            p.router,
            p.broker,
            p.book,
            p.baseline,
            pause=policy.base_delay,
            max_pause=policy.max_delay,
        )
        self.reconciled, self.reconcile_message = check.run()
        if not self.reconciled:
            p.risk.halt(f"reconciliation failed: {self.reconcile_message}")
        if p.book.day is not None:
            start = dt.datetime.combine(p.book.day, dt.time(), dt.UTC)
            self.orders_today = p.store.orders_since(p.session_id, start)
        self.flush_events()

    # -- a bar ------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> Decision:
        """Take one bar: book fills, judge risk, decide, send, record."""
        p = self.p
        day = bar.time.date()
        if p.book.day is not None and p.book.day != day:
            self.on_new_day(p.book.day, self.snapshot())
        if p.book.roll_day(day):  # the day opens at the last close's equity
            self.orders_today = 0
        p.buffer.append(bar)
        if self.shadow is not None:
            self.shadow.observe(bar, p.buffer.last("close"))
        self._decided = None
        p.broker.advance(bar.time, self._venue_prices(bar))
        p.router.begin_bar(bar.time)
        p.router.sync(store_later=True)  # stored with the bar's acknowledgements
        p.book.mark(self._closes())
        view = p.book.view(bar.time)
        p.risk.on_bar(view)
        decision = Decision(bar.time, {}, state=p.risk.state.value)
        if self.flattening:
            decision.orders = self._flatten(bar.time)
        elif p.risk.state == TradingState.HALTED:
            p.router.cancel_open()  # HALTED takes no new decisions
        else:
            self._decide(bar, view, decision)
        # Decision latency: bar arrival to the venue's answer to the bar's last order
        # (or to the decision itself on a bar without orders).
        done = p.router.acknowledged_at or time.perf_counter()
        decision.latency = done - bar.received
        if self.shadow is not None and self._decided is not None:
            # After the bar's orders are out: the challenger is never on the latency path.
            self.shadow.decide(p.buffer, self._decided, self._finish)
        self.model.bars += 1
        p.router.save()  # the fills the bar's sync booked, if sending stored nothing
        if p.broker.settle():
            p.router.sync()  # a simulator filled at this close
        decision.state = p.risk.state.value
        self._close(bar, decision)
        if p.monitor is not None:  # after the bar's orders: never in the decision latency
            p.monitor.observe(p.buffer.window(p.monitor.lookback), p.book.equity())
        self.last = decision
        if time.monotonic() - self._checkpointed >= CHECKPOINT_EVERY:
            # After the bar's orders are answered and the bar is closed: the
            # log's fsync never sits between a bar and its orders.
            p.store.checkpoint()
            self._checkpointed = time.monotonic()
        return decision

    def _decide(self, bar: Bar, view: PortfolioView, decision: Decision) -> None:
        p = self.p
        closes = p.buffer.last("close")
        quantities = p.book.portfolio.quantities(self.symbols)
        equity = view.equity
        weights = rebalance.weights(quantities, closes, equity)
        raw = p.strategy.target_weights(p.buffer.window(p.strategy.lookback), weights)
        targets = self._finish(raw)
        self._decided = targets
        decision.targets = {s: float(w) for s, w in zip(self.symbols, targets, strict=True)}
        mask = rebalance.changed(targets, self.previous)
        planned = rebalance.plan_masked(mask, targets, quantities, equity, closes)
        orders = self._checked(planned, view, bar.time, decision)
        if orders:
            p.router.cancel_open({o.symbol for o in orders})  # stale orders of these symbols
            # A bar redone after a crash: its orders were counted at start already.
            self.orders_today += p.router.send(orders, bar.time, Purpose.REBALANCE)
        decision.orders = len(orders)
        self.previous = targets

    def _finish(self, raw: Weights) -> FloatArray:
        """A strategy's raw targets as weights the portfolio may hold."""
        p = self.p
        # spec.risk.sizing, by the code the backtest engine calls (PositionSizer).
        sized = p.risk.size(self.symbols, as_weights(raw, self.symbols))
        return rebalance.sanitize(sized, p.buffer.tradeable(), p.allow_short)

    # -- the champion ---------------------------------------------------------------

    def swap(self, strategy: Strategy, buffer: BarBuffer, pick: ModelPick) -> None:
        """Trade `strategy` from the next bar on (call between bars only): its targets
        re-target the positions through the risk manager like any other; orders in
        flight stay with the router."""
        self.p.strategy = strategy
        self.p.buffer = buffer
        self.model = ModelInUse(pick.artifact_uri, pick.version)

    def _checked(
        self,
        planned: list[tuple[int, float]],
        view: PortfolioView,
        time_: dt.datetime,
        decision: Decision,
    ) -> list[Order]:
        """Orders the market's hours and the risk manager let through, sized to fit."""
        p = self.p
        # Limits count what is on its way: the open orders as if filled, then the
        # bar's orders in turn, each as if the ones before it filled.
        exposure = Exposure(view)
        for record in p.router.open_orders:
            remaining = record.quantity - record.filled_quantity
            exposure.add(record.symbol, remaining if record.side == Side.BUY else -remaining)
        out: list[Order] = []
        for j, delta in planned:
            symbol = self.symbols[j]
            quantity = p.broker.round_quantity(symbol, abs(delta))
            if quantity <= 0:
                continue
            if not p.hours.is_open(symbol, time_):
                decision.closed_market += 1
                continue
            order = Order(
                client_order_id=client_order_id(
                    p.session_id, time_, symbol, SEQUENCE[Purpose.REBALANCE]
                ),
                symbol=symbol,
                side=Side.BUY if delta > 0 else Side.SELL,
                quantity=quantity,
                created_at=dt.datetime.now(dt.UTC),
            )
            allowed = p.risk.check(order, view, exposure).order
            if allowed is not None and allowed.quantity != quantity:
                fitted = p.broker.round_quantity(symbol, allowed.quantity)
                allowed = (
                    Order(allowed.client_order_id, symbol, allowed.side, fitted, allowed.created_at)
                    if fitted > 0
                    else None
                )
            if allowed is None:
                decision.refused += 1
                continue
            exposure.add(symbol, allowed.signed_quantity)
            out.append(allowed)
        return out

    # -- the kill switch ----------------------------------------------------------

    def _flatten(self, time_: dt.datetime) -> int:
        """Cancel open orders and close every position; `flat` once nothing is left."""
        p = self.p
        p.router.cancel_open()
        orders = []
        for symbol, position in sorted(p.book.portfolio.positions.items()):
            order = Order(
                client_order_id=client_order_id(
                    p.session_id, time_, symbol, SEQUENCE[Purpose.FLATTEN]
                ),
                symbol=symbol,
                side=Side.SELL if position.quantity > 0 else Side.BUY,
                quantity=abs(position.quantity),
                created_at=dt.datetime.now(dt.UTC),
            )
            allowed = p.risk.check(order, p.book.view(time_)).order
            if allowed is not None:
                orders.append(allowed)
        self.orders_today += p.router.send(orders, time_, Purpose.FLATTEN)
        p.router.sync()
        self.flat = not p.book.portfolio.positions and not p.router.open_orders
        return len(orders)

    def flatten_now(self) -> None:
        """Flatten between bars (suspend was set): orders are stamped with the last bar."""
        self.flattening = True
        if len(self.p.buffer):
            newest = pd.Timestamp(self.p.buffer.window(1).times[-1]).tz_localize("UTC")
            self._flatten(newest.to_pydatetime())

    # -- records and views ------------------------------------------------------------

    def _close(self, bar: Bar, decision: Decision) -> None:
        p = self.p
        self.p.failpoints.hit("before-close-bar")
        equity = p.book.update_peak()
        snap = self.snapshot()
        events = p.risk.drain_events()
        p.store.close_bar(
            p.session_id,
            BarClose(
                time=bar.time,
                equity=equity,
                cash=p.book.portfolio.cash,
                gross_exposure=sum(abs(v.market_value) for v in snap.positions) / equity
                if equity > 0
                else 0.0,
                drawdown=snap.drawdown,
                day_pnl=snap.day_pnl,
                total_pnl=snap.total_pnl,
                peak_equity=p.book.peak_equity,
                day=bar.time.date(),
                day_start_equity=p.book.day_start_equity,
                trading_state=decision.state,
                targets=decision.targets,
                orders=decision.orders,
                refused=decision.refused,
                latency_ms=decision.latency * 1000.0,
                detail=decision.summary(),
            ),
            events,
            dt.datetime.now(dt.UTC),
        )
        self.on_events(events)

    def flush_events(self) -> list[RiskEvent]:
        """Store and publish the risk events raised since the last bar closed."""
        events = self.p.risk.drain_events()
        if events:
            self.p.store.add_events(self.p.session_id, events)
            self.on_events(events)
        return events

    def snapshot(self) -> Snapshot:
        """The trader's state now."""
        p = self.p
        book = p.book
        marks = book.marks()
        equity = book.portfolio.equity(marks)
        positions = tuple(
            PositionView(
                s,
                pos.quantity,
                pos.quantity * marks[s],
                pos.quantity * (marks[s] - pos.average_price),
            )
            for s, pos in sorted(book.portfolio.positions.items())
        )
        peak = max(book.peak_equity, equity)
        bar_time = self.last.time if self.last else None
        return Snapshot(
            session_id=p.session_id,
            equity=equity,
            cash=book.portfolio.cash,
            day_pnl=equity - book.day_start_equity,
            total_pnl=equity - book.initial_cash,
            drawdown=1.0 - equity / peak if peak > 0 else 0.0,
            var=p.risk.var,
            positions=positions,
            orders_today=self.orders_today,
            last_decision=self.last.summary() if self.last else "",
            heartbeat=dt.datetime.now(dt.UTC),
            trading_state=p.risk.state.value,
            breaker_state=p.risk.breaker_state,
            state_reason="; ".join(p.risk.reasons),
            reconciled=self.reconciled,
            reconcile_message=self.reconcile_message,
            flat=self.flat,
            effective_limits=p.risk.effective.limits(),
            bar_time=bar_time,
            model=self.model.status(),
            shadow=self.shadow.report() if self.shadow is not None else None,
            drift=p.monitor.report() if p.monitor is not None else None,
        )

    def _closes(self) -> dict[str, float]:
        closes = self.p.buffer.last("close")
        seen = self.p.buffer.tradeable()
        return {s: float(c) for s, c, ok in zip(self.symbols, closes, seen, strict=True) if ok}

    def _venue_prices(self, bar: Bar) -> dict[str, tuple[float, ...]]:
        out = {}
        for j, symbol in enumerate(self.symbols):
            column = bar.values[:, j]
            if not np.isnan(column[3]):
                out[symbol] = tuple(float(v) for v in column)
        return out
