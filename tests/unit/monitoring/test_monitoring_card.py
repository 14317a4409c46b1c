"""Where the monitor's references come from: the model card (training split) and the
evaluation's `expectation.json` (test split); cards written before either still load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kubetrade_testing import training
from kubetrade_testing.trading import local_runtime, trade_job
from kubetrade_workloads.config import EvalJob, EvaluationConfig
from kubetrade_workloads.envs.dataset import open_dataset
from kubetrade_workloads.evaluation.job import run as evaluate
from kubetrade_workloads.market.policy import PolicyStrategy
from kubetrade_workloads.monitoring.monitor import model_references
from kubetrade_workloads.monitoring.reference import (
    EXPECTATION,
    Expectation,
    model_features,
    read_expectation,
)
from kubetrade_workloads.trading.job import run
from kubetrade_workloads.training import artifacts, job
from kubetrade_workloads.training.policies import load_policy


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny PPO model, trained and evaluated once: its folder and dataset URI."""
    root = tmp_path_factory.mktemp("monitored")
    work = training.job(root, "PPO")
    job.run(work)
    evaluate(
        EvalJob(
            owner=training.LOCAL,
            dataset_uri=f"{work.dataset_uri}/manifest.json",
            model_uri=f"file://{root}/out",
            output_uri=f"file://{root}/evaluation",
            evaluation=EvaluationConfig(),
        )
    )
    return root, work.dataset_uri


def test_the_card_records_each_model_features_training_distribution(
    evaluated: tuple[Path, str],
) -> None:
    root, uri = evaluated
    card = artifacts.read_card(f"file://{root}/out")
    reference = card.drift_reference
    assert reference is not None and reference.split == "train"
    transform = load_policy(f"file://{root}/out").transform
    assert list(reference.features) == list(transform.names)  # derived: log_return, range...
    train = open_dataset(uri).history("train")
    values = model_features(train, transform)[transform.warmup :]
    for j, name in enumerate(transform.names):
        column = values[..., j].ravel()
        ref = reference.features[name]
        assert ref.count == int(np.isfinite(column).sum())
        np.testing.assert_allclose(
            ref.edges, np.quantile(column[np.isfinite(column)], np.arange(1, 10) / 10)
        )


def test_the_evaluation_writes_the_test_splits_per_bar_expectation(
    evaluated: tuple[Path, str],
) -> None:
    root, _ = evaluated
    expectation = read_expectation(f"file://{root}/out")
    report = json.loads((root / "evaluation" / "evaluation.json").read_text())
    metrics = report["backtest"]["metrics"]
    assert expectation is not None and expectation.source == "test"
    assert report["expectation"] == expectation.to_wire()
    # The same per-bar returns the evaluation's metrics are computed from.
    assert expectation.bars == metrics["bars"]
    annual = expectation.std * np.sqrt(metrics["periodsPerYear"])
    assert annual == pytest.approx(metrics["annualVolatility"], rel=1e-6)
    assert np.isfinite(expectation.mean) and expectation.std > 0


def test_the_trader_finds_both_through_the_strategy(evaluated: tuple[Path, str]) -> None:
    root, _ = evaluated
    uri = f"file://{root}/out"
    strategy = PolicyStrategy(load_policy(uri))
    transform, reference, expectation = model_references(strategy, uri)
    assert transform is not None and transform.names == tuple(reference.features)  # type: ignore[union-attr]
    assert expectation == read_expectation(uri)
    assert model_references(object(), "baseline:buy-and-hold") == (None, None, None)


def test_cards_and_folders_from_before_drift_still_load(
    evaluated: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = evaluated
    old = tmp_path / "old"
    shutil.copytree(root / "out", old)
    card = json.loads((old / "model_card.json").read_text())
    card.pop("driftReference")
    (old / "model_card.json").write_text(json.dumps(card))
    (old / EXPECTATION).unlink()
    loaded = artifacts.read_card(f"file://{old}")
    assert loaded.drift_reference is None
    assert (
        artifacts.read_card(f"file://{root}/out").model_copy(update={"drift_reference": None})
        == loaded
    )
    strategy = PolicyStrategy(load_policy(f"file://{old}"))
    transform, reference, expectation = model_references(strategy, f"file://{old}")
    assert transform is not None and reference is None and expectation is None
    # A newer card's extra fields, in the reference too, are ignored.
    card["driftReference"] = {"features": {}, "split": "train", "from": "the future"}
    (old / "model_card.json").write_text(json.dumps(card))
    assert artifacts.read_card(f"file://{old}").drift_reference is not None


def test_an_expectation_needs_two_finite_returns() -> None:
    assert Expectation.of(np.array([0.01, np.nan])) is None
    found = Expectation.of(np.array([0.01, np.nan, 0.03]))
    assert found is not None and (found.bars, found.mean) == (2, pytest.approx(0.02))


def test_a_trader_on_the_model_reports_drift_against_its_card(
    evaluated: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = evaluated
    uri = f"file://{root}/out"
    card = artifacts.read_card(uri)
    job = trade_job(tmp_path, symbols=card.symbols, drift={"window": 40}).model_copy(
        update={"model_uri": uri}
    )
    outcome = run(job, local_runtime(max_bars=60))
    assert (outcome.code, outcome.bars) == (0, 60), outcome.reason
    assert outcome.snapshot is not None
    drift = outcome.snapshot.status()["trading"]["drift"]
    assert drift["bars"] == 60 and set(drift["features"]) == set(card.drift_reference.features)  # type: ignore[union-attr]
    assert drift["maxPsi"] >= 0 and drift["decay"]["bars"] == 40
