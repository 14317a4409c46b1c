"""The evaluation workload: backtest a trained model on its Dataset's held-out
test split (and walk-forward folds) against the benchmark, with the same
engine `trading-cli backtest` runs, and report the metrics on the Model."""

from __future__ import annotations

import json
import math
from typing import Any

import fsspec
import numpy as np

from .. import storage
from ..backtest import BacktestSettings, run_backtest
from ..backtest.dataset import Dataset, open_dataset
from ..backtest.metrics import periods_per_year
from ..backtest.walk_forward import walk_forward
from ..config import EvalJob
from ..market.history import History
from ..market.policy import PolicyStrategy

REPORT = "evaluation.json"


def dataset_folder(uri: str) -> str:
    """The dataset's folder, from its manifest URI or the folder itself."""
    return uri.removesuffix("/manifest.json")


def held_out(dataset: Dataset, lookback: int) -> tuple[History, int]:
    """The test split, preceded by enough earlier bars to fill the policy's window.

    Warm-up bars are history only: trading and metrics start at the test split.
    """
    splits = dataset.splits
    test = "test" if "test" in splits else splits[-1]
    history = History.from_frame(dataset.bars(splits[: splits.index(test) + 1]))
    first_test = dataset.bars([test])["timestamp"].min()
    start = int(np.searchsorted(history.times, np.datetime64(first_test.tz_localize(None), "ns")))
    if start < lookback:
        raise ValueError(
            f"the split before {test!r} is shorter than the model's lookback ({lookback} bars)"
        )
    return history, start


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    """Status fields carry numbers only; undefined metrics are left out."""
    return {
        k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and math.isfinite(v)
    }


def run(job: EvalJob) -> dict[str, Any]:
    """Backtest the model and return the Model status fields to report."""
    from ..training.policies import load_policy  # torch: only this workload needs it

    dataset = open_dataset(dataset_folder(job.dataset_uri))
    strategy = PolicyStrategy(load_policy(job.model_uri))
    history, start = held_out(dataset, strategy.lookback)
    strategy.require(history)  # names features the dataset lacks
    settings = BacktestSettings.from_evaluation(
        job.evaluation,
        periods_per_year=periods_per_year(dataset.interval, dataset.market),
        start=start,
        session=f"eval/{job.owner.namespace}/{job.owner.name}",
    )
    result = run_backtest(history, strategy, settings)
    report: dict[str, Any] = {"backtest": result.to_dict()}
    status = {
        "metrics": _finite(result.metrics.to_dict()),
        "benchmarkMetrics": _finite(result.benchmark.to_dict()),
    }
    folds = dataset.folds()
    if job.evaluation.walk_forward and folds:
        walk = walk_forward(
            History.from_frame(dataset.bars()), folds, strategy, settings.but(start=0)
        )
        report["walkForward"] = walk.to_dict()
        sharpe = report["walkForward"]["spread"]["sharpe"]
        status["metrics"].update(
            _finite({"foldSharpeMean": sharpe.get("mean"), "foldSharpeStd": sharpe.get("std")})
        )
    _publish(job.output_uri, report)
    return status


def _publish(uri: str, report: dict[str, Any]) -> None:
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    fs.makedirs(root, exist_ok=True)
    with fs.open(f"{root}/{REPORT}", "w") as fh:
        fh.write(json.dumps(report, indent=2, default=str))
