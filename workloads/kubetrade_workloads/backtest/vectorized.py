"""The vectorised backtest: for strategies that state every bar's targets up front.

Holdings change only on bars where the rebalancing rule fires, so the loop runs
over those events, not over bars: each event sizes its orders on the equity of
that moment with the same `rules` and cost model as the event-driven engine,
and everything between events (marking, weights, returns) is array arithmetic
over all bars at once. It gives the same result as `engine.run_events` on the
same inputs (the tests check it), without a risk gate and without volume caps,
which need the bar-by-bar path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ..market.costs import CostModel
from ..market.history import FloatArray, History
from ..market.sim_broker import FillTiming
from ..market.strategy import StrategyError, VectorStrategy
from . import rules
from .result import BacktestResult, FillLog, assemble
from .settings import BacktestSettings, RebalanceMode

_SCAN = 256
"""Bars the threshold rule looks ahead at a time (doubling while nothing fires)."""


class _Book:
    """Cash and quantities while the loop runs; the fills and cash after each fill bar."""

    def __init__(self, cash: float, symbols: int) -> None:
        self.cash = cash
        self.quantities = [0.0] * symbols
        self.held: set[int] = set()
        self.fills: list[tuple[int, int, float, float, float]] = []
        self.cash_after: list[tuple[int, float]] = []

    def equity(self, close: FloatArray) -> float:
        """Marked at one bar's closes (`rules.equity`: the engine's bits)."""
        q = self.quantities
        return rules.equity(self.cash, [q[j] * close[j] for j in self.held])

    def fill(self, bar: int, column: int, delta: float, price: float, fee: float) -> None:
        # The same arithmetic, in the same order, as Portfolio.apply.
        self.cash -= delta * price + fee
        quantity = self.quantities[column] + delta
        self.quantities[column] = quantity
        if quantity == 0:
            self.held.discard(column)
        else:
            self.held.add(column)
        self.fills.append((bar, column, delta, price, fee))

    def curves(self, close: FloatArray, initial: float) -> tuple[FloatArray, FloatArray, FillLog]:
        """Equity and quantities on every bar (holdings constant between fills), and the fills."""
        n, k = close.shape
        table = np.array(self.fills, dtype=np.float64).reshape(-1, 5)
        log = FillLog(
            bar=table[:, 0].astype(np.int64),
            symbol=table[:, 1].astype(np.int64),
            quantity=table[:, 2].copy(),
            price=table[:, 3].copy(),
            commission=table[:, 4].copy(),
        )
        # One fill per symbol and bar, so a running sum adds each delta exactly as
        # the loop did (adding the zeros in between changes no bit). In place:
        # fresh memory costs more than the arithmetic on small VMs.
        held = np.zeros((n, k))
        held[log.bar, log.symbol] = log.quantity
        np.cumsum(held, axis=0, out=held)
        equity = np.einsum("ij,ij->i", held, close)
        cash = np.full(n, initial)
        if self.cash_after:
            bars, values = zip(*self.cash_after, strict=True)
            lengths = np.diff(np.append(np.array(bars, dtype=np.int64), n))
            cash[bars[0] :] = np.repeat(np.array(values), lengths)
        equity += cash
        return equity, held, log


def target_matrix(
    history: History, strategy: VectorStrategy, settings: BacktestSettings
) -> FloatArray:
    """The strategy's targets for the traded bars, made tradeable (see `rules.sanitize`)."""
    raw = np.asarray(strategy.weight_matrix(history), dtype=np.float64)
    if raw.shape != history.close.shape:
        raise StrategyError(f"weight_matrix has shape {raw.shape}, expected {history.close.shape}")
    first = settings.start
    if not np.isfinite(raw[first:]).all():
        bar = int(np.flatnonzero(~np.isfinite(raw[first:]).all(axis=1))[0]) + first
        raise StrategyError(f"non-finite target weights at bar {bar} ({history.times[bar]})")
    return rules.sanitize(raw[first:], history.tradeable[first:], settings.costs.allow_short)


def _fired(targets: FloatArray, settings: BacktestSettings) -> tuple[np.ndarray, np.ndarray]:
    """(bar, column) pairs the on-change or periodic rule trades, in bar order."""
    n, k = targets.shape
    if settings.rebalance.mode == RebalanceMode.PERIODIC:
        bars = np.arange(0, n, settings.rebalance.every)
        return np.repeat(bars, k), np.tile(np.arange(k), len(bars))
    changed = np.ones((n, k), dtype=bool)
    changed[1:] = targets[1:] != targets[:-1]
    rows, cols = np.nonzero(changed)
    return rows, cols


