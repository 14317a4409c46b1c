"""The evaluation workload: fold metrics labelled in- or out-of-sample, folds retrained on
their own train block, and a model refused on a Dataset other than the one it trained on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from kubetrade_operator.api.model import ModelStatus
from kubetrade_operator.cli.main import app
from kubetrade_testing import markets, training
from kubetrade_workloads.__main__ import main
from kubetrade_workloads.backtest.dataset import Fold
from kubetrade_workloads.backtest.dataset import open_dataset as open_bars
from kubetrade_workloads.config import EvalJob, EvaluationConfig
from kubetrade_workloads.config.data import WalkForwardConfig
from kubetrade_workloads.config.evaluation import FoldRetraining, FoldSample
from kubetrade_workloads.data.splits import walk_forward
from kubetrade_workloads.envs.dataset import open_dataset
from kubetrade_workloads.evaluation import folds
from kubetrade_workloads.evaluation.job import HTML_REPORT, REPORT, DatasetChecksumError, run
from kubetrade_workloads.training import artifacts, job
from kubetrade_workloads.training.artifacts import TrainedSpan

N = 300  # 240 bars of train + validation: three folds of 60, room for window and episode


def _dataset(root: Path, seed: int = 0) -> str:
    """A tiny dataset whose folds cut train + validation, as the data pipeline writes them."""
    frame = markets.bars(n=N, seed=seed)
    seen = frame["timestamp"].drop_duplicates().sort_values()
    seen = seen[seen < seen.iloc[int(N * 0.8)]]
    cuts = walk_forward(pd.Series(seen), WalkForwardConfig(folds=3), embargo=2)
    return markets.dataset(root, n=N, seed=seed, extra={"folds": [f.as_dict() for f in cuts]})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One tiny PPO model, trained once for every test here: its folder and dataset URI."""
    root = tmp_path_factory.mktemp("evaluation")
    uri = _dataset(root / "dataset")
    job.run(training.job(root, "PPO", dataset=uri))
    return root, uri


def _eval(root: Path, uri: str, name: str, **evaluation: Any) -> EvalJob:
    return EvalJob(
        owner=training.LOCAL,
        dataset_uri=f"{uri}/manifest.json",
        model_uri=f"file://{root}/out",
        output_uri=f"file://{root}/{name}",
        evaluation=EvaluationConfig.model_validate(evaluation),
    )


