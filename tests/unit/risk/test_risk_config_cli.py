"""`trading-cli config --init / --validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_workloads.config.risk import RiskConfig

runner = CliRunner()


@pytest.mark.parametrize("profile", ["conservative", "moderate", "aggressive"])
def test_init_writes_a_commented_valid_config(tmp_path: Path, profile: str) -> None:
    out = tmp_path / "risk.yaml"
    result = runner.invoke(app, ["config", "--init", "--template", profile, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.count("\n  # ") >= 10  # every setting explained
    assert RiskConfig.model_validate(yaml.safe_load(text)).profile == profile
    check = runner.invoke(app, ["config", "--validate", str(out)])
    assert check.exit_code == 0 and "maxDrawdown" in check.output


def test_init_prints_to_stdout_and_never_overwrites(tmp_path: Path) -> None:
    assert "profile: moderate" in runner.invoke(app, ["config", "--init"]).output
    out = tmp_path / "risk.yaml"
    out.write_text("mine")
    refused = runner.invoke(app, ["config", "--init", "--out", str(out)])
    assert refused.exit_code == 1 and out.read_text() == "mine"
    forced = runner.invoke(app, ["config", "--init", "--out", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text() != "mine"


def test_validate_names_each_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "profile: bold\nlimits:\n  maxDrawdown: 1.5\n  maxVarr: 0.1\nsizing:\n  method: yolo\n"
    )
    result = runner.invoke(app, ["config", "--validate", str(path)])
    assert result.exit_code == 1
    for field in ("profile", "limits.maxDrawdown", "limits.maxVarr", "sizing.method"):
        assert f"  {field}: " in result.output, field
    assert "(got 1.5)" in result.output


def test_validate_a_cross_field_rule(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("limits:\n  maxDailyLoss: 0.3\n  maxDrawdown: 0.2\n")
    result = runner.invoke(app, ["config", "--validate", str(path)])
    assert result.exit_code == 1
    assert "limits: limits.maxDailyLoss must not exceed limits.maxDrawdown" in result.output


def test_validate_a_trading_session_manifest(tmp_path: Path) -> None:
    path = tmp_path / "session.yaml"
    session = {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "TradingSession",
        "metadata": {"name": "s"},
        "spec": {"modelRef": {"name": "m"}, "risk": {"profile": "conservative"}},
    }
    path.write_text(yaml.safe_dump(session))
    ok = runner.invoke(app, ["config", "--validate", str(path)])
    assert ok.exit_code == 0 and "profile conservative" in ok.output
    session["spec"]["risk"] = {"limits": {"maxVar": 2}}  # type: ignore[index]
    path.write_text(yaml.safe_dump(session))
    bad = runner.invoke(app, ["config", "--validate", str(path)])
    assert bad.exit_code == 1 and "spec.risk.limits.maxVar" in bad.output


def test_unreadable_and_ambiguous_invocations(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("limits: [unclosed\n")
    assert runner.invoke(app, ["config", "--validate", str(path)]).exit_code == 1
    assert runner.invoke(app, ["config"]).exit_code == 2
    assert runner.invoke(app, ["config", "--init", "--template", "yolo"]).exit_code == 2
