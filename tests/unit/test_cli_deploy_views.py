"""`trading-cli deploy` without a cluster: the flags it refuses, the session it
writes, how it renders a session's status, how it waits, how it explains errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

import pytest
import yaml
from lightkube.models.meta_v1 import Status, StatusCause, StatusDetails
from typer.testing import CliRunner

from kubetrade_operator.api import TradingSessionSpec
from kubetrade_operator.cli import api_access, deploy
from kubetrade_operator.cli import session_view as views_mod
from kubetrade_operator.cli.analyze import live_performance, render_live
from kubetrade_operator.cli.deploy import Request, session_manifest
from kubetrade_operator.cli.main import app
from kubetrade_operator.cli.output import Output
from kubetrade_operator.cli.session_view import session_view
from kubetrade_operator.cli.trade import BrokerChoice, FeedChoice
from kubetrade_operator.cli.trade import RiskProfile as RiskProfileChoice
from kubetrade_workloads.config.risk import RiskProfile
from kubetrade_workloads.config.trading import BrokerType, FeedType

NOW = dt.datetime(2026, 1, 5, 15, 30, tzinfo=dt.UTC)
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Nothing here may reach a cluster: a kubeconfig that names none."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))


# --- what deploy sends ------------------------------------------------------------------------


LIVE = Request(
    model="ppo",
    live=True,
    broker=BrokerChoice.ALPACA,
    credentials_secret="keys",
    confirm_live=True,
)


@pytest.mark.parametrize(
    ("req", "why"),
    [
        (Request("ppo", live=True, broker=BrokerChoice.ALPACA, credentials_secret="k"), "confirm"),
        (Request("ppo", live=True, broker=BrokerChoice.ALPACA, confirm_live=True), "credentials"),
        (Request("ppo", live=True, credentials_secret="k", confirm_live=True), "real venue"),
        (Request("ppo", confirm_live=True), "goes with --live"),
        (Request("ppo", broker=BrokerChoice.CCXT), "--exchange ID"),
        (Request("ppo", exchange="kraken"), "--exchange goes with --broker ccxt"),
    ],
)
def test_refusal_names_what_is_missing(req: Request, why: str) -> None:
    assert why in (deploy.refusal(req) or "")


@pytest.mark.parametrize(
    "req",
    [
        Request("ppo"),
        LIVE,
        Request("ppo", broker=BrokerChoice.ALPACA, credentials_secret="paper-keys"),
        Request("ppo", broker=BrokerChoice.CCXT, exchange="binance", feed=FeedChoice.SYNTHETIC),
    ],
)
def test_accepted_requests_make_specs_the_models_accept(req: Request) -> None:
    assert deploy.refusal(req) is None
    manifest = session_manifest(deploy.session_name(req.model, req.live), req)
    spec = TradingSessionSpec.model_validate(manifest["spec"])
    assert spec.model_ref.name == "ppo"
    assert spec.mode == ("live" if req.live else "paper")
    assert manifest["metadata"]["name"] == ("ppo-live" if req.live else "ppo-paper")


def test_the_manifest_leaves_unset_values_to_the_crd_and_follows_the_venue() -> None:
    paper = session_manifest("p", Request("ppo"))["spec"]
    assert paper == {"modelRef": {"name": "ppo"}, "mode": "paper", "broker": {"type": "sim"}}
    live = session_manifest("l", LIVE)["spec"]
    assert live["confirmLive"] is True and live["credentialsSecretRef"] == {"name": "keys"}
    assert live["feed"] == "alpaca"  # an Alpaca account trades on Alpaca's prices
    chosen = session_manifest("c", Request("ppo", feed=FeedChoice.REPLAY))
    assert chosen["spec"]["feed"] == "replay"


def test_dry_run_prints_yaml_without_a_cluster() -> None:
    args = ["deploy", "-m", "ppo", "--name", "mine", "--symbols", "AAPL,BTC/USD", "--dry-run"]
    result = runner.invoke(app, [*args, "--risk-profile", "aggressive", "--max-drawdown", "0.3"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.output)
    assert doc["metadata"] == {"name": "mine"}
    assert doc["spec"]["symbols"] == ["AAPL", "BTC/USD"]
    assert doc["spec"]["risk"] == {"profile": "aggressive", "limits": {"maxDrawdown": 0.3}}


def test_refused_flags_exit_2_before_the_kubeconfig_is_read() -> None:
    result = runner.invoke(app, ["deploy", "-m", "ppo", "--live", "--broker", "alpaca"])
    assert result.exit_code == 2
    assert "--live needs --credentials-secret" in result.output


def test_options_before_a_subcommand_are_refused() -> None:
    result = runner.invoke(app, ["deploy", "-n", "trading", "monitor", "--once"])
    assert result.exit_code == 2
    assert "--namespace: options go after the command" in result.output
    bare = runner.invoke(app, ["deploy"])
    assert bare.exit_code == 2 and "deploy needs --model" in bare.output


def test_no_kubeconfig_is_a_clear_error() -> None:
    result = runner.invoke(app, ["deploy", "-m", "ppo"])
    assert result.exit_code == 1
    assert "no cluster configured" in result.output


# --- how errors read --------------------------------------------------------------------------


def test_explain_puts_each_invalid_field_on_its_own_line() -> None:
    status = Status(
        code=422,
        message='TradingSession.kubetrade.io "x" is invalid: [spec.a: Invalid value: 2: '
        "too big, spec.b: Unsupported value, <nil>: Invalid value: null: rules not checked]",
        details=StatusDetails(
            name="x",
            causes=[
                StatusCause(field="spec.a", message="Invalid value: 2: too big"),
                StatusCause(field="spec.b", message="Unsupported value"),
                StatusCause(field="<nil>", message="Invalid value: null: rules not checked"),
            ],
        ),
    )
    assert api_access.explain(status).splitlines() == [
        'error: TradingSession.kubetrade.io "x" is invalid:',
        "  spec.a: Invalid value: 2: too big",
        "  spec.b: Unsupported value",
        "  Invalid value: null: rules not checked",
    ]


def test_explain_tells_a_missing_crd_from_a_missing_session() -> None:
    no_crd = Status(code=404, message="the server could not find the requested resource")
    no_session = Status(
        code=404, message='tradingsessions "x" not found', details=StatusDetails(name="x")
    )
    assert "are the CRDs installed?" in api_access.explain(no_crd)
    assert "CRDs" not in api_access.explain(no_session)


# --- monitor's view ---------------------------------------------------------------------------


def _session(status: dict[str, Any] | None = None, generation: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": "s", "namespace": "ns", "generation": generation},
        "spec": {"modelRef": {"name": "ppo"}, "mode": "paper", "broker": {"type": "sim"}},
        "status": status,
    }


def test_a_session_nobody_reported_on_renders_as_unknown() -> None:
    view = session_view(_session(), NOW)
    assert (view["phase"], view["observed"], view["heartbeatAge"]) == ("Unknown", False, None)
    text = views_mod.render_view(view)
    assert "Unknown (stale)" in text and "Equity       -" in text and "Positions    none" in text


def test_the_view_shows_what_the_trader_reported_and_the_conditions_that_are_not_well() -> None:
    conditions = [
        {"type": "Ready", "status": "True", "reason": "TraderRunning"},
        {"type": "RiskBreached", "status": "Unknown", "reason": "NotReported"},
        {"type": "Reconciled", "status": "False", "reason": "PositionsMismatch", "message": "m"},
        {"type": "Suspended", "status": "False", "reason": "NotSuspended"},
    ]
    trading = {"equity": 1234.5, "heartbeat": "2026-01-05T15:28:55Z", "reconciled": False}
    view = session_view(
        _session(
            {
                "phase": "Running",
                "observedGeneration": 1,
                "conditions": conditions,
                "trading": trading,
            }
        ),
        NOW,
    )
    assert view["heartbeatAge"] == 65.0
    assert [c["type"] for c in view["unhealthy"]] == ["RiskBreached", "Reconciled"]
    text = views_mod.render_view(view)
    assert "Running   paper" in text and "1,234.50" in text and "1m05s ago" in text
    assert "reconciled NO" in text and "Reconciled=False PositionsMismatch: m" in text


def test_one_named_session_renders_as_an_object_several_as_a_list() -> None:
    views = [session_view(_session(), NOW)]
    one = yaml.safe_load(views_mod.render_views(views, Output.YAML, single=True))
    many = yaml.safe_load(views_mod.render_views(views, Output.JSON, single=False))
    assert one["name"] == "s" and isinstance(many, list) and many[0]["name"] == "s"
    assert views_mod.render_views([], Output.TABLE, single=False) == "No TradingSessions.\n"


# --- stop's wait ------------------------------------------------------------------------------


def test_suspended_needs_the_phase_for_this_generation() -> None:
    assert deploy.suspended({"status": {"phase": "Suspended", "observedGeneration": 3}}, 3)
    assert not deploy.suspended({"status": {"phase": "Suspended", "observedGeneration": 2}}, 3)
    assert not deploy.suspended({"status": {"phase": "Suspending", "observedGeneration": 3}}, 3)
    assert not deploy.suspended({"status": {"phase": "Suspended"}}, 1)


def test_wait_for_reports_changes_and_stops_when_done() -> None:
    script: Iterator[Mapping[str, Any]] = iter(
        [
            {"status": {"phase": "Running"}},
            {"status": {"phase": "Suspending", "message": "closing"}},
            {"status": {"phase": "Suspending", "message": "closing"}},
            {"status": {"phase": "Suspended", "observedGeneration": 2}},
        ]
    )
    seen: list[Mapping[str, Any]] = []
    done, last = deploy.wait_for(
        lambda: next(script), lambda o: deploy.suspended(o, 2), 10, 0.0, seen.append
    )
    assert done and last["status"]["phase"] == "Suspended"
    assert [o["status"]["phase"] for o in seen] == ["Running", "Suspending", "Suspended"]


def test_wait_for_gives_up_after_the_timeout() -> None:
    calls = []

    def get() -> dict[str, Any]:
        calls.append(1)
        return {"status": {"phase": "Suspending"}}

    done, last = deploy.wait_for(get, lambda o: False, timeout=0.05, interval=0.01)
    assert not done and last["status"]["phase"] == "Suspending" and len(calls) >= 2


# --- analyze performance --live ---------------------------------------------------------------


def test_live_performance_without_a_report_is_all_unknown() -> None:
    figures = live_performance(_session())
    assert figures["equity"] is None and figures["totalReturn"] is None
    assert figures["grossExposure"] == 0.0 and figures["positions"] == 0
    assert "Total return            n/a" in render_live(figures)


def test_analyze_live_flags_are_checked() -> None:
    missing = runner.invoke(app, ["analyze", "performance"])
    assert missing.exit_code == 2 and "Missing option '--input'" in missing.output
    no_session = runner.invoke(app, ["analyze", "performance", "--live"])
    assert no_session.exit_code == 2 and "--live needs --session-id" in no_session.output
    mixed = ["analyze", "performance", "--live", "--session-id", "s", "--var"]
    assert runner.invoke(app, mixed).exit_code == 2


@pytest.mark.parametrize(
    ("choice", "config"),
    [(RiskProfileChoice, RiskProfile), (BrokerChoice, BrokerType), (FeedChoice, FeedType)],
)
def test_the_cli_choices_are_the_configs(choice: type[Enum], config: type[Enum]) -> None:
    assert [c.value for c in choice] == [c.value for c in config]
