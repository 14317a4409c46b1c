"""`trading-cli data collect`: a Dataset manifest, flags and --set; data errors in one line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from types import UnionType
from typing import get_args, get_origin

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from kubetrade_operator.cli.data_config import merge, period_start, resolve
from kubetrade_testing.data_cli import csv_text, dataset_yaml, one_line_error, published, run
from kubetrade_workloads.config import DataConfig

SMALL = {
    "source": {
        "type": "synthetic",
        "symbols": ["SYN-A"],
        "start": "2021-01-01",
        "end": "2022-01-01",
    }
}


def test_a_manifest_runs_locally_and_flags_then_set_override_it(tmp_path: Path) -> None:
    spec = SMALL | {
        "cleaning": {"fillLimit": 2, "outlierZ": 12.0},
        "splits": {"embargo": 3, "train": 0.6, "validation": 0.2, "test": 0.2},
        "storageUri": f"file://{tmp_path}/from-spec",
        "job": {"backoffLimit": 1},  # the Job's fields are the cluster's, ignored here
    }
    manifest = dataset_yaml(tmp_path / "dataset.yaml", spec)
    result = run(
        "collect", "-f", manifest, "--embargo", "1",
        "--fill-limit", "3", "--set", "cleaning.fillLimit=4",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "from-spec")  # spec.storageUri without --output
    config = out["config"]
    assert config["splits"]["embargo"] == 1  # the flag over the manifest
    assert config["cleaning"]["fillLimit"] == 4  # --set over its flag and the manifest
    assert config["cleaning"]["outlierZ"] == 12.0 and config["splits"]["train"] == 0.6
    assert out["symbols"] == ["SYN-A"] and out["source"]["end"] == "2022-01-01"
    assert json.loads(result.stdout)["checksum"] and len(out["splits"]) == 3


def test_set_reads_yaml_values_snake_case_keys_and_comma_lists(tmp_path: Path) -> None:
    result = run(
        "collect",
        "--set",
        "source.symbols=SYN-A,SYN-B",
        "--set",
        "spec.source.start=2021-01-01",
        "--set",
        "source.end=2022-01-01",
        "--set",
        "splits.walk_forward={folds: 3, mode: rolling}",
        "--set",
        "validation.minCompleteness=0.5",
        "--output",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "out")
    assert out["symbols"] == ["SYN-A", "SYN-B"]
    assert out["config"]["splits"]["walkForward"] == {"folds": 3, "mode": "rolling"}
    assert len(out["folds"]) == 3 and out["config"]["validation"]["minCompleteness"] == 0.5


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("source.symbols=ON", {"source": {"symbols": ["ON"]}}),  # YAML's true; ON Semiconductor
        ("source.symbols=7203", {"source": {"symbols": ["7203"]}}),  # a number; Toyota in Tokyo
        ("cleaning.calendar=24/7", {"cleaning": {"calendar": "24/7"}}),
        ("source.seed=7", {"source": {"seed": 7}}),  # a number where the field is one
        ("cleaning.fillLimit=3", {"cleaning": {"fillLimit": 3}}),
    ],
)
def test_set_keeps_text_where_the_field_holds_text(item: str, expected: dict[str, object]) -> None:
    assert merge({}, {}, [item]) == expected


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        kinds = get_args(info.annotation) if get_origin(info.annotation) is UnionType else ()
        nested = [info.annotation, *kinds]  # X or X | None, not list[X]: a list is set whole
        sub = next((a for a in nested if isinstance(a, type) and issubclass(a, BaseModel)), None)
        keys += _leaves(sub, f"{key}.") if sub else [key]
    return keys


def test_every_key_of_the_config_model_is_settable() -> None:
    # Read from the model, so fields added later (timezone, adjustment, ...) need no CLI change.
    keys = _leaves(DataConfig)
    assert {"cleaning.fillLimit", "splits.walkForward.folds", "source.symbols"} <= set(keys)
    for key in keys:
        path, _ = resolve(key)
        assert ".".join(path) == key


def test_period_counts_back_from_the_end(tmp_path: Path) -> None:
    result = run(
        "collect", "--symbols", "SYN-A", "--period", "1y", "--end", "2023-01-01",
        "--output", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert published(tmp_path / "out")["source"]["start"] == "2022-01-01"
    # An end given by --set is the end the period counts back from, as it is the run's.
    result = run(
        "collect", "--symbols", "SYN-A", "--period", "1y", "--end", "2024-01-01",
        "--set", "source.end=2023-07-01", "--output", tmp_path / "set",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    source = published(tmp_path / "set")["source"]
    assert (source["start"], source["end"]) == ("2022-07-01", "2023-07-01")


@pytest.mark.parametrize(
    ("period", "end", "start"),
    [
        ("1y", dt.date(2024, 3, 1), dt.date(2023, 3, 1)),
        ("6mo", dt.date(2024, 8, 31), dt.date(2024, 2, 29)),
        ("5y", dt.date(2024, 2, 29), dt.date(2019, 2, 28)),
        ("2w", dt.date(2024, 1, 15), dt.date(2024, 1, 1)),
        ("10d", dt.date(2024, 1, 11), dt.date(2024, 1, 1)),
        ("ytd", dt.date(2024, 7, 4), dt.date(2024, 1, 1)),
    ],
)
def test_period_start(period: str, end: dt.date, start: dt.date) -> None:
    assert period_start(period, end) == start


@given(
    count=st.integers(1, 50),
    unit=st.sampled_from(["d", "w", "mo", "y"]),
    end=st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)),
)
def test_a_period_always_starts_before_its_end_and_not_much_earlier(
    count: int, unit: str, end: dt.date
) -> None:
    start = period_start(f"{count}{unit}", end)
    days = {"d": 1, "w": 7, "mo": 31, "y": 366}[unit] * count
    assert end - dt.timedelta(days=days) <= start < end


def _naive_hourly(tmp_path: Path) -> Path:
    path = tmp_path / "EURUSD.csv"
    stamps = pd.date_range("2024-01-01 09:00", periods=300, freq="h").strftime("%Y-%m-%d %H:%M")
    path.write_text(
        ",Open,High,Low,Close,Volume\n" + "".join(f"{s},1,1.1,0.9,1,5\n" for s in stamps)
    )
    return path


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (["--uri", "{tmp}/missing.csv"], 1, ["missing.csv", "cannot read"]),
        (["-f", "{tmp}/missing.yaml"], 1, ["missing.yaml", "check the path"]),
        (["-f", "{tmp}/session.yaml"], 1, ["no Dataset", "kind: Dataset"]),
        (
            ["-f", "{tmp}/broken.yaml"],
            1,
            ["broken.yaml is not valid YAML at line 2", "mapping values"],
        ),
        (["-f", "{tmp}/bad.yaml"], 1, ["spec.cleaning.fillLimit", "less than or equal to 1000"]),
        (["--set", "cleaning.fillLimt=3"], 1, ["no field 'fillLimt'", "fillLimit"]),
        (["--fill-limit", "-1"], 1, ["cleaning.fillLimit", "greater than or equal to 0"]),
        (["--set", "source.interval=2h"], 1, ["source.interval", "'2h'"]),
        (["--set", "nonsense"], 2, ["key=value"]),
        (["--period", "1y", "--start", "2020-01-01"], 2, ["--period", "--start"]),
        (["--period", "forever"], 2, ["'forever'", "ytd"]),
        (["--splits", "0.5,0.5"], 2, ["three ratios"]),
        (
            ["--symbols", "SYN-A", "--start", "2021-01-01", "--end", "2021-02-01"],
            1,
            ["too few", "--period"],
        ),
        (
            ["--uri", "{tmp}/GOOG.csv", "--calendar", "24/7", "--min-completeness", "1"],
            1,
            ["validation failed for symbol GOOG", "minCompleteness"],
        ),
        (["--uri", "{tmp}/EURUSD.csv", "--interval", "1h"], 1, ["cleaning.timezone"]),
        (["--uri", "{tmp}/GOOG.csv", "--symbols", "MSFT,AAPL"], 1, ["no symbol column"]),
    ],
)
def test_data_errors_are_one_line_with_a_fix(
    tmp_path: Path, args: list[str], code: int, needles: list[str]
) -> None:
    (tmp_path / "GOOG.csv").write_text(csv_text(days=300, gap=15))
    _naive_hourly(tmp_path)
    dataset_yaml(tmp_path / "session.yaml", {}, kind="TradingSession")
    (tmp_path / "broken.yaml").write_text("kind: Dataset\n  spec: x\n")
    dataset_yaml(tmp_path / "bad.yaml", SMALL | {"cleaning": {"fillLimit": 5000}})
    result = run("collect", *(a.format(tmp=tmp_path) for a in args), "--output", tmp_path / "o")
    one_line_error(result, code, *needles)
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    # A real process: what a user's shell shows, warnings and logging included.
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "kubetrade_operator.cli.main", "data", "collect"]
        + ["--source", "file", "--uri", str(_naive_hourly(tmp_path)), "--interval", "1h"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "cleaning.timezone" in done.stderr


def test_the_data_commands_load_no_heavy_library_for_help() -> None:
    # --help and shell completion import the CLI; pandas and the config models wait.
    probe = "import sys, kubetrade_operator.cli.main; print(sorted({'pandas', 'pydantic'} & set(sys.modules)))"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"  # neither pandas nor pydantic
