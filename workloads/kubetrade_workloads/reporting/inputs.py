"""What `trading-cli analyze` and `trading-cli report` read.

Two inputs are accepted:

1. A return series, CSV or Parquet, one row per bar:

   | column      | required | meaning                                          |
   |-------------|----------|--------------------------------------------------|
   | `timestamp` | yes      | bar time (ISO 8601; UTC when no offset is given)  |
   | `returns`   | one of   | simple return of the strategy over the bar        |
   | `equity`    | these    | account value at the bar's close (returns derive) |
   | `benchmark` | no       | simple return of the benchmark over the bar       |

2. The backtest's JSON, as `trading-cli backtest --out FILE` writes it
   (`BacktestResult.to_dict(series=True)` plus `walkForward`): its
   `series.timestamp`, `series.equity` and `series.benchmarkEquity` give the
   returns, `initialCash` the starting value, `metrics.periodsPerYear` the
   annualisation, and `walkForward.folds` (each `{"fold", "start", "end",
   "metrics"}`) the per-fold table.

Bars per year come from the input (the backtest JSON) or are inferred from the
spacing of the timestamps with the annualisation of `market.cadence`: 252
trading days for equities, 260 weekdays of 24 hours when Sunday bars open the
week (FX), 365 days when Saturday bars exist (crypto).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..backtest.metrics import Market, periods_per_year


class InputError(ValueError):
    """An input file the reports cannot use; the message says what is wrong."""


@dataclass(frozen=True)
class ReportData:
    """A strategy's returns (and optionally a benchmark's and per-fold results)."""

    returns: pd.Series
    periods_per_year: float
    benchmark: pd.Series | None = None
    folds: pd.DataFrame | None = None
    title: str = "Backtest report"
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    """Facts worth showing next to the numbers (mode, symbols, fills, ...)."""
    metrics: dict[str, Any] | None = None
    """The engine's own metrics (snake_case keys), when the input is a backtest result:
    they include what a return series cannot tell (turnover, exposure)."""
    benchmark_metrics: dict[str, Any] | None = None


def load(path: Path, *, periods: float | None = None, title: str | None = None) -> ReportData:
    """Read a returns file (CSV, Parquet) or a backtest JSON."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = from_backtest(json.loads(path.read_text(encoding="utf-8")), str(path))
    elif suffix in (".csv", ".parquet", ".pq"):
        frame = pd.read_parquet(path) if suffix != ".csv" else pd.read_csv(path)
        data = from_frame(frame, source=str(path))
    else:
        raise InputError(f"{path}: expected .csv, .parquet or .json")
    changes: dict[str, Any] = {}
    if periods is not None:
        changes["periods_per_year"] = periods
    if title is not None:
        changes["title"] = title
    return replace(data, **changes) if changes else data


def from_frame(frame: pd.DataFrame, *, source: str = "") -> ReportData:
    """A ReportData from a frame with timestamp and returns (or equity) columns."""
    if "timestamp" not in frame.columns:
        raise InputError(f"{source or 'input'}: needs a timestamp column")
    index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True), name="timestamp")
    if "returns" in frame.columns:
        returns = pd.Series(frame["returns"].to_numpy(dtype=np.float64), index=index)
    elif "equity" in frame.columns:
        equity = frame["equity"].to_numpy(dtype=np.float64)
        returns = pd.Series(np.concatenate([[0.0], equity[1:] / equity[:-1] - 1.0]), index=index)
    else:
        raise InputError(f"{source or 'input'}: needs a returns or an equity column")
    benchmark = None
    if "benchmark" in frame.columns:
        benchmark = pd.Series(frame["benchmark"].to_numpy(dtype=np.float64), index=index)
    return _checked(returns.rename("returns"), benchmark, infer_periods(index), source)


