"""The risk manager: one gate between every strategy and its broker.

The backtest engine and the trader call it the same way:

    manager = RiskManager(config, clock)
    manager.warm_up(history)          # optional: prices to estimate risk from
    each bar:  manager.on_bar(view)   # marks, breakers, limits, state
    each bar:  targets = manager.size(symbols, targets)   # spec.risk.sizing
    each order: decision = manager.check(order, view)   # the RiskGate port
    (a decision's orders: exposure = Exposure(view); check(order, view, exposure);
     exposure.add(symbol, quantity) for each order sent, so the next is judged pro forma)
    each fill: manager.on_fill(fill)  # closed trades, for the loss breaker
    manager.drain_events()            # -> Kubernetes Events, audit trail

(`on_bar` and `on_fill` are the `RiskObserver` port, `warm_up` and `size`
the `PositionSizer` port.) A caller that only
calls `check` still gets a working manager: the first check at a new time
takes that view's prices as the bar's, so history and the market-drop breaker
advance, though only on bars that had orders.

Time comes from the view (`view.time`, the engine's simulated clock), else
from the clock given, else from the order's creation time, so cool-downs run
in simulated time in a backtest and in wall-clock time live. What the state
machine does:

- ACTIVE: orders are resized to fit the position-weight, gross-exposure and
  VaR limits, or refused when nothing fits; orders that shrink a position
  always pass.
- REDUCING (VaR or gross exposure over the limit, consecutive-losses breaker):
  only orders that shrink a position pass; one crossing zero is resized to
  close it.
- HALTED (daily loss, drawdown, market-drop breaker, a manual halt): only
  orders that flatten a position pass.

The daily-loss halt lasts until the next UTC midnight; the drawdown halt and a
manual halt last until a person acts (`resume`, or `update_config` with a
limit the book no longer breaches); breakers last their cool-down.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from ..config.base import to_camel
from ..config.risk import RiskConfig
from ..market.ports import Clock, PortfolioView, RiskDecision
from ..market.types import Fill, Order
from .events import RiskEvent, RiskEventKind, TradingState, Trigger
from .exposure import Exposure
from .history import PriceHistory
from .limits import crosses, shrinks
from .order_gate import OrderGate
from .profile import EffectiveRisk, resolve
from .sizing import Vector
from .trades import RoundTrips
from .triggers import Latch, TriggerBook

_BREAKERS = (Trigger.MARKET_DROP, Trigger.CONSECUTIVE_LOSSES)


def _next_midnight(now: dt.datetime) -> dt.datetime:
    """The next 00:00 UTC: after the US close and before the next open; crypto's day."""
    utc = now.astimezone(dt.UTC) if now.tzinfo else now
    start = dt.datetime.combine(utc.date() + dt.timedelta(days=1), dt.time(), utc.tzinfo)
    return start


