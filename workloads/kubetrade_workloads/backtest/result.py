"""What a backtest returns, built the same way by both engine paths."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..market.history import FloatArray, History
from .benchmark import benchmark_returns
from .performance import Performance, summarize
from .settings import BacktestSettings

FILL_COLUMNS = ("timestamp", "symbol", "quantity", "price", "commission")


@dataclass(frozen=True)
class FillLog:
    """Fills as parallel arrays: the bar each filled on, and what filled."""

    bar: np.ndarray
    symbol: np.ndarray
    """Column index into the symbols."""
    quantity: FloatArray
    """Signed: negative sells."""
    price: FloatArray
    commission: FloatArray


@dataclass(frozen=True)
class BacktestResult:
    """Equity, positions, fills and metrics of one run, indexed by bar time (UTC).

    The metrics are computed on first access, so a caller that only wants the
    curves does not pay for them.
    """

    mode: str
    """"vectorized" or "event": which engine path produced it."""
    equity: pd.Series
    returns: pd.Series
    benchmark_returns: pd.Series
    positions: pd.DataFrame
    """Quantity held per symbol at each bar's close, after that bar's fills."""
    weights: pd.DataFrame
    """Weight in equity per symbol at each bar's close."""
    traded: pd.Series
    """Notional filled on each bar."""
    fills: pd.DataFrame
    settings: BacktestSettings
    refusals: tuple[tuple[str, str], ...] = field(default=())
    """(client order id, reason) of orders the risk gate refused."""

    @cached_property
    def metrics(self) -> Performance:
        """Every metric of the strategy's returns, against the benchmark."""
        return summarize(
            self.returns.to_numpy(),
            self.settings.periods_per_year,
            benchmark=self.benchmark_returns.to_numpy(),
            traded=self.traded.to_numpy(),
            equity=self.equity.to_numpy(),
            gross=np.abs(self.weights.to_numpy()).sum(axis=1),
        )

    @cached_property
    def benchmark(self) -> Performance:
        """The benchmark's own metrics."""
        return summarize(self.benchmark_returns.to_numpy(), self.settings.periods_per_year)

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """A JSON-ready summary; with `series`, the equity and benchmark curves too."""
        out: dict[str, Any] = {
            "mode": self.mode,
            "start": _iso(self.equity.index[0]) if len(self.equity) else None,
            "end": _iso(self.equity.index[-1]) if len(self.equity) else None,
            "symbols": list(self.positions.columns),
            "initialCash": self.settings.initial_cash,
            "periodsPerYear": self.settings.periods_per_year,
            "finalEquity": _num(float(self.equity.iloc[-1])) if len(self.equity) else None,
            "fills": len(self.fills),
            "riskRefusals": len(self.refusals),
            "metrics": self.metrics.to_dict(),
            "benchmark": {"kind": str(self.settings.benchmark), **self.benchmark.to_dict()},
        }
        if series:
            wealth = self.settings.initial_cash * np.cumprod(1.0 + self.benchmark_returns)
            out["series"] = {
                "timestamp": [_iso(t) for t in self.equity.index],
                "equity": [_num(v) for v in self.equity.to_numpy()],
                "benchmarkEquity": [_num(v) for v in np.asarray(wealth)],
            }
        return out


def _iso(stamp: Any) -> str:
    return str(pd.Timestamp(stamp).isoformat())


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def assemble(
    mode: str,
    history: History,
    equity: FloatArray,
    quantities: FloatArray,
    fills: FillLog,
    settings: BacktestSettings,
    refusals: tuple[tuple[str, str], ...] = (),
) -> BacktestResult:
    """Derive returns, weights, the benchmark and every metric from a run's raw arrays.

    `history` is the traded window (bars from `settings.start` on).
    """
    index = pd.DatetimeIndex(history.times).tz_localize("UTC")
    symbols = list(history.symbols)
    close = history.close
    # In place where it can be: on small VMs fresh memory costs more than the arithmetic.
    returns = np.empty_like(equity)
    returns[0], returns[1:] = settings.initial_cash, equity[:-1]  # the previous equity
    wiped = ~(returns > 0)
    np.divide(equity, returns, out=returns, where=~wiped)
    returns -= 1.0
    returns[wiped] = np.nan  # no return on nothing
    weights = np.multiply(quantities, close)
    positive = equity > 0
    np.divide(weights, equity[:, None], out=weights, where=positive[:, None])
    weights[~positive] = 0.0
    traded = np.zeros(len(equity))
    np.add.at(traded, fills.bar, np.abs(fills.quantity * fills.price))
    bench = benchmark_returns(history, settings.benchmark)
    fill_frame = pd.DataFrame(
        {
            "timestamp": index[fills.bar] if len(fills.bar) else pd.DatetimeIndex([], tz="UTC"),
            "symbol": np.asarray(symbols, dtype=object)[fills.symbol],
            "quantity": fills.quantity,
            "price": fills.price,
            "commission": fills.commission,
        },
        columns=list(FILL_COLUMNS),
    )
    # copy=False: the arrays are ours alone (pandas 3 copies by default).
    return BacktestResult(
        mode=mode,
        equity=pd.Series(equity, index=index, name="equity", copy=False),
        returns=pd.Series(returns, index=index, name="returns", copy=False),
        benchmark_returns=pd.Series(bench, index=index, name="benchmark", copy=False),
        positions=pd.DataFrame(quantities, index=index, columns=symbols, copy=False),
        weights=pd.DataFrame(weights, index=index, columns=symbols, copy=False),
        traded=pd.Series(traded, index=index, name="traded", copy=False),
        fills=fill_frame,
        settings=settings,
        refusals=refusals,
    )
