"""Artifacts on a real S3 server (versitygw) through s3fs, as pods reach it: the AWS_*
variables alone. A Dataset is published, a model trained on it and evaluated, and the
backtest CLI reads both, each by its workload entrypoint; nothing may rely on a rename."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import fsspec
import pytest
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing import training
from kubetrade_workloads.__main__ import main
from kubetrade_workloads.config import DataConfig, EvalJob, EvaluationConfig, SourceConfig
from kubetrade_workloads.data import pipeline, stages, synthetic
from kubetrade_workloads.training import artifacts
from kubetrade_workloads.training.checkpoints import MARKER, CheckpointStore

OWNER = {"apiVersion": "kubetrade.io/v1alpha1", "kind": "Dataset", "name": "d"}
OWNER |= {"namespace": "n", "uid": "u"}


def _objects(uri: str) -> list[str]:
    """Every object under `uri`, relative to it."""
    fs, root = fsspec.core.url_to_fs(uri)
    fs.invalidate_cache()
    return sorted(str(p).removeprefix(f"{root}/") for p in fs.find(root))


def _run(tmp_path: Path, command: str, job: dict[str, Any] | str) -> int:
    config = tmp_path / f"{command}.json"
    config.write_text(job if isinstance(job, str) else json.dumps(job))
    return main([command, "--config", str(config)])


def test_a_dataset_a_model_and_its_evaluation_live_on_s3(
    s3_root: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_uri, model_uri = f"{s3_root}/datasets/d/1", f"{s3_root}/models/m/1"
    data = {"owner": OWNER, "outputUri": data_uri, "data": DataConfig().to_wire()}
    assert _run(tmp_path, "data", data) == 0
    published = json.loads(capsys.readouterr().out)
    splits = ["test.parquet", "train.parquet", "validation.parquet"]
    assert _objects(data_uri) == ["manifest.json", *splits]
    with fsspec.open(f"{data_uri}/manifest.json", "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == published["checksum"]
    # Every split hashes to the manifest's sha256, read back from the server.
    assert stages.verify(data_uri)["checksum"] == published["checksum"]

    job = training.job(tmp_path, "PPO", dataset=data_uri).model_copy(
        update={"output_uri": model_uri}
    )
    assert _run(tmp_path, "train", job.model_dump_json(by_alias=True)) == 0
    objects = _objects(model_uri)
    assert {"model_card.json", "policy.zip"} <= set(objects)
    assert not [o for o in objects if ".tmp" in o], objects  # no leftovers of a rename
    assert any(o.startswith("tensorboard/") for o in objects)  # uploaded from a temp folder
    card = artifacts.read_card(model_uri)
    assert card.dataset.checksum == published["checksum"]
    latest = CheckpointStore(f"{model_uri}/checkpoints/rl").latest()
    assert latest is not None and latest.steps == card.steps

    evaluation = EvalJob(
        owner=training.LOCAL,
        dataset_uri=f"{data_uri}/manifest.json",
        model_uri=model_uri,
        output_uri=f"{s3_root}/evaluations/e/1",
        evaluation=EvaluationConfig(),
    )
    assert _run(tmp_path, "evaluate", evaluation.model_dump_json(by_alias=True)) == 0
    with fsspec.open(f"{s3_root}/evaluations/e/1/evaluation.json", "rb") as fh:
        assert json.loads(fh.read())["datasetChecksum"] == published["checksum"]

    args = ["backtest", "--dataset", data_uri, "--model", model_uri, "--split", "test"]
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 0, result.output


def test_checkpoints_on_s3_are_published_by_their_marker_alone(s3_root: str) -> None:
    store = CheckpointStore(f"{s3_root}/checkpoints", keep=2)
    store.save(10, {"policy.zip": b"old"}, {"n": 1})
    store.save(10, {"policy.zip": b"new"}, {"n": 2})
    found = store.read("step-000000000010")
    assert found.files["policy.zip"] == b"new" and found.state == {"n": 2}
    store.save(20, {"policy.zip": b"later"}, {})
    # A folder without its marker (a pod killed mid-write: on S3 it has its final name)
    # gives way to the one before, and does not count among the `keep` newest.
    with fsspec.open(f"{s3_root}/checkpoints/step-000000000030/policy.zip", "wb") as fh:
        fh.write(b"partial")
    latest = store.latest()
    assert latest is not None and latest.steps == 20
    store.save(40, {"policy.zip": b"last"}, {})
    assert _objects(f"{s3_root}/checkpoints") == [
        f"step-{steps:012d}/{name}"
        for steps in (20, 40)
        for name in (MARKER, "policy.zip", "state.json")
    ]


def test_preprocessed_features_round_trip_through_pyarrow_on_s3(s3_root: str) -> None:
    config = DataConfig(source=SourceConfig(symbols=["A"], start="2021-01-01", end="2021-06-30"))
    result = pipeline.preprocess(synthetic.generate(config.source), config)
    stages.save(result, f"{s3_root}/stage")
    back = stages.load(f"{s3_root}/stage")
    assert back.names == result.names and back.meta == result.meta
    assert back.frame.equals(result.frame)