def _next_drift(
    book: _Book, targets: FloatArray, close: FloatArray, start: int, threshold: float
) -> int:
    """The first bar from `start` where a weight may have drifted past the threshold.

    A screen over chunks of bars (n if none fires); the caller decides with the
    exact per-bar arithmetic of `rules`.
    """
    n = len(close)
    size = _SCAN
    held = np.asarray(book.quantities)
    while start < n:
        stop = min(n, start + size)
        value = held * close[start:stop]
        equity = book.cash + value.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            current = np.where(equity[:, None] > 0, value / equity[:, None], 0.0)
        fired = (np.abs(targets[start:stop] - current) > threshold).any(axis=1)
        hits = np.flatnonzero(fired)
        if hits.size:
            return start + int(hits[0])
        start, size = stop, size * 2
    return n


class _Event(NamedTuple):
    """One bar where the rule fires: the symbols it trades and their numbers, as floats."""

    bar: int
    columns: list[int]
    targets: list[float]
    prices: list[float]
    """Closes of the decision bar."""
    reference: list[float]
    """Prices of the fill bar the fills start from (its open, or the close)."""
    volume: list[float]


def _trade(book: _Book, event: _Event, close: FloatArray, offset: int, costs: CostModel) -> None:
    """Size one event's orders on the equity of its decision bar and book their fills."""
    equity = book.equity(close[event.bar])
    orders = rules.plan(event.columns, event.targets, event.prices, book.quantities, equity)
    fill_bar = event.bar + offset
    for k, delta in orders:
        price = costs.fill_price(delta, event.reference[k], event.volume[k])
        book.fill(fill_bar, event.columns[k], delta, price, costs.commission(delta, price))
    if orders:
        book.cash_after.append((fill_bar, book.cash))


def _events(
    rows: np.ndarray,
    cols: np.ndarray,
    targets: FloatArray,
    arrays: tuple[FloatArray, FloatArray, FloatArray],
    offset: int,
) -> Iterator[_Event]:
    """Events with their numbers gathered in a few array operations, not per symbol."""
    close, reference, volume = arrays
    keep = rows + offset < len(close)  # decided on the last close: nothing left to fill it
    rows, cols = rows[keep], cols[keep]
    if not rows.size:
        return
    cuts = (np.flatnonzero(np.diff(rows)) + 1).tolist()
    starts, stops = [0, *cuts], [*cuts, len(rows)]
    fills = rows + offset
    columns = cols.tolist()
    numbers = (
        targets[rows, cols].tolist(),
        close[rows, cols].tolist(),
        reference[fills, cols].tolist(),
        volume[fills, cols].tolist(),
    )
    wanted, prices, start_prices, volumes = numbers
    for bar, a, b in zip(rows[starts].tolist(), starts, stops, strict=True):
        yield _Event(bar, columns[a:b], wanted[a:b], prices[a:b], start_prices[a:b], volumes[a:b])


def _by_threshold(
    book: _Book,
    targets: FloatArray,
    arrays: tuple[FloatArray, FloatArray, FloatArray],
    offset: int,
    threshold: float,
    costs: CostModel,
) -> None:
    """Events found as the holdings drift: each decided with the exact arithmetic."""
    close = arrays[0]
    bar = _next_drift(book, targets, close, 0, threshold)
    while bar + offset < len(close):
        marked = book.equity(close[bar])
        value = np.asarray(book.quantities) * close[bar]
        current = value / marked if marked > 0 else np.zeros_like(value)
        drifted = np.flatnonzero(np.abs(targets[bar] - current) > threshold)
        rows = np.full(len(drifted), bar)
        for event in _events(rows, drifted, targets, arrays, offset):
            _trade(book, event, close, offset, costs)
        bar = _next_drift(book, targets, close, bar + 1, threshold)


def run_vectorized(
    history: History, strategy: VectorStrategy, settings: BacktestSettings | None = None
) -> BacktestResult:
    """Backtest a strategy from its whole target matrix at once."""
    settings = settings or BacktestSettings()
    if settings.max_participation is not None:
        raise ValueError("volume caps need the event-driven engine (run_events)")
    targets = target_matrix(history, strategy, settings)
    window = history.between(settings.start, len(history))
    close = window.close
    reference = window.open if settings.timing == FillTiming.NEXT_OPEN else close
    arrays = (close, reference, window.volume)
    book = _Book(settings.initial_cash, close.shape[1])
    offset = (
        1 if settings.timing == FillTiming.NEXT_OPEN else 0
    )  # orders of the last bar never fill
    rule = settings.rebalance
    if rule.mode == RebalanceMode.THRESHOLD:
        _by_threshold(book, targets, arrays, offset, rule.threshold, settings.costs)
    else:
        rows, cols = _fired(targets, settings)
        for event in _events(rows, cols, targets, arrays, offset):
            _trade(book, event, close, offset, settings.costs)
    equity, quantities, log = book.curves(close, settings.initial_cash)
    return assemble("vectorized", window, equity, quantities, log, settings)
