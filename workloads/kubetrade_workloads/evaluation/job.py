"""The evaluation workload: backtest a trained model on its Dataset's held-out
test split (and walk-forward folds) against the benchmark, with the same
engine `trading-cli backtest` runs, and report the metrics on the Model.

The Dataset must be the one the model card records (same manifest sha256), and
fold metrics say whether they are in-sample or out-of-sample (see `folds`).
The test split's per-bar returns (mean, std, bars) go to `expectation.json` in
the model folder: what the trader's decay monitor holds live returns against.

The output folder holds `evaluation.json` (every figure, at full precision) and
`report.html` (the self-contained report `trading-cli report` writes); the Model's
`status.reportUri` names the folder, so the console serves both per version."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import fsspec
import numpy as np

from .. import owner_status, storage
from ..backtest import BacktestSettings, run_backtest
from ..backtest.dataset import Dataset, open_dataset
from ..backtest.metrics import deflated_sharpe, periods_per_year
from ..backtest.walk_forward import walk_forward
from ..config import EvalJob
from ..config.evaluation import FoldSample
from ..envs.dataset import open_dataset as open_lineage
from ..market.history import History
from ..market.policy import PolicyStrategy
from ..monitoring.reference import Expectation, write_expectation
from ..training.artifacts import ModelCard, read_card
from . import folds

REPORT = "evaluation.json"
HTML_REPORT = "report.html"
log = logging.getLogger(__name__)


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


STATUS_DIGITS = 6
"""Significant digits of a metric on the Model's status: `kubectl get` prints
what is stored (Sharpe read `1.2847211425221563`), and the gates need no more.
The report keeps every digit."""


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    """Status fields carry numbers only, to STATUS_DIGITS; undefined metrics are left out."""
    return {
        k: float(f"{v:.{STATUS_DIGITS}g}")
        for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(v)
    }


class DatasetChecksumError(ValueError):
    """The Dataset is not the one the model was trained on (it was republished)."""


def check_lineage(card: ModelCard, dataset_uri: str) -> str:
    """The sha256 of the Dataset's manifest, which must be the one the model card
    records: scored on republished data, a model may be tested on bars it trained on."""
    found = open_lineage(dataset_uri).checksum
    recorded = card.dataset.checksum
    if recorded and found != recorded:
        raise DatasetChecksumError(
            f"dataset {dataset_uri} has checksum {found} but the model card records "
            f"{recorded}: the Dataset was republished after the model was trained; "
            "retrain the model on it, or point datasetRef at the data it was trained on"
        )
    return found


def deflated(returns: Any, card_metrics: Mapping[str, float]) -> float:
    """The Deflated Sharpe Ratio on the test window for the trials the model's search
    tried (`trials`, `trialSharpeVariance` on its card; one trial when it had none)."""
    trials = int(card_metrics.get("trials", 1))
    return deflated_sharpe(returns, trials, float(card_metrics.get("trialSharpeVariance", 0.0)))


def run(job: EvalJob) -> dict[str, Any]:
    """Backtest the model and return the Model status fields to report."""
    from ..training.policies import load_policy  # torch: only this workload needs it

    folder = dataset_folder(job.dataset_uri)
    card = read_card(job.model_uri)
    try:
        checksum = check_lineage(card, folder)
    except DatasetChecksumError:
        # The operator names both checksums on the Model: it reads the card's from here.
        owner_status.report(job.owner, {"datasetChecksum": card.dataset.checksum})
        raise
    dataset = open_dataset(folder)
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
    report: dict[str, Any] = {"backtest": result.to_dict(), "datasetChecksum": checksum}
    # The report keeps every figure the status shows, at full precision.
    dsr = deflated(result.returns.to_numpy(), card.metrics)
    report["backtest"]["metrics"]["deflatedSharpe"] = dsr if math.isfinite(dsr) else None
    metrics = _finite(report["backtest"]["metrics"])
    status: dict[str, Any] = {
        "metrics": metrics,
        "benchmarkMetrics": _finite(result.benchmark.to_dict()),
        "datasetChecksum": checksum,
    }
    if job.evaluation.walk_forward and dataset.folds():
        walk, sample = _walk_forward(job, card, dataset, strategy, settings.but(start=0))
        report["walkForward"] = walk
        sharpe = walk["spread"]["sharpe"]
        metrics.update(
            _finite({"foldSharpeMean": sharpe.get("mean"), "foldSharpeStd": sharpe.get("std")})
        )
        status["foldMetricsSample"] = sample.value
    expectation = Expectation.of(result.returns.to_numpy(), source="test")
    if expectation is not None:
        # Beside the card, where the trader's decay monitor reads it: the evaluation
        # is the model's out-of-sample word on what it earns per bar.
        report["expectation"] = expectation.to_wire()
        write_expectation(job.model_uri, expectation)
    pages = {REPORT: json.dumps(report, indent=2, default=str)}
    html = _html(job, result.to_dict(series=True) | {"walkForward": report.get("walkForward")})
    if html is not None:
        pages[HTML_REPORT] = html
    _publish(job.output_uri, pages)
    status["reportUri"] = job.output_uri
    return status


def _html(job: EvalJob, doc: dict[str, Any]) -> str | None:
    """The backtest as a self-contained HTML report (inline CSS, PNG charts), or None
    when it cannot be drawn: the figures the gates read are in the JSON either way."""
    from ..reporting.analysis import analyze
    from ..reporting.html import render_html
    from ..reporting.inputs import from_backtest

    try:
        data = from_backtest(doc, job.model_uri)
        title = f"Evaluation of {job.owner.namespace}/{job.owner.name}"
        return render_html(replace(data, title=title), analyze(data))
    except (ImportError, ValueError, ArithmeticError) as err:
        log.warning("no HTML report for %s: %s", job.model_uri, err)
        return None


def _walk_forward(
    job: EvalJob,
    card: ModelCard,
    dataset: Dataset,
    strategy: PolicyStrategy,
    settings: BacktestSettings,
) -> tuple[dict[str, Any], FoldSample]:
    """Every fold backtested, by a model of its own when `retrainFolds` asks for it;
    each fold and the whole labelled by whether its model saw the fold's test bars."""
    history = History.from_frame(dataset.bars())
    budget = job.evaluation.retrain_folds
    if budget is None:
        walk = walk_forward(history, dataset.folds(), strategy, settings)
        labels = {f.fold.name: folds.sample(card.trained_span, f.fold) for f in walk.folds}
    else:
        models = folds.FoldModels(job, card, dataset, budget)
        walk = walk_forward(history, dataset.folds(), models, settings)
        labels = {
            f.fold.name: folds.sample(models.cards[f.fold.name].trained_span, f.fold)
            for f in walk.folds
        }
    doc = walk.to_dict()
    for row in doc["folds"]:
        row["sample"] = labels[row["fold"]].value
    sample = folds.overall(labels.values())
    doc["sample"] = sample.value
    return doc, sample


def _publish(uri: str, pages: Mapping[str, str]) -> None:
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    fs.makedirs(root, exist_ok=True)
    for name, text in pages.items():
        storage.write_whole(fs, f"{root}/{name}", text.encode())
