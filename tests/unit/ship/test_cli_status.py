"""`trading-cli status`: records from resources, table/json/yaml output, and the
shell-completion options Typer adds to every command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubetrade_operator.cli import status as status_cmd
from kubetrade_operator.cli.main import app
from kubetrade_operator.cli.output import Output, render, table

SAMPLES = (
    Path(__file__).resolve().parents[3]
    / "deploy"
    / "argocd"
    / "resource_customizations"
    / "kubetrade.io"
)
NOW = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.UTC)


def sample(kind: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = yaml.safe_load((SAMPLES / kind / "testdata" / f"{name}.yaml").read_text())
    obj["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z"
    return obj


def test_figures_pick_each_kinds_key_numbers() -> None:
    ds = {"rows": 756, "symbols": ["A", "B", "C"], "features": 12}
    assert status_cmd.figures("Dataset", ds) == {"rows": 756, "symbols": 3, "features": 12}
    run = {"progress": {"percent": 40.0, "meanReward": 0.12}}
    assert status_cmd.figures("TrainingRun", run) == {"progress": 40.0, "meanReward": 0.12}
    sweep = {"search": {"trials": 12, "pruned": 5, "completed": 7, "bestValue": 1.42}}
    assert status_cmd.figures("TrainingRun", sweep) == {"trials": "12 (5 pruned)", "best": 1.42}
    model = {
        "metrics": {"sharpe": 1.3},
        "gates": [{"name": "a", "passed": True}, {"name": "b", "passed": False}],
    }
    assert status_cmd.figures("Model", model) == {"sharpe": 1.3, "gates": "1/2"}
    versioned = {**model, "latestVersion": 5, "readyVersion": 4}
    assert status_cmd.figures("Model", versioned) == {
        "version": 5,
        "ready": 4,
        "sharpe": 1.3,
        "gates": "1/2",
    }
    session = sample("TradingSession", "running")["status"]
    assert status_cmd.figures("TradingSession", session) == {"equity": 100125.5, "state": "ACTIVE"}
    assert status_cmd.figures("Dataset", {}) == {}


def test_summarize_marks_a_status_from_an_older_generation() -> None:
    record = status_cmd.summarize(sample("Dataset", "old_generation"), NOW)
    assert record["phase"] == "Succeeded" and record["observed"] is False
    assert record["age"] == "2h"
    assert status_cmd.table_rows([record])[0]["phase"] == "Succeeded (stale)"
    assert status_cmd.summarize(sample("Model", "no_status"), NOW)["phase"] == "Unknown"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(5, "5s"), (125, "2m"), (7300, "2h"), (200000, "2d")]
)
def test_age_reads_like_kubectl(seconds: int, shown: str) -> None:
    created = (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status_cmd.age(created, NOW) == shown


def test_table_aligns_columns() -> None:
    text = table([{"a": "x", "b": 1}, {"a": "longer", "b": None}], [("a", "A"), ("b", "B")])
    assert text.splitlines() == ["A        B", "x        1", "longer"]


def test_json_and_yaml_carry_the_whole_record() -> None:
    records = [status_cmd.summarize(sample("TradingSession", "risk_reducing"), NOW)]
    as_json = json.loads(render(records, Output.JSON, status_cmd.COLUMNS))
    as_yaml = yaml.safe_load(render(records, Output.YAML, status_cmd.COLUMNS))
    assert as_json == as_yaml == records
    assert as_json[0]["figures"]["state"] == "REDUCING"


def _invoke(monkeypatch: pytest.MonkeyPatch, objects: list[dict[str, Any]], *args: str) -> Any:
    monkeypatch.setattr(status_cmd, "fetch", lambda namespace, all_namespaces: objects)
    return CliRunner().invoke(app, ["status", *args])


def test_status_command_prints_each_format(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = [sample("Dataset", "succeeded"), sample("TradingSession", "halted")]
    result = _invoke(monkeypatch, objects)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "PHASE", "AGE", "FIGURES", "MESSAGE"]
    assert (
        lines[2].startswith("TradingSession")
        and "Halted" in lines[2]
        and "state=HALTED" in lines[2]
    )
    wide = _invoke(monkeypatch, objects, "-A")
    assert wide.output.split()[0] == "NAMESPACE"
    listed = json.loads(_invoke(monkeypatch, objects, "-o", "json").output)
    assert [r["kind"] for r in listed] == ["Dataset", "TradingSession"]
    assert yaml.safe_load(_invoke(monkeypatch, objects, "--output", "yaml").output) == listed


def test_status_with_nothing_to_show_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke(monkeypatch, [])
    assert result.exit_code == 0 and "No kubetrade resources found." in result.output
    assert json.loads(_invoke(monkeypatch, [], "-o", "json").output) == []


def test_every_command_line_offers_shell_completion() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output
    assert "status" in result.output