def from_backtest(doc: Any, path: str) -> ReportData:
    """A ReportData from a backtest's JSON document (`path`: where it came from, for
    messages and the report's source line)."""
    series = doc.get("series") if isinstance(doc, dict) else None
    if not isinstance(series, dict) or "equity" not in series or "timestamp" not in series:
        raise InputError(
            f"{path}: not a backtest result with series (write it with to_dict(series=True))"
        )
    stamps = pd.to_datetime(pd.Series(series["timestamp"]), utc=True)
    index = pd.DatetimeIndex(stamps, name="timestamp")
    start = float(doc.get("initialCash") or series["equity"][0])
    returns = _returns_of(series["equity"], start, index)
    benchmark = None
    if series.get("benchmarkEquity"):
        benchmark = _returns_of(series["benchmarkEquity"], start, index)
    metrics = doc.get("metrics") or {}
    periods = doc.get("periodsPerYear") or metrics.get("periodsPerYear")
    keys = ("strategy", "dataset", "mode", "fills", "riskRefusals")
    details = {k: doc[k] for k in keys if doc.get(k) is not None}
    data = _checked(
        returns.rename("returns"), benchmark, float(periods or infer_periods(index)), str(path)
    )
    folds = (doc.get("walkForward") or {}).get("folds") or doc.get("folds")
    return replace(
        data,
        folds=_folds(folds),
        details=details,
        metrics=_snake_keys(metrics),
        benchmark_metrics=_snake_keys(doc.get("benchmark")),
    )


def _snake_keys(raw: Any) -> dict[str, Any] | None:
    return {_snake(k): v for k, v in raw.items()} if isinstance(raw, dict) and raw else None


def _returns_of(values: list[float | None], start: float, index: pd.DatetimeIndex) -> pd.Series:
    equity = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    previous = np.concatenate([[start], equity[:-1]])
    return pd.Series(equity / previous - 1.0, index=index)


def _folds(raw: Any) -> pd.DataFrame | None:
    if not raw:
        return None
    rows = []
    for i, fold in enumerate(raw):
        metrics = fold.get("metrics") or {}
        rows.append(
            {
                "fold": fold.get("fold", f"fold-{i}"),
                "start": fold.get("start"),
                "end": fold.get("end"),
                **{_snake(k): v for k, v in metrics.items()},
            }
        )
    return pd.DataFrame(rows)


def _snake(name: str) -> str:
    # The engine writes camelCase (as status fields do); the tables use snake_case.
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _checked(
    returns: pd.Series, benchmark: pd.Series | None, periods: float, source: str
) -> ReportData:
    if returns.dropna().empty:
        raise InputError(f"{source or 'input'}: the return series is empty")
    if np.isinf(returns.to_numpy()).any():
        raise InputError(f"{source or 'input'}: the return series has infinite values")
    if not returns.index.is_monotonic_increasing:
        order = returns.index.argsort()
        returns = returns.iloc[order]
        benchmark = benchmark.iloc[order] if benchmark is not None else None
    return ReportData(returns, periods, benchmark, source=source)


def market_of_times(index: pd.DatetimeIndex) -> Market:
    """The market a bar clock belongs to (UTC labels): Saturday bars are crypto's;
    Sunday bars without Saturday ones are FX's (its week opens Sunday 17:00 New
    York); neither is equities (daily FX looks the same: pass `periods` there)."""
    days = index.day_of_week
    if bool((days == 5).any()):
        return Market.CRYPTO
    return Market.FX if bool((days == 6).any()) else Market.EQUITIES


def infer_periods(index: pd.DatetimeIndex) -> float:
    """Bars per year from the spacing of timestamps (daily equities when unsure)."""
    if len(index) < 3:
        return 252.0
    step = float(np.median((index[1:] - index[:-1]).total_seconds()))
    market = market_of_times(index)
    if step >= 20 * 3600:
        return periods_per_year("1d", market)
    for interval, seconds in (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600)):
        if math.isclose(step, seconds, rel_tol=0.2):
            return periods_per_year(interval, market)
    return periods_per_year("1d", market) * 86400 / step
