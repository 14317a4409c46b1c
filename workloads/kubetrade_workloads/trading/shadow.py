"""The challenger in shadow: its decisions on the champion's bars, marked, never sent.

While the operator names a challenger (`status.challenger`), each bar on which
the champion decides, the challenger decides too, on the same window, through
the same sizing and sanitising as the champion's targets (never the risk
manager's order checks: it sends nothing and changes no state). Both sets of
targets are then marked the same way, as hypothetical weights: held from one
close to the next, drifting with prices, paying the session's commission and
slippage rates (`market.costs.CostModel`) on the turnover of each rebalance.
So the comparison is like for like: the champion's series is not its realised
PnL (fills, refusals and timing differ from a paper book) but what its targets
would have earned on the same terms as the challenger's.

The two per-bar series feed the Sharpe-difference test
(`evaluation.compare.sharpe_difference`), reported as `status.trading.shadow`.
Shadow state lives in memory only: after a trader restart the challenger
starts again at 0 bars (the operator then waits `minShadowBars` again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..evaluation.compare import sharpe_difference
from ..market.history import FloatArray
from ..market.strategy import Strategy, Weights
from .feeds import Bar, BarBuffer
from .model import ModelPick

log = logging.getLogger(__name__)


class Series:
    """A growing float series kept in one array (no list-to-array copy per bar)."""

    def __init__(self, capacity: int = 256) -> None:
        self._values = np.empty(capacity)
        self._size = 0

    def append(self, value: float) -> None:
        """Add one value."""
        if self._size == len(self._values):
            self._values = np.concatenate([self._values, np.empty(len(self._values))])
        self._values[self._size] = value
        self._size += 1

    def values(self) -> FloatArray:
        """The values so far (a view)."""
        out: FloatArray = self._values[: self._size]
        return out

    def __len__(self) -> int:
        return self._size


class PaperBook:
    """Hypothetical weights, marked close to close: a per-bar return series from targets."""

    def __init__(self, symbols: int, cost_rate: float) -> None:
        self.weights: FloatArray = np.zeros(symbols)
        self.returns = Series()
        self.cost_rate = cost_rate
        self._cost = 0.0
        self._live = False

    def mark(self, moves: FloatArray) -> None:
        """Earn one bar's price moves; a return is recorded only after a rebalance."""
        gross = float(self.weights @ moves)
        if self._live:
            self.returns.append(gross - self._cost)
        growth = 1.0 + gross
        if growth > 0:  # weights drift with prices until the next rebalance
            self.weights = self.weights * (1.0 + moves) / growth
        self._live = False

    def rebalance(self, targets: FloatArray) -> None:
        """Move to `targets`, paying the cost rate on the turnover at the next mark."""
        self._cost = float(np.abs(targets - self.weights).sum()) * self.cost_rate
        self.weights = np.array(targets, dtype=np.float64)
        self._live = True


class Shadow:
    """One challenger beside the champion; `report` is `status.trading.shadow`."""

    def __init__(
        self,
        pick: ModelPick,
        strategy: Strategy | None,
        buffer: BarBuffer | None,
        *,
        symbols: int,
        cost_rate: float,
        periods_per_year: float,
        error: str = "",
    ) -> None:
        self.pick = pick
        self.strategy = strategy
        self.buffer = buffer
        """The challenger's own bars (its features made its way); None: it reads the trader's."""
        self.challenger = PaperBook(symbols, cost_rate)
        self.champion = PaperBook(symbols, cost_rate)
        self.periods_per_year = periods_per_year
        self.error = error
        self._closes: FloatArray | None = None
        self._report: dict[str, Any] | None = None

    @property
    def bars(self) -> int:
        """Paired returns so far: bars on which both decided and the next close came."""
        return len(self.challenger.returns)

    def observe(self, bar: Bar, closes: FloatArray) -> None:
        """Take a bar the trader took: mark both books to its closes."""
        if self.error:
            return
        if self.buffer is not None:
            self.buffer.append(bar)
        if self._closes is not None:
            before = self._closes
            ok = (before > 0) & (closes > 0)
            moves = np.where(ok, closes / np.where(ok, before, 1.0) - 1.0, 0.0)
            self.challenger.mark(moves)
            self.champion.mark(moves)
            self._report = None
        self._closes = closes.copy()

    def decide(
        self,
        trader_buffer: BarBuffer,
        champion: FloatArray,
        finish: Callable[[Weights], FloatArray],
    ) -> None:
        """The challenger decides on this bar's window; both books take their targets.

        `finish` sizes and sanitises raw targets exactly as the champion's were.
        A challenger that fails is reported (`error`) and stops shadowing; it never
        stops the champion.
        """
        if self.error or self.strategy is None:
            return
        buffer = self.buffer if self.buffer is not None else trader_buffer
        try:
            raw = self.strategy.target_weights(
                buffer.window(self.strategy.lookback), self.challenger.weights
            )
            targets = finish(raw)
        except Exception as err:  # noqa: BLE001 - whatever it raises, the champion trades on
            self.error = f"the challenger failed and stopped shadowing: {type(err).__name__}: {err}"
            log.warning("%s", self.error)
            self._report = None
            return
        self.challenger.rebalance(targets)
        self.champion.rebalance(champion)

    def report(self) -> dict[str, Any]:
        """`status.trading.shadow`: the challenger's hypothetical results against the
        champion's on the same bars (no statistics without a verdict, or on an error)."""
        if self._report is None:
            out: dict[str, Any] = {
                "version": self.pick.version,
                "artifactUri": self.pick.artifact_uri,
                "bars": self.bars,
                "sharpe": None,
                "championSharpe": None,
                "sharpeDiff": None,
                "zScore": None,
                "pValue": None,
                "error": self.error or None,
            }
            found = None
            if not self.error:
                found = sharpe_difference(
                    self.challenger.returns.values(),
                    self.champion.returns.values(),
                    self.periods_per_year,
                )
            if found is not None:
                out["sharpe"] = round(found.sharpe, 4)
                out["championSharpe"] = round(found.champion_sharpe, 4)
                out["sharpeDiff"] = round(found.sharpe_diff, 4)
                out["zScore"] = round(found.z_score, 4)
                out["pValue"] = float(f"{found.p_value:.4g}")
            self._report = out
        return self._report