class RiskManager:
    """Position sizing, limits, circuit breakers and the trading state (a `RiskGate`)."""

    def __init__(
        self,
        config: RiskConfig,
        clock: Clock | None = None,
        *,
        periods_per_year: float = 252.0,
        bars_per_day: float = 1.0,
        lookback: int = 60,
        min_history: int = 20,
        quantity_step: float = 0.0,
        max_events: int = 10_000,
    ) -> None:
        """`bars_per_day` scales per-bar VaR to the one-day VaR the limit is set in;
        `periods_per_year` annualises volatility for sizing; `quantity_step` rounds
        resized orders down to whole lots (0: fractional quantities)."""
        self._config = config
        self._risk = resolve(config)
        self._clock = clock
        self._history = PriceHistory(lookback)
        self._gate = OrderGate(
            self._history, bars_per_day, periods_per_year, min_history, quantity_step
        )
        self._triggers = TriggerBook()
        self._trades = RoundTrips()
        self._state = TradingState.ACTIVE
        # Both bounded: a backtest that never drains must not grow without end.
        self._pending: deque[RiskEvent] = deque(maxlen=max_events)
        self._events: deque[RiskEvent] = deque(maxlen=max_events)
        self._view: PortfolioView | None = None
        self._exposure: Exposure | None = None
        self._losses = 0
        self._var: float | None = None
        self._now: dt.datetime | None = None
        self._bar_time: dt.datetime | None = None
        self._explicit_bars = False
        self._min_step: dt.timedelta | None = None

    # -- what the trader shows -------------------------------------------------

    @property
    def state(self) -> TradingState:
        """The current trading state."""
        return self._state

    @property
    def reasons(self) -> list[str]:
        """Why the state is not ACTIVE, one line per active trigger."""
        return self._triggers.reasons()

    @property
    def breaker_state(self) -> str:
        """`ok`, or each tripped breaker and when its cool-down ends."""
        return self._triggers.breakers()

    @property
    def config(self) -> RiskConfig:
        """The risk config as given (explicit values and the profile's name)."""
        return self._config

    @property
    def effective(self) -> EffectiveRisk:
        """The settings in force: the profile merged with explicit values."""
        return self._risk

    @property
    def var(self) -> float | None:
        """One-day VaR of the holdings at the last check, as a fraction of equity."""
        return self._var

    @property
    def events(self) -> tuple[RiskEvent, ...]:
        """The most recent events, oldest first."""
        return tuple(self._events)

    def drain_events(self) -> list[RiskEvent]:
        """Events since the last drain, for the caller to publish and store."""
        out = list(self._pending)
        self._pending.clear()
        return out

    # -- what the engine feeds in ----------------------------------------------

    def warm_up(self, prices: pd.DataFrame) -> None:
        """Prime the price history from a wide frame (one row per bar, one column per symbol)."""
        for _, row in prices.tail(self._history.capacity).iterrows():
            self._history.record({str(k): float(v) for k, v in row.items() if pd.notna(v)})

    def on_bar(self, view: PortfolioView) -> None:
        """Take one bar's marks: update history, breakers, limits and the state."""
        self._explicit_bars = True
        self._tick(view)
        self._observe(view)
        self._evaluate(view)

    def _observe(self, view: PortfolioView) -> None:
        contiguous = self._explicit_bars or self._contiguous()
        self._bar_time = self._now
        self._history.record(view.prices)
        self._trades.sync(view.positions)
        moves = self._history.last_returns()
        if moves and contiguous:
            market = sum(moves.values()) / len(moves)
            if market <= -self._risk.market_drop:
                self._trip(
                    Trigger.MARKET_DROP,
                    TradingState.HALTED,
                    f"market fell {-market:.2%} in one bar (limit {self._risk.market_drop:.2%})",
                )

    def _contiguous(self) -> bool:
        """Without `on_bar`, whether this check's bar follows the last one observed.

        Bars without orders are never seen then; a move over several bars must
        not trip the one-bar market-drop breaker. The shortest step seen stands
        for one bar; weekends and holidays (up to 5 steps) still count as one.
        """
        if self._bar_time is None or self._now is None:
            return False
        step = self._now - self._bar_time
        if self._min_step is None or step < self._min_step:
            self._min_step = step
        return step <= 5 * self._min_step

    def on_fill(self, fill: Fill) -> None:
        """Book a fill; a trade it closes counts toward the consecutive-losses breaker."""
        self._tick(None, fill.filled_at)
        pnl = self._trades.apply(fill)
        if pnl is not None:
            self.record_trade(pnl)

    def record_trade(self, pnl: float) -> None:
        """Count one closed trade's profit (negative: a loss)."""
        if pnl > 0.0:
            self._losses = 0
        elif pnl < 0.0:
            self._losses += 1
            if self._losses >= self._risk.consecutive_losses:
                self._losses = 0
                self._trip(
                    Trigger.CONSECUTIVE_LOSSES,
                    TradingState.REDUCING,
                    f"{self._risk.consecutive_losses} losing trades in a row",
                )
        self._settle()

    def update_config(self, config: RiskConfig) -> None:
        """Apply edited limits at once (tightening in a crisis must not wait)."""
        self._tick()
        old, new = self._risk, resolve(config)
        self._config, self._risk = config, new
        changes = [
            f"{to_camel(k)} {v} -> {getattr(new, k)}"
            for k, v in asdict(old).items()
            if getattr(new, k) != v
        ]
        if not changes:
            return
        self._record(RiskEventKind.CONFIG_CHANGED, "; ".join(changes))
        # Re-time running cool-downs; let the limit latches be judged afresh.
        cooldown = dt.timedelta(seconds=new.cooldown_seconds)
        for trigger in _BREAKERS:
            latch = self._triggers.latches.get(trigger)
            if latch is not None:
                self._triggers.latches[trigger] = replace(latch, until=latch.since + cooldown)
        moved = [
            trigger
            for trigger, field in (
                (Trigger.DAILY_LOSS, "max_daily_loss"),
                (Trigger.DRAWDOWN, "max_drawdown"),
            )
            if getattr(old, field) != getattr(new, field)
        ]
        for latch in self._triggers.release(*moved):
            self._record(RiskEventKind.LIMIT_CLEARED, f"{latch.trigger.value}: limit changed")
        self._refresh()

    def halt(self, reason: str) -> None:
        """Halt by hand (kill switch, failed reconciliation); lasts until `resume`."""
        latch = Latch(Trigger.MANUAL, TradingState.HALTED, self._tick(), None, reason)
        if self._triggers.latch(latch):
            self._record(RiskEventKind.HALT_REQUESTED, reason)
        self._settle()

    def resume(self, reason: str = "resumed by hand") -> None:
        """Lift every latch and breaker; limits still breached latch again at once."""
        self._tick()
        self._triggers.release_all()
        self._losses = 0
        self._record(RiskEventKind.RESUMED, reason)
        self._refresh()

    # -- the gate ---------------------------------------------------------------

    def check(
        self, order: Order, view: PortfolioView, exposure: Exposure | None = None
    ) -> RiskDecision:
        """Judge one order before it reaches the broker: pass, resize or refuse.

        `exposure`: the holdings to judge it against when they differ from the
        view's, as for the second and later orders of one decision, which are
        judged as if the ones allowed before them had filled: the caller builds
        `Exposure(view)` once and books into it (`add`) each order it sends.
        """
        now = self._tick(view, order.created_at)
        if not self._explicit_bars and (self._bar_time is None or now > self._bar_time):
            self._observe(view)
        exposure = self._evaluate(view, exposure)
        current = exposure.quantity(order.symbol)
        if not (order.quantity > 0.0 and math.isfinite(order.quantity)):
            return self._refuse(order, f"invalid quantity {order.quantity}")
        if self._state == TradingState.HALTED:
            return self._flatten_only(order, current)
        if self._state == TradingState.REDUCING:
            return self._shrink_only(order, current)
        allowed, why = self._gate.fit(order, exposure, current, self._risk)
        self._take_notes()
        return self._decide(order, allowed, why)

    # -- sizing -------------------------------------------------------------------

    def size(self, symbols: Sequence[str], targets: Vector) -> Vector:
        """The strategy's targets sized by `spec.risk.sizing` (the `PositionSizer` port).

        Without a sizing method the targets are weights and pass as they are;
        with one, each is a signal in [-1, 1] sized by the method
        (`risk.sizing.sized_weights`), from the returns seen up to this bar.
        The backtest engine and the trader both call this after `on_bar`.
        """
        method = self._risk.sizing_method
        if method is None:
            return targets
        return self._gate.size(symbols, targets, self._risk, method)

    def target_weight(self, symbol: str, signal: float) -> float:
        """Signed target weight for one signal, by the configured sizing method."""
        return float(self.size([symbol], np.array([signal]))[0])

    def target_quantity(self, symbol: str, signal: float, view: PortfolioView) -> float:
        """Signed target position in units: the target weight at the view's price."""
        price = view.prices.get(symbol, 0.0)
        if price <= 0.0 or view.equity <= 0.0:
            return 0.0
        return self.target_weight(symbol, signal) * view.equity / price

    # -- internals ----------------------------------------------------------------

    def _flatten_only(self, order: Order, current: float) -> RiskDecision:
        delta = order.signed_quantity
        if current != 0.0 and delta * current < 0.0 and abs(delta) >= abs(current):
            return self._decide(order, abs(current), "HALTED: sized to flatten the position")
        why = "; ".join(self.reasons)
        return self._refuse(order, f"HALTED ({why}): only orders that flatten a position pass")

    def _shrink_only(self, order: Order, current: float) -> RiskDecision:
        delta = order.signed_quantity
        if shrinks(current, delta):
            return RiskDecision(order)
        if crosses(current, delta):
            return self._decide(order, abs(current), "REDUCING: sized to close, not reverse")
        why = "; ".join(self.reasons)
        return self._refuse(order, f"REDUCING ({why}): only orders that shrink a position pass")

    def _decide(self, order: Order, quantity: float, why: str) -> RiskDecision:
        if quantity >= order.quantity:
            return RiskDecision(order)
        if quantity <= 0.0:
            return self._refuse(order, why)
        detail = f"{order.symbol} {order.side} {order.quantity:g} -> {quantity:g}: {why}"
        self._record(RiskEventKind.ORDER_RESIZED, detail)
        return RiskDecision(replace(order, quantity=quantity), detail)

    def _refuse(self, order: Order, why: str) -> RiskDecision:
        detail = f"{order.symbol} {order.side} {order.quantity:g} refused: {why}"
        self._record(RiskEventKind.ORDER_REFUSED, detail)
        return RiskDecision(None, detail)

    def _tick(
        self, view: PortfolioView | None = None, fallback: dt.datetime | None = None
    ) -> dt.datetime:
        """Resolve the current time: the view's, the clock's, the caller's, the last one."""
        if view is not None and view.time is not None:
            now = view.time
        elif self._clock is not None:
            now = self._clock.now()
        else:
            now = fallback or self._now or dt.datetime.now(dt.UTC)
        self._now = now
        return now

    def _time(self) -> dt.datetime:
        return self._now if self._now is not None else self._tick()

    def _trip(self, trigger: Trigger, state: TradingState, detail: str) -> None:
        now = self._time()
        until = now + dt.timedelta(seconds=self._risk.cooldown_seconds)
        if self._triggers.latch(Latch(trigger, state, now, until, detail)):
            self._record(RiskEventKind.BREAKER_TRIPPED, f"{trigger.value}: {detail}")

    def _refresh(self) -> None:
        if self._view is not None:
            self._evaluate(self._view, self._exposure)
        else:
            self._expire(self._time())
            self._settle()

    def _expire(self, now: dt.datetime) -> None:
        for latch in self._triggers.expire(now):
            kind = (
                RiskEventKind.BREAKER_RESET
                if latch.trigger in _BREAKERS
                else RiskEventKind.LIMIT_CLEARED
            )
            self._record(kind, f"{latch.trigger.value}: lifted after {now - latch.since}")

    def _exposure_of(self, view: PortfolioView) -> Exposure:
        """The view's holdings as arrays, built once per view (a backtest judges a
        bar's orders against one view)."""
        if self._view is not view or self._exposure is None or self._exposure.booked:
            return Exposure(view)
        return self._exposure

    def _evaluate(self, view: PortfolioView, exposure: Exposure | None = None) -> Exposure:
        """Judge the state on `view` and `exposure` (the view's own holdings when
        None); the exposure judged."""
        exposure = exposure or self._exposure_of(view)
        self._view, self._exposure = view, exposure
        now = self._time()
        self._expire(now)
        self._losses_and_drawdown(view, now)
        self._var = self._gate.holdings_var(exposure, self._risk)
        self._levels(self._gate.levels(exposure, self._var, self._risk))
        self._settle()
        return exposure

    def _losses_and_drawdown(self, view: PortfolioView, now: dt.datetime) -> None:
        risk = self._risk
        day_loss = 1.0 - view.equity / view.day_start_equity if view.day_start_equity > 0 else 0.0
        if day_loss >= risk.max_daily_loss:
            detail = f"down {day_loss:.2%} on the day (limit {risk.max_daily_loss:.2%})"
            latch = Latch(Trigger.DAILY_LOSS, TradingState.HALTED, now, _next_midnight(now), detail)
            if self._triggers.latch(latch):
                self._record(RiskEventKind.LIMIT_BREACHED, f"{Trigger.DAILY_LOSS.value}: {detail}")
        peak = max(view.peak_equity, view.equity)
        drawdown = 1.0 - view.equity / peak if peak > 0 else 1.0
        if drawdown >= risk.max_drawdown:
            detail = f"drawdown {drawdown:.2%} (limit {risk.max_drawdown:.2%})"
            latch = Latch(Trigger.DRAWDOWN, TradingState.HALTED, now, None, detail)
            if self._triggers.latch(latch):
                self._record(RiskEventKind.LIMIT_BREACHED, f"{Trigger.DRAWDOWN.value}: {detail}")

    def _levels(self, levels: Iterable[tuple[Trigger, str | None]]) -> None:
        for trigger, detail in levels:
            change = self._triggers.level(trigger, TradingState.REDUCING, detail)
            if change is True:
                self._record(RiskEventKind.LIMIT_BREACHED, f"{trigger.value}: {detail}")
            elif change is False:
                self._record(RiskEventKind.LIMIT_CLEARED, f"{trigger.value}: back within limit")
        self._take_notes()

    def _take_notes(self) -> None:
        for note in self._gate.take_notes():
            self._record(RiskEventKind.VAR_UNAVAILABLE, note)

    def _settle(self) -> None:
        new = self._triggers.state()
        if new != self._state:
            old, self._state = self._state, new
            why = "; ".join(self.reasons) or "all limits clear"
            self._record(RiskEventKind.STATE_CHANGED, f"{old.value} -> {new.value}: {why}")

    def _record(self, kind: RiskEventKind, detail: str) -> None:
        event = RiskEvent(self._time(), kind, detail, self._state)
        self._pending.append(event)
        self._events.append(event)
