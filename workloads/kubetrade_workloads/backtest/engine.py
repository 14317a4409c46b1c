"""The event-driven backtest: the strategy, the risk gate and the broker meet on the ports.

Each bar, in the order a live trader meets them:

1. the clock moves to the bar; the broker fills what is due at its open
   (orders decided on the previous close);
2. the portfolio is marked at the close (a gate that is also a RiskObserver
   gets the marks, and every fill as it is booked), and the strategy gets the
   bars up to now (never a later one) and the current weights; a gate that is
   also a PositionSizer sizes its targets (`spec.risk.sizing`), as the trader's
   risk manager does, having been warmed on the bars before `start` as the
   trader is on its warm-up bars;
3. the rebalancing rule picks the symbols to trade; each order, sells first,
   passes the RiskGate, which may resize or refuse it, then goes to the broker;
4. with close fills, the broker fills them at this close.

Any Strategy and any RiskGate run here; `vectorized.run_vectorized` is the fast
path for strategies that can state all their targets up front.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..market.history import FloatArray, History
from ..market.portfolio import Portfolio
from ..market.ports import (
    PortfolioView,
    PositionSizer,
    RiskDecision,
    RiskGate,
    RiskObserver,
)
from ..market.replay import BarClock, BarFeed
from ..market.sim_broker import SimBroker
from ..market.strategy import Strategy, as_weights
from ..market.types import Fill, Order, Side, client_order_id
from . import rules
from .result import BacktestResult, FillLog, assemble
from .settings import BacktestSettings


class AllowAll:
    """A RiskGate that passes every order unchanged: the default without a risk manager."""

    def check(self, order: Order, view: PortfolioView) -> RiskDecision:
        """Allow `order` as it is."""
        return RiskDecision(order)


class _Run:
    """The state of one event-driven run."""

    def __init__(
        self, history: History, strategy: Strategy, settings: BacktestSettings, gate: RiskGate
    ) -> None:
        self.history, self.strategy, self.settings, self.gate = history, strategy, settings, gate
        self.symbols = history.symbols
        self.column = {s: j for j, s in enumerate(self.symbols)}
        self.clock = BarClock(history)
        self.feed = BarFeed(history, self.clock)
        self.portfolio = Portfolio(settings.initial_cash, allow_short=settings.costs.allow_short)
        self.broker = SimBroker(
            history,
            self.clock,
            settings.costs,
            self.portfolio,
            timing=settings.timing,
            max_participation=settings.max_participation,
        )
        self.observer = gate if isinstance(gate, RiskObserver) else None
        self.sizer = gate if isinstance(gate, PositionSizer) else None
        self.fills: list[tuple[int, Fill]] = []
        self.refusals: list[tuple[str, str]] = []
        self.peak = self.day_start = self.last_equity = settings.initial_cash
        self.day: np.datetime64 | None = None

    def match(self, bar: int) -> None:
        for fill in self.broker.match():
            self.fills.append((bar - self.settings.start, fill))
            if self.observer is not None:
                self.observer.on_fill(fill)

    def view(self, close: FloatArray, now: dt.datetime) -> PortfolioView:
        """The portfolio as a risk gate sees it at `now`."""
        prices = dict(zip(self.symbols, close.tolist(), strict=True))
        return self.portfolio.view(
            prices, peak_equity=self.peak, day_start_equity=self.day_start, time=now
        )

    def step(self, bar: int, previous: FloatArray | None) -> FloatArray:
        """Run one bar; return this bar's targets (the next bar's `previous`)."""
        self.clock.index = bar
        day = self.history.times[bar].astype("datetime64[D]")
        if day != self.day:
            self.day, self.day_start = day, self.last_equity
        self.match(bar)
        close = self.history.close[bar]
        quantities = self.portfolio.quantities(self.symbols)
        equity = rules.equity(self.portfolio.cash, (quantities * close).tolist())
        if self.observer is not None:
            self.observer.on_bar(self.view(close, self.clock.now()))
        current = rules.weights(quantities, close, equity)
        window = self.feed.window(self.strategy.lookback)
        raw = as_weights(self.strategy.target_weights(window, current), self.symbols)
        if self.sizer is not None:
            raw = self.sizer.size(self.symbols, raw)
        targets = rules.sanitize(raw, self.history.tradeable[bar], self.settings.costs.allow_short)
        mask = rules.trade_mask(
            self.settings.rebalance, bar - self.settings.start, targets, previous, current
        )
        orders = rules.plan_masked(mask, targets, quantities, equity, close)
        if orders:
            self.send(orders, close)
        self.match(bar)
        return targets

    def send(self, orders: list[tuple[int, float]], close: FloatArray) -> None:
        """Each order (sells first, as planned) through the risk gate to the broker."""
        now = self.clock.now()
        view = self.view(close, now)
        open_orders = self.broker.open_orders()
        for j, delta in orders:
            symbol = self.symbols[j]
            for stale in (o for o in open_orders if o.symbol == symbol):
                self.broker.cancel(stale.client_order_id)
            order = Order(
                client_order_id=client_order_id(self.settings.session, now, symbol),
                symbol=symbol,
                side=Side.BUY if delta > 0 else Side.SELL,
                quantity=abs(delta),
                created_at=now,
            )
            decision = self.gate.check(order, view)
            if decision.order is None:
                self.refusals.append((order.client_order_id, decision.reason))
                continue
            self.broker.submit(decision.order)

    def warm_up(self) -> None:
        """Give the sizer the closes before the first traded bar (NaN before a listing)."""
        first = self.settings.start
        if self.sizer is None or first == 0:
            return
        closes = np.where(self.history.tradeable[:first], self.history.close[:first], np.nan)
        self.sizer.warm_up(pd.DataFrame(closes, columns=list(self.symbols)))

    def mark(self, bar: int) -> tuple[float, FloatArray]:
        quantities = self.portfolio.quantities(self.symbols)
        equity = rules.equity(self.portfolio.cash, (quantities * self.history.close[bar]).tolist())
        self.last_equity = equity
        self.peak = max(self.peak, equity)
        return equity, quantities


def run_events(
    history: History,
    strategy: Strategy,
    settings: BacktestSettings | None = None,
    gate: RiskGate | None = None,
) -> BacktestResult:
    """Backtest `strategy` bar by bar through the ports, every order through `gate`."""
    settings = settings or BacktestSettings()
    run = _Run(history, strategy, settings, gate or AllowAll())
    run.warm_up()
    first, n = settings.start, len(history)
    equity = np.empty(n - first)
    quantities = np.empty((n - first, len(history.symbols)))
    previous: FloatArray | None = None
    for bar in range(first, n):
        previous = run.step(bar, previous)
        equity[bar - first], quantities[bar - first] = run.mark(bar)
    log = FillLog(
        bar=np.array([b for b, _ in run.fills], dtype=np.int64),
        symbol=np.array([run.column[f.symbol] for _, f in run.fills], dtype=np.int64),
        quantity=np.array([f.signed_quantity for _, f in run.fills], dtype=np.float64),
        price=np.array([f.price for _, f in run.fills], dtype=np.float64),
        commission=np.array([f.commission for _, f in run.fills], dtype=np.float64),
    )
    window = history.between(first, n)
    return assemble("event", window, equity, quantities, log, settings, tuple(run.refusals))
