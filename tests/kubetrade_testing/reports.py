"""Inputs for the report tests: return series and a real backtest result file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from kubetrade_workloads.backtest import BacktestSettings, run_backtest
from kubetrade_workloads.data.sources.synthetic import SyntheticSource
from kubetrade_workloads.market.history import History
from kubetrade_workloads.strategies import baseline


def returns_frame(bars: int = 600, seed: int = 11, benchmark: bool = True) -> pd.DataFrame:
    """Daily business-day returns of a strategy (and its benchmark), fat-tailed."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=bars, tz="UTC")
    market = rng.normal(0.0004, 0.011, bars)
    strategy = 0.6 * market + rng.standard_t(4, bars) * 0.006 + 0.0002
    frame = pd.DataFrame({"timestamp": index, "returns": strategy})
    if benchmark:
        frame["benchmark"] = market
    return frame


def write_returns(path: Path, **kwargs: int | bool) -> Path:
    """A returns CSV (or Parquet, by the suffix) at `path`."""
    frame = returns_frame(**kwargs)  # type: ignore[arg-type]
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def write_backtest(path: Path) -> dict[str, object]:
    """Run a real backtest and write it as `trading-cli backtest --out` does, with folds."""
    bars = SyntheticSource(seed=5).fetch(
        ["AAA", "BBB"], "1d", dt.date(2021, 1, 1), dt.date(2022, 7, 1)
    )
    result = run_backtest(
        History.from_frame(bars), baseline("momentum", window=20), BacktestSettings()
    )
    doc = result.to_dict(series=True)
    fold = {"fold": "fold-1", "start": doc["start"], "end": doc["end"], "metrics": doc["metrics"]}
    doc["walkForward"] = {"folds": [fold, {**fold, "fold": "fold-2"}], "spread": {}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return doc
