"""`trading-cli models`: its rows and where a rollback goes, read from objects."""

from typing import Any

import pytest

from kubetrade_operator.cli.models import model_rows, rollback_target, version_rows


def _model(*phases: str) -> dict[str, Any]:
    versions = [
        {"version": i + 1, "artifactUri": f"u{i + 1}", "phase": p, "metrics": {"sharpe": 0.5 + i}}
        for i, p in enumerate(phases)
    ]
    return {
        "metadata": {"name": "m"},
        "status": {"versions": versions, "latestVersion": len(phases)},
    }


def _session(name: str, live: int | None, **status: Any) -> dict[str, Any]:
    model = {"name": "m", "version": live, "artifactUri": f"u{live}"} if live else None
    return {
        "metadata": {"name": name},
        "spec": {"modelRef": {"name": "m"}},
        "status": {"model": model, **status},
    }


def test_rows_say_which_session_trades_and_shadows_which_version() -> None:
    sessions = [
        _session("a", 2, challenger={"name": "m", "version": 3}),
        _session("b", 1),
        _session("c", 1),
    ]
    rows = version_rows(_model("Ready", "Ready", "Ready"), sessions)
    assert [r["version"] for r in rows] == [3, 2, 1]  # newest first
    assert rows[0]["shadow"] == "a" and rows[1]["live"] == "a" and rows[2]["live"] == "b, c"
    assert rows[0]["sharpe"] == 2.5
    assert model_rows([_model("Ready", "Ready")], sessions)[0]["live"] == "b@1, c@1, a@2"


def test_rollback_goes_to_the_replaced_version_else_the_newest_older_ready_one() -> None:
    model = _model("Ready", "Rejected", "Ready", "Ready")
    assert rollback_target(_session("s", 4, previousModel={"version": 1}), model) == 1
    assert rollback_target(_session("s", 4), model) == 3
    with pytest.raises(ValueError, match="no Ready version older than version 1"):
        rollback_target(_session("s", 1), model)
    with pytest.raises(ValueError, match="trades no version"):
        rollback_target(_session("s", None), model)
