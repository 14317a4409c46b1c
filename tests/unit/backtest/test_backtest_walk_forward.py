"""Walk-forward across a dataset's folds, and reading the dataset leniently."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.histories import publish, random_history
from kubetrade_workloads.backtest import BacktestSettings, run_backtest
from kubetrade_workloads.backtest.dataset import DatasetError, Fold, open_dataset
from kubetrade_workloads.backtest.metrics import Market
from kubetrade_workloads.backtest.walk_forward import WalkForwardError, spread, walk_forward
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.market.history import History
from kubetrade_workloads.risk.manager import RiskManager
from kubetrade_workloads.strategies import BuyAndHold, MovingAverageCrossover


def bars_frame(seed: int = 5, n: int = 200) -> pd.DataFrame:
    return random_history(seed, bars=n, symbols=2).frame()


def folds_for(frame: pd.DataFrame, count: int) -> list[dict[str, Any]]:
    """Folds in the shape the data pipeline writes: fold, train and test spans."""
    times = pd.DatetimeIndex(np.sort(frame["timestamp"].unique()))
    blocks = np.array_split(np.arange(len(times)), count + 1)
    return [
        {
            "fold": k,
            "train": {"start": times[0].isoformat(), "end": times[blocks[k][0] - 1].isoformat()},
            "test": {
                "start": times[blocks[k][0]].isoformat(),
                "end": times[blocks[k][-1]].isoformat(),
            },
        }
        for k in range(1, count + 1)
    ]


def test_a_dataset_reads_back_in_time_order_with_its_folds(tmp_path: Path) -> None:
    frame = bars_frame()
    publish(tmp_path, frame, {"interval": "1d", "folds": folds_for(frame, 3)})
    ds = open_dataset(str(tmp_path))
    assert ds.splits == ["train", "test"]
    assert ds.interval == "1d" and ds.market == Market.EQUITIES
    back = ds.bars()
    assert len(back) == len(frame)
    assert back.timestamp.is_monotonic_increasing
    folds = ds.folds()
    assert [f.name for f in folds] == ["fold-1", "fold-2", "fold-3"]
    assert folds[0].train_start == back.timestamp.min()
    assert len(ds.bars(["test"])) < len(back)


def test_a_dataset_without_folds_has_none(tmp_path: Path) -> None:
    publish(tmp_path, bars_frame(), {"source": {"type": "ccxt", "interval": "1h"}})
    ds = open_dataset(str(tmp_path))
    assert ds.folds() == []
    assert ds.interval == "1h" and ds.market == Market.CRYPTO


def test_older_fold_shapes_are_read_too(tmp_path: Path) -> None:
    folds = [{"name": "a", "testStart": "2024-01-10", "testEnd": "2024-02-01"}]
    publish(tmp_path, bars_frame(), {"walkForward": {"folds": folds}})
    [fold] = open_dataset(str(tmp_path)).folds()
    assert fold.name == "a"
    assert fold.test_start == pd.Timestamp("2024-01-10", tz="UTC")
    assert fold.train_start is None


def test_missing_datasets_and_splits_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no manifest.json"):
        open_dataset(str(tmp_path))
    publish(tmp_path, bars_frame(), {"folds": [{"fold": 1, "test": {"start": "2024-01-01"}}]})
    ds = open_dataset(str(tmp_path))
    with pytest.raises(DatasetError, match="no split"):
        ds.bars(["validation"])
    with pytest.raises(DatasetError, match="no test start and end"):
        ds.folds()


def test_walk_forward_measures_each_fold_and_the_spread(tmp_path: Path) -> None:
    frame = bars_frame(n=300)
    publish(tmp_path, frame, {"folds": folds_for(frame, 4)})
    ds = open_dataset(str(tmp_path))
    history = History.from_frame(ds.bars())
    strategy = MovingAverageCrossover(5, 30)
    out = walk_forward(history, ds.folds(), strategy, BacktestSettings())
    assert len(out.folds) == 4
    for fold in out.folds:
        equity = fold.result.equity
        assert equity.index[0] == fold.fold.test_start
        assert equity.index[-1] == fold.fold.test_end
        assert equity.iloc[0] == pytest.approx(100_000.0, rel=0.01)  # each fold starts afresh
    sharpes = [f.result.metrics.sharpe for f in out.folds]
    assert out.spread["sharpe"]["mean"] == pytest.approx(np.mean(sharpes))
    assert out.spread["sharpe"]["std"] == pytest.approx(np.std(sharpes, ddof=1))
    assert out.spread["sharpe"]["min"] == min(sharpes)
    assert out.spread["sharpe"]["folds"] == 4
    doc = out.to_dict()
    assert doc["folds"][0]["fold"] == "fold-1" and "sharpe" in doc["folds"][0]["metrics"]


def test_a_fold_reads_warm_up_bars_before_its_window() -> None:
    history = random_history(6, bars=120, symbols=1)
    times = pd.DatetimeIndex(history.times).tz_localize("UTC")
    fold = Fold("late", times[60], times[119])
    strategy = MovingAverageCrossover(5, 40)
    [result] = walk_forward(history, [fold], strategy).folds
    # Warm on the first test bar: the same targets as a backtest over all the bars.
    whole = run_backtest(history, strategy, BacktestSettings(start=60))
    pd.testing.assert_series_equal(result.result.equity, whole.equity)


def test_a_fold_per_model_and_a_fresh_gate_per_fold() -> None:
    history = random_history(7, bars=100, symbols=1)
    times = pd.DatetimeIndex(history.times).tz_localize("UTC")
    folds = [Fold("a", times[20], times[59]), Fold("b", times[60], times[99])]
    made: list[str] = []

    def model_for(fold: Fold) -> BuyAndHold:
        made.append(fold.name)
        return BuyAndHold()

    out = walk_forward(history, folds, model_for, gate=None)
    assert made == ["a", "b"] and len(out.folds) == 2


def test_a_folds_risk_gate_warms_on_the_bars_before_the_fold() -> None:
    # Volatility targeting sizes a fold's first bars from the returns before it,
    # as a trader does from its warm-up bars, not from the fixed fraction.
    history = random_history(9, bars=160, symbols=2)
    times = pd.DatetimeIndex(history.times).tz_localize("UTC")
    fold = Fold("late", times[100], times[159])
    config = RiskConfig.model_validate(
        {
            "limits": {"maxPositionWeight": 1.0, "maxGrossExposure": 3.0},
            "sizing": {"method": "volatility_target", "targetVolatility": 0.1},
        }
    )
    strategy = BuyAndHold()
    [result] = walk_forward(history, [fold], strategy, gate=lambda: RiskManager(config)).folds
    whole = run_backtest(history, strategy, BacktestSettings(start=100), RiskManager(config))
    pd.testing.assert_series_equal(result.result.equity, whole.equity)


def test_folds_without_bars_or_without_folds_are_errors() -> None:
    history = random_history(8, bars=30, symbols=1)
    with pytest.raises(WalkForwardError, match="no walk-forward folds"):
        walk_forward(history, [], BuyAndHold())
    empty = Fold("gone", pd.Timestamp("2030-01-01", tz="UTC"), pd.Timestamp("2030-02-01", tz="UTC"))
    with pytest.raises(WalkForwardError, match="gone: no bars"):
        walk_forward(history, [empty], BuyAndHold())


def test_spread_skips_undefined_values() -> None:
    history = random_history(9, bars=40, symbols=1)
    one = run_backtest(history, BuyAndHold()).metrics
    flat = run_backtest(history.between(0, 1), BuyAndHold()).metrics  # one bar: no Sharpe
    out = spread([one, flat])
    assert out["sharpe"]["folds"] == 1
    assert out["sharpe"]["std"] is None
    assert out["sharpe"]["mean"] == pytest.approx(one.sharpe)
    assert math.isnan(flat.sharpe)
