"""`trading-cli data` stages (collect --raw, preprocess, split, validate) and CSV layouts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from kubetrade_testing.data_cli import csv_text, dataset_yaml, one_line_error, published, run

SYN = ["--symbols", "SYN-A,SYN-B", "--start", "2021-01-01", "--end", "2022-07-01", "--seed", "3"]


def test_preprocess_then_split_publishes_what_collect_publishes(tmp_path: Path) -> None:
    whole = run("collect", *SYN, "--embargo", "2", "--output", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    raw = run("collect", *SYN, "--raw", "--output", tmp_path / "raw")
    assert raw.exit_code == 0, raw.output
    assert (tmp_path / "raw" / "bars.parquet").exists()
    pre = run("preprocess", tmp_path / "raw", "--output", tmp_path / "pre")
    assert pre.exit_code == 0, pre.output
    assert json.loads(pre.stdout)["features"] > 50
    staged = run("split", tmp_path / "pre", "--embargo", "2", "--output", tmp_path / "staged")
    assert staged.exit_code == 0, staged.output
    one, two = published(tmp_path / "whole"), published(tmp_path / "staged")
    for key in ("features", "normalization", "featureSelection", "quality", "qualityBySymbol"):
        assert one[key] == two[key], key
    assert one["config"] == two["config"] and one["splits"].keys() == two["splits"].keys()
    # The staged source is the raw file; its window is the collected one, which only
    # source.json knows (the bars alone give no end).
    assert two["source"]["type"] == "file" and two["source"]["symbols"] == ["SYN-A", "SYN-B"]
    assert (two["source"]["start"], two["source"]["end"]) == ("2021-01-01", "2022-07-01")
    for name in one["splits"]:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "whole" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "staged" / f"{name}.parquet"),
        )


def test_preprocess_reads_a_raw_folder_written_to_any_fsspec_uri(tmp_path: Path) -> None:
    raw = "memory://kubetrade-cli-test/raw"  # a bucket stands in: no local folder to see
    assert run("collect", *SYN, "--raw", "--output", raw).exit_code == 0
    pre = run("preprocess", raw, "--output", tmp_path / "pre")
    assert pre.exit_code == 0, pre.output
    meta = json.loads((tmp_path / "pre" / "preprocess.json").read_text())
    assert meta["source"]["uri"] == f"{raw}/bars.parquet" and meta["source"]["end"] == "2022-07-01"


def test_split_keeps_the_features_preprocess_made_and_refuses_others(tmp_path: Path) -> None:
    assert run("collect", *SYN, "--raw", "--output", tmp_path / "raw").exit_code == 0
    pre = run("preprocess", tmp_path / "raw", "--features", "trend", "--output", tmp_path / "pre")
    assert pre.exit_code == 0, pre.output
    # A manifest's features apply key by key: its normalisation, preprocess's groups.
    manifest = dataset_yaml(tmp_path / "d.yaml", {"features": {"normalization": "minmax"}})
    done = run("split", tmp_path / "pre", "-f", manifest, "--output", tmp_path / "ds")
    assert done.exit_code == 0, done.output
    features = published(tmp_path / "ds")["config"]["features"]
    assert features["groups"] == ["trend"] and features["normalization"] == "minmax"
    # The published config must not name features the Dataset was not made with.
    _fails(
        ["split", tmp_path / "pre", "--set", "features.groups=volume", "--output", tmp_path / "x"],
        "features.groups",
        "data preprocess",
    )
    assert not (tmp_path / "x").exists()


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    result = run("collect", *SYN, "--output", tmp_path / "ds")
    assert result.exit_code == 0, result.output
    return tmp_path / "ds"


def test_validate_passes_a_dataset_as_published(dataset: Path) -> None:
    result = run("validate", dataset)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["valid"] is True and summary["symbols"] == ["SYN-A", "SYN-B"]
    # The checksum a Dataset's status carries: the sha256 of its manifest's bytes.
    assert (
        summary["checksum"] == hashlib.sha256((dataset / "manifest.json").read_bytes()).hexdigest()
    )
    again = run("validate", dataset, "--checksum", summary["checksum"])
    assert again.exit_code == 0, again.output


def _fails(args: list[str | Path], *needles: str) -> None:
    one_line_error(run(*args), 1, *needles)


def test_validate_fails_in_one_line_when_a_file_changed(dataset: Path) -> None:
    test = pd.read_parquet(dataset / "test.parquet")
    test.iloc[:-1].to_parquet(dataset / "test.parquet", index=False)
    _fails(["validate", dataset], "split test", "sha256", "changed after publishing")


def test_validate_fails_when_a_file_is_gone_or_nothing_was_published(dataset: Path) -> None:
    _fails(["validate", dataset.parent / "nowhere"], "no manifest.json")
    (dataset / "validation.parquet").unlink()
    _fails(["validate", dataset], "split validation", "missing")


def test_validate_holds_the_dataset_to_stricter_thresholds_when_asked(dataset: Path) -> None:
    # The synthetic source has every bar (a gap ratio of 0); seed 3 gives SYN-B one outlier.
    assert published(dataset)["qualityBySymbol"]["SYN-B"]["outliers"] == 1
    assert run("validate", dataset, "--set", "validation.maxGapRatio=0").exit_code == 0
    _fails(
        ["validate", dataset, "--min-completeness", "1", "--set", "validation.maxGapRatio=-1"],
        "validation.maxGapRatio",
    )
    _fails(
        ["validate", dataset, "--set", "validation.maxOutlierRatio=0"],
        "validation failed for symbol SYN-B",
    )
    _fails(["validate", dataset, "--checksum", "0" * 64], "not " + "0" * 64)


def test_split_refuses_a_folder_preprocess_did_not_write(tmp_path: Path) -> None:
    _fails(["split", tmp_path, "--output", tmp_path / "ds"], "preprocess.json", "data preprocess")
    (tmp_path / "preprocess.json").write_text("{}")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "features.parquet")
    _fails(["split", tmp_path, "--output", tmp_path / "ds"], "lacks ['features', 'source'")


@pytest.mark.parametrize(
    ("name", "text", "symbols"),
    [
        ("GOOG.csv", csv_text(), ["GOOG"]),  # first header cell empty; symbol: the file's name
        ("stocks.csv", csv_text(symbols=("AAPL", "MSFT")), ["AAPL", "MSFT"]),  # Ticker column
    ],
)
def test_a_csv_collects_as_given_with_symbols_and_start_from_the_file(
    tmp_path: Path, name: str, text: str, symbols: list[str]
) -> None:
    (tmp_path / name).write_text(text)
    result = run(
        "collect", "--uri", tmp_path / name, "--calendar", "24/7", "--output", tmp_path / "out"
    )
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "out")
    assert out["symbols"] == symbols and out["source"]["type"] == "file"
    assert out["source"]["start"] == "2023-01-01"  # the file's first day, not the default 2020
    first = pd.read_parquet(tmp_path / "out" / "train.parquet")
    assert first["timestamp"].min() < pd.Timestamp("2023-04-01", tz="UTC")


def test_preprocess_reads_a_csv_as_given(tmp_path: Path) -> None:
    (tmp_path / "GOOG.csv").write_text(csv_text())
    result = run(
        "preprocess", tmp_path / "GOOG.csv", "--calendar", "24/7", "--output", tmp_path / "pre"
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "pre" / "features.parquet")
    meta = json.loads((tmp_path / "pre" / "preprocess.json").read_text())
    assert set(frame["symbol"]) == {"GOOG"} and meta["config"]["cleaning"]["calendar"] == "24/7"
    # Prices are the file's: the last close as written.
    closes = pd.read_csv(tmp_path / "GOOG.csv")["Close"]
    assert frame["close"].iloc[-1] == pytest.approx(closes.iloc[-1])
