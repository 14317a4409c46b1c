import json
from pathlib import Path

import pandas as pd
import pytest

from kubetrade_workloads.__main__ import main
from kubetrade_workloads.config import DataConfig, SourceConfig, SplitConfig
from kubetrade_workloads.data import splits, synthetic
from kubetrade_workloads.storage import resolve


def test_synthetic_bars_are_deterministic_and_well_formed() -> None:
    source = SourceConfig(symbols=["A", "B"], start="2021-01-01", end="2021-12-31", seed=3)  # type: ignore[arg-type]
    bars = synthetic.generate(source)
    assert bars.equals(synthetic.generate(source))
    assert not bars.equals(synthetic.generate(source.model_copy(update={"seed": 4})))
    assert set(bars["symbol"]) == {"A", "B"}
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars[["open", "high", "low", "close"]] > 0).all().all() and (bars["volume"] >= 0).all()
    assert str(bars["timestamp"].dt.tz) == "UTC"


def test_splits_are_chronological_with_an_embargo() -> None:
    bars = synthetic.generate(SourceConfig(start="2020-01-01", end="2021-01-01"))  # type: ignore[arg-type]
    parts = splits.split_by_ratio(bars, SplitConfig(train=0.6, validation=0.2, test=0.2, embargo=3))
    assert parts["train"]["timestamp"].max() < parts["validation"]["timestamp"].min()
    assert parts["validation"]["timestamp"].max() < parts["test"]["timestamp"].min()
    dates = bars["timestamp"].drop_duplicates().sort_values().tolist()
    gap = dates.index(parts["validation"]["timestamp"].min()) - dates.index(
        parts["train"]["timestamp"].max()
    )
    assert gap == 4  # three embargoed bars in between


def test_data_command_publishes_splits_and_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    out = tmp_path / "out"
    config.write_text(
        json.dumps(
            {
                "owner": {
                    "apiVersion": "kubetrade.io/v1alpha1",
                    "kind": "Dataset",
                    "name": "d",
                    "namespace": "n",
                    "uid": "u",
                },
                "outputUri": f"file://{out}",
                "data": DataConfig().to_wire(),
            }
        )
    )
    assert main(["data", "--config", str(config)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["splits"]) == {"train", "validation", "test"}
    rows = sum(len(pd.read_parquet(out / f"{s}.parquet")) for s in manifest["splits"])
    assert rows == manifest["rows"]
    assert json.loads(capsys.readouterr().out)["rows"] == rows
    assert not list(out.glob(".*.tmp"))


def test_data_command_fails_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"owner": {}, "outputUri": "x", "data": {}}')
    assert main(["data", "--config", str(config)]) == 1
    assert "error: ValidationError" in capsys.readouterr().err


def test_artifact_uris_resolve_through_the_mounted_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = "file:///var/lib/kubetrade/artifacts/ns/datasets/d/1"
    assert resolve(uri) == uri
    monkeypatch.setenv("KUBETRADE_ARTIFACTS_DIR", "/tmp/node/pvc")
    assert resolve(uri) == "file:///tmp/node/pvc/ns/datasets/d/1"
    assert resolve("s3://bucket/x") == "s3://bucket/x"
