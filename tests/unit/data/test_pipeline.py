"""The pipeline end to end: bars in, a validated, model-ready dataset out, or a
one-line failure and nothing published."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.__main__ import main
from kubetrade_workloads.config import DataConfig, DataJob
from kubetrade_workloads.config.data import FeatureConfig
from kubetrade_workloads.data import job, pipeline
from kubetrade_workloads.data.features import CATEGORICAL, catalog
from kubetrade_workloads.data.features.live import LiveFeatures
from kubetrade_workloads.market.bars import COLUMNS
from kubetrade_workloads.market.history import History

OWNER = {"apiVersion": "local", "kind": "Dataset", "name": "d", "namespace": "n", "uid": "u"}


def _config(**overrides: object) -> DataConfig:
    base = {
        "source": {
            "symbols": ["AAA", "BBB", "ETH/USD"],
            "start": "2021-01-01",
            "end": "2022-07-01",
        },
        "splits": {
            "train": 0.6,
            "validation": 0.2,
            "test": 0.2,
            "embargo": 2,
            "walkForward": {"folds": 3},
        },
    }
    return DataConfig.model_validate(base | overrides)


@pytest.fixture(scope="module")
def built() -> pipeline.Dataset:
    raw = bars(symbols=("AAA", "BBB", "ETH/USD"), start="2021-01-01", end="2022-06-30")
    return pipeline.build(raw, _config())


def test_the_pipeline_makes_model_ready_splits(built: pipeline.Dataset) -> None:
    manifest = built.manifest
    chosen = manifest["features"]
    assert set(built.splits) == {"train", "validation", "test"}
    assert built.splits["train"]["timestamp"].max() < built.splits["validation"]["timestamp"].min()
    assert built.splits["validation"]["timestamp"].max() < built.splits["test"]["timestamp"].min()
    for part in built.splits.values():
        assert list(part.columns) == [*COLUMNS, "adjustment", *chosen]
        assert (part["adjustment"] == 1.0).all()  # no corporate action in these bars
        assert np.isfinite(part[chosen].to_numpy()).all()
        assert part.equals(
            part.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)
        )
    selection = manifest["featureSelection"]
    assert len(chosen) >= 40 and selection["chosen"] == chosen
    assert selection["candidates"] == len(chosen) + len(selection["dropped"]) == len(catalog.ALL)
    assert sum(len(v) for v in manifest["featureGroups"].values()) == len(chosen)


def test_normalisation_is_fitted_on_train_and_recorded(built: pipeline.Dataset) -> None:
    stats = built.manifest["normalization"]["stats"]
    scaled = [n for n in built.manifest["features"] if n not in CATEGORICAL]
    assert set(stats) == set(scaled)
    train = built.splits["train"][scaled].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-3)
    test = built.splits["test"][scaled].to_numpy(dtype=np.float64)
    assert not np.allclose(
        test.mean(axis=0), 0, atol=1e-3
    )  # test is scaled by train, not by itself


def test_folds_and_quality_are_recorded(built: pipeline.Dataset) -> None:
    folds = built.manifest["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    validation_end = built.splits["validation"]["timestamp"].max().isoformat()
    assert folds[-1]["test"]["end"] == validation_end  # the test split stays unseen
    quality = built.manifest["quality"]
    assert all(isinstance(v, int | float) for v in quality.values())
    assert quality["warmupRows"] > 0 and quality["completeness"] == 1.0
    assert set(built.manifest["qualityBySymbol"]) == {"AAA", "BBB", "ETH/USD"}
    assert built.manifest["corporateActions"] == [] and built.manifest["repairs"] == []


def test_a_split_is_adjusted_listed_and_kept_as_a_column() -> None:
    raw = bars(symbols=("AAA", "BBB", "ETH/USD"), start="2021-01-01", end="2022-06-30")
    aaa = raw["symbol"] == "AAA"
    day = raw.loc[aaa, "timestamp"].iloc[150]
    before = aaa & (raw["timestamp"] < day)
    raw.loc[before, ["open", "high", "low", "close"]] *= 2.0
    raw.loc[before, "volume"] /= 2.0
    bad_print = aaa & (raw["timestamp"] == raw.loc[aaa, "timestamp"].iloc[60])
    raw.loc[bad_print, ["open", "high", "low", "close"]] *= 5
    built = pipeline.build(raw, _config())
    assert built.manifest["corporateActions"] == [
        {
            "symbol": "AAA",
            "date": day.date().isoformat(),
            "timestamp": day.isoformat(),
            "kind": "split",
            "origin": "detected",
            "ratio": 2.0,
        }
    ]
    assert [r["what"] for r in built.manifest["repairs"]] == ["spike"]
    frame = pd.concat(built.splits.values())
    adjusted = frame[(frame["symbol"] == "AAA") & (frame["timestamp"] < day)]
    assert len(adjusted) and (adjusted["adjustment"] == 2.0).all()
    assert (frame.loc[frame["timestamp"] >= day, "adjustment"] == 1.0).all()
    close = frame[frame["symbol"] == "AAA"].sort_values("timestamp")["close"].to_numpy()
    assert np.abs(np.diff(np.log(close))).max() < 0.1  # no -50% bar left


def test_features_are_clipped_only_when_asked(built: pipeline.Dataset) -> None:
    raw = bars(symbols=("AAA", "BBB", "ETH/USD"), start="2021-01-01", end="2022-06-30")
    clipped = pipeline.build(raw, _config(features={"clip": 2.0}))
    names = [n for n in clipped.manifest["features"] if n not in CATEGORICAL]
    assert clipped.manifest["normalization"]["clip"] == 2.0
    for name, part in clipped.splits.items():
        values = part[names].to_numpy()
        assert np.abs(values).max() <= 2.0
        # Prices are never clipped: they are the unclipped dataset's.
        pd.testing.assert_frame_equal(part[list(COLUMNS)], built.splits[name][list(COLUMNS)])
    unclipped = built.splits["train"][names].to_numpy()
    assert np.abs(unclipped).max() > 2.0 and "clip" not in built.manifest["normalization"]
    # A trading session's features are clipped the same way, from the same record.
    history = History.from_frame(raw[raw["symbol"] == "AAA"])
    for record, bounded in ((clipped, True), (built, False)):
        live = LiveFeatures.of(names, FeatureConfig(), record.manifest["normalization"])
        rows = live.rows(history)
        largest = np.nanmax(np.abs(rows))
        assert largest <= 2.0 if bounded else largest > 2.0


def test_the_data_job_publishes_what_the_status_reads(tmp_path: Path) -> None:
    work = DataJob.model_validate(
        {"owner": OWNER, "outputUri": f"file://{tmp_path}", "data": _config().to_wire()}
    )
    manifest = job.run(work)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert {
        "schema",
        "rows",
        "symbols",
        "timeRange",
        "features",
        "normalization",
        "folds",
        "quality",
        "splits",
    } <= set(on_disk)
    summary = job.summary(work, manifest)
    assert summary["features"] == len(on_disk["features"]) and summary["rows"] == on_disk["rows"]
    assert summary["quality"]["minCompleteness"] == on_disk["quality"]["minCompleteness"]
    assert summary["checksum"] == manifest["checksum"]


def _file_job(tmp_path: Path, frame: pd.DataFrame, symbols: list[str], **data: object) -> Path:
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    config = tmp_path / "config.json"
    source = {
        "type": "file",
        "uri": str(path),
        "symbols": symbols,
        "start": "2021-01-01",
        "end": "2022-07-01",
    }
    body = {
        "owner": OWNER,
        "outputUri": f"file://{tmp_path}/out",
        "data": {"source": source, **data},
    }
    config.write_text(json.dumps(body))
    return config


def test_a_failed_check_exits_non_zero_with_one_line_and_publishes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = bars(symbols=("AAA", "BBB"), start="2021-01-01", end="2022-06-30")
    holed = raw.drop(index=raw.index[(raw["symbol"] == "BBB")][100:130])
    config = _file_job(tmp_path, holed, ["AAA", "BBB"])
    assert main(["data", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "error: ValidationFailed: validation failed for symbol BBB: check completeness"
    )
    assert "\n" not in err
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_an_impossible_split_fails_before_publishing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = bars(symbols=("AAA",), start="2021-01-01", end="2022-06-30")
    splits = {"trainEnd": "2022-06-01", "validationEnd": "2023-01-01"}
    config = _file_job(tmp_path, raw, ["AAA"], splits=splits)
    assert main(["data", "--config", str(config)]) == 1
    assert "SplitError: splits: test would be empty" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()