def _report(root: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((root / name / "evaluation.json").read_text())
    return doc


def test_the_card_records_what_the_model_saw(trained: tuple[Path, str]) -> None:
    root, uri = trained
    card = artifacts.read_card(f"file://{root}/out")
    splits = open_dataset(uri).manifest["splits"]
    assert card.trained_span == TrainedSpan(
        start=splits["train"]["start"], end=splits["validation"]["end"]
    )


def test_the_published_models_folds_are_labelled_in_sample(trained: tuple[Path, str]) -> None:
    root, uri = trained
    status = run(_eval(root, uri, "eval-in"))
    assert status["foldMetricsSample"] == "in-sample"
    assert "foldSharpeMean" in status["metrics"]
    doc = _report(root, "eval-in")["walkForward"]
    assert doc["sample"] == "in-sample"
    assert [f["sample"] for f in doc["folds"]] == ["in-sample"] * 3
    assert not (root / "eval-in" / "folds").exists()  # nothing retrained


def test_retrained_folds_learn_only_before_their_test_block(trained: tuple[Path, str]) -> None:
    root, uri = trained
    budget = {"retrainFolds": {"totalTimesteps": 64, "epochs": 1}}
    status = run(_eval(root, uri, "eval-out", **budget))
    assert status["foldMetricsSample"] == "out-of-sample"
    doc = _report(root, "eval-out")["walkForward"]
    assert [f["sample"] for f in doc["folds"]] == ["out-of-sample"] * 3
    for fold in open_bars(uri).folds():
        where = root / "eval-out" / "folds" / fold.name
        card = artifacts.read_card(f"file://{where}/model")
        assert card.algorithm == "PPO" and card.training.total_timesteps == 64
        # What the fold's model trained on ends before the block it is scored on.
        assert card.trained_span is not None
        assert pd.Timestamp(card.trained_span.end) < fold.test_start
        learned = open_bars(str(where / "dataset")).bars()
        assert fold.train_start is not None and fold.train_end is not None
        assert learned["timestamp"].min() >= fold.train_start
        assert learned["timestamp"].max() <= fold.train_end < fold.test_start


def test_the_cli_labels_a_models_folds_in_sample(trained: tuple[Path, str]) -> None:
    root, uri = trained
    model, data = str(root / "out"), uri.removeprefix("file://")
    args = ["backtest", "--dataset", data, "--model", model, "--split", "test"]
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 0, result.output
    walk = json.loads(result.output)["walkForward"]
    assert walk["sample"] == "in-sample" and {f["sample"] for f in walk["folds"]} == {"in-sample"}
    table = CliRunner().invoke(app, args)
    assert "in-sample: the model trained on these folds" in table.output


def test_the_evaluation_reports_the_checksum_it_checked(trained: tuple[Path, str]) -> None:
    root, uri = trained
    status = run(_eval(root, uri, "eval-plain", walkForward=False))
    card = artifacts.read_card(f"file://{root}/out")
    assert status["datasetChecksum"] == card.dataset.checksum == open_dataset(uri).checksum
    assert "foldMetricsSample" not in status and "foldSharpeMean" not in status["metrics"]
    # kubectl prints status numbers as stored: 6 significant digits; the report has all.
    report = json.loads(Path(root, "eval-plain", REPORT).read_text())
    for name, value in status["metrics"].items():
        assert value == float(f"{value:.6g}"), (name, value)
        full = report["backtest"]["metrics"][name]
        assert value == pytest.approx(full, rel=1e-5), (name, value, full)


def test_the_evaluation_publishes_an_html_report_its_status_names(
    trained: tuple[Path, str],
) -> None:
    root, uri = trained
    status = run(_eval(root, uri, "eval-html", walkForward=False))
    assert status["reportUri"] == f"file://{root}/eval-html"
    page = Path(root, "eval-html", HTML_REPORT).read_text()
    assert page.startswith("<!DOCTYPE html>") and "Evaluation of " in page
    assert "<script" not in page and 'src="data:image/png;base64,' in page  # self-contained
    ModelStatus.model_validate({"reportUri": status["reportUri"]})


def test_a_republished_dataset_is_refused_naming_both_checksums(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = markets.dataset(tmp_path / "dataset", n=160)
    job.run(training.job(tmp_path, "A2C", dataset=uri))
    trained_on = open_dataset(uri).checksum
    markets.dataset(tmp_path / "dataset", n=160, seed=1)  # republished under the model
    now = open_dataset(uri).checksum
    work = _eval(tmp_path, uri, "eval")
    with pytest.raises(DatasetChecksumError) as err:
        run(work)
    assert f"has checksum {now}" in str(err.value)
    assert f"model card records {trained_on}" in str(err.value)
    config = tmp_path / "eval.json"
    config.write_text(work.model_dump_json(by_alias=True))
    assert main(["evaluate", "--config", str(config)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: DatasetChecksumError: ") and trained_on in line
    assert not (tmp_path / "eval" / "evaluation.json").exists()


def test_a_fold_is_retrained_on_the_published_config_within_the_budget() -> None:
    hybrid = training.config("HYBRID", earlyStoppingPatience=3, saveBest=True, device="cuda")
    cut = folds.budgeted(hybrid, FoldRetraining(total_timesteps=96, epochs=2))
    assert (cut.total_timesteps, cut.cnn_lstm and cut.cnn_lstm.epochs) == (96, 2)
    assert (cut.early_stopping_patience, cut.save_best, cut.device) == (None, False, "auto")
    assert (cut.ppo, cut.hybrid, cut.environment) == (hybrid.ppo, hybrid.hybrid, hybrid.environment)
    assert folds.budgeted(training.config("PPO"), FoldRetraining()).cnn_lstm is None


DAY = pd.Timestamp("2022-01-03", tz="UTC")


@given(end=st.integers(0, 400), test_start=st.integers(0, 400), span=st.booleans())
def test_a_fold_is_out_of_sample_only_after_all_the_model_saw(
    end: int, test_start: int, span: bool
) -> None:
    trained = TrainedSpan(start=DAY.isoformat(), end=(DAY + pd.Timedelta(days=end)).isoformat())
    start = DAY + pd.Timedelta(days=test_start)
    fold = Fold("fold-1", start, start + pd.Timedelta(days=10))
    expected = span and test_start > end
    assert (folds.sample(trained if span else None, fold) == FoldSample.OUT_OF_SAMPLE) == expected
    assert folds.overall(
        [folds.sample(trained if span else None, fold), FoldSample.OUT_OF_SAMPLE]
    ) == (FoldSample.OUT_OF_SAMPLE if expected else FoldSample.IN_SAMPLE)
    assert folds.overall([]) == FoldSample.IN_SAMPLE
