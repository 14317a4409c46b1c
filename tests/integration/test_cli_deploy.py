"""`trading-cli deploy`, `deploy monitor`, `deploy stop` and `analyze performance --live`
against a real API server with the CRDs installed.

The operator does not run here: where a test needs what the operator or the
trader would report, it writes that into the status subresource itself.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, Client
from lightkube.types import PatchType
from typer.testing import CliRunner, Result

from kubetrade_operator.cli.main import app
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import RESOURCES, get

pytestmark = pytest.mark.integration

SESSION = RESOURCES["TradingSession"]


@pytest.fixture
def cli(kubeconfig: Path, crds: list[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands find the test cluster through KUBECONFIG, as a user's would."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, list(args))


def sessions(client: Client, namespace: str) -> list[str]:
    return [str(o.metadata and o.metadata.name) for o in client.list(SESSION, namespace=namespace)]


def report(client: Client, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Write status as the operator and the trader would."""
    client.patch(
        SESSION.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE
    )


def trading_status(generation: int, heartbeat: dt.datetime) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "phase": "Halted",
        "message": "drawdown 0.12 over the 0.1 limit",
        "conditions": [
            _cond("Ready", "False", "TraderHalted", "the risk manager halted trading"),
            _cond("RiskBreached", "True", "TraderHalted"),
            _cond("Reconciled", "True", "PositionsMatch"),
            _cond("Suspended", "False", "NotSuspended"),
        ],
        "trading": {
            "equity": 110_000.0,
            "cash": 50_000.0,
            "dayPnl": -1_000.0,
            "totalPnl": 10_000.0,
            "drawdown": 0.12,
            "var": 0.021,
            "positions": [
                {
                    "symbol": "AAPL",
                    "quantity": 100.0,
                    "marketValue": 40_000.0,
                    "unrealizedPnl": 500.0,
                },
                {
                    "symbol": "MSFT",
                    "quantity": -20.0,
                    "marketValue": -10_000.0,
                    "unrealizedPnl": -50.0,
                },
            ],
            "ordersToday": 7,
            "lastDecision": "2026-01-05T15:30:00Z: 2 orders; targets AAPL 0.36",
            "heartbeat": heartbeat.isoformat().replace("+00:00", "Z"),
            "tradingState": "HALTED",
            "breakerState": "OK",
            "reconciled": True,
        },
        "effectiveLimits": {"maxDrawdown": 0.1, "maxVar": 0.04, "maxDailyLoss": 0.05},
    }


def _cond(type_: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
    }


# --- deploy -----------------------------------------------------------------------------------


def test_deploy_creates_a_paper_session_with_the_spec_asked_for(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    result = invoke(
        cli, "deploy", "--model", "ppo", "-n", namespace, "--symbols", "AAPL, MSFT",
        "--risk-profile", "conservative", "--max-drawdown", "0.1", "--bar-seconds", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"tradingsession.kubetrade.io/ppo-paper created in {namespace}" in result.output
    assert "Model 'ppo' not found" in result.output  # the session will wait for it

    spec = get(lightkube_client, "TradingSession", "ppo-paper", namespace)["spec"]
    assert spec["modelRef"] == {"name": "ppo"}
    assert spec["mode"] == "paper" and spec["confirmLive"] is False  # the CRD's default
    assert spec["broker"] == {"type": "sim"}
    assert spec["symbols"] == ["AAPL", "MSFT"]
    assert spec["barSeconds"] == 5
    assert spec["risk"]["profile"] == "conservative"
    assert spec["risk"]["limits"] == {"maxDrawdown": 0.1}
    assert "credentialsSecretRef" not in spec and spec.get("suspend") is False


def test_deploy_live_sends_the_confirmation_and_the_credentials(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    result = invoke(
        cli, "deploy", "-m", "ppo", "-n", namespace, "--broker", "ccxt", "--exchange", "kraken",
        "--live", "--credentials-secret", "kraken-keys", "--confirm-live",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = get(lightkube_client, "TradingSession", "ppo-live", namespace)["spec"]
    assert spec["mode"] == "live" and spec["confirmLive"] is True
    assert spec["credentialsSecretRef"] == {"name": "kraken-keys"}
    assert spec["broker"] == {"type": "ccxt", "exchange": "kraken"}
    assert spec["feed"] == "ccxt"  # the venue's own prices


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        (["--broker", "alpaca", "--live", "--credentials-secret", "keys"], "--confirm-live"),
        (["--broker", "alpaca", "--live", "--confirm-live"], "--credentials-secret"),
        (["--live", "--credentials-secret", "keys", "--confirm-live"], "real venue"),
        (["--confirm-live"], "goes with --live"),
        (["--broker", "ccxt"], "--exchange"),
    ],
    ids=["live-unconfirmed", "live-no-credentials", "live-sim", "confirm-paper", "ccxt-no-id"],
)
def test_flags_that_put_money_at_stake_are_refused_before_anything_is_sent(
    cli: CliRunner, lightkube_client: Client, namespace: str, flags: list[str], why: str
) -> None:
    result = invoke(cli, "deploy", "-m", "ppo", "-n", namespace, *flags)
    assert result.exit_code == 2, result.output
    assert why in result.output
    assert sessions(lightkube_client, namespace) == []


@pytest.mark.parametrize(
    ("flags", "field", "says"),
    [
        (["--max-drawdown", "1.5"], "spec.risk.limits.maxDrawdown", "less than 1"),
        (
            ["--max-drawdown", "0.1", "--max-daily-loss", "0.3"],
            "spec.risk.limits.maxDailyLoss",
            "must not exceed limits.maxDrawdown",
        ),
        (["--broker", "ccxt", "--exchange", "Bin@nce"], "spec.broker.exchange", "should match"),
        (["--interval", "2h"], "spec.interval", "Unsupported value"),
    ],
    ids=["limit-out-of-range", "cel-rule", "bad-exchange-id", "bad-interval"],
)
def test_values_the_api_server_refuses_are_shown_with_the_field(
    cli: CliRunner,
    lightkube_client: Client,
    namespace: str,
    flags: list[str],
    field: str,
    says: str,
) -> None:
    result = invoke(cli, "deploy", "-m", "ppo", "-n", namespace, *flags)
    assert result.exit_code == 1, result.output
    assert 'TradingSession.kubetrade.io "ppo-paper" is invalid' in result.output
    assert field in result.output and says in result.output
    assert sessions(lightkube_client, namespace) == []


def test_several_invalid_fields_are_listed_one_a_line(cli: CliRunner, namespace: str) -> None:
    result = invoke(
        cli, "deploy", "-m", "ppo", "-n", namespace, "--max-drawdown", "1.5", "--interval", "2h"
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == 'error: TradingSession.kubetrade.io "ppo-paper" is invalid:'
    assert any(
        line.startswith("  spec.risk.limits.maxDrawdown: Invalid value: 1.5") for line in lines
    )
    assert any(line.startswith('  spec.interval: Unsupported value: "2h"') for line in lines)


def test_deploying_a_name_twice_says_it_exists(cli: CliRunner, namespace: str) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    again = invoke(cli, "deploy", "-m", "ppo", "-n", namespace)
    assert again.exit_code == 1
    assert '"ppo-paper" already exists' in again.output and "--name" in again.output


# --- monitor and analyze --live ---------------------------------------------------------------


def test_monitor_once_renders_what_the_trader_and_the_operator_reported(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    beat = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    report(lightkube_client, namespace, "ppo-paper", trading_status(1, beat))

    result = invoke(
        cli,
        "deploy",
        "monitor",
        "--session-id",
        "ppo-paper",
        "-n",
        namespace,
        "--once",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert (view["name"], view["phase"], view["observed"]) == ("ppo-paper", "Halted", True)
    assert (view["equity"], view["totalPnl"], view["dayPnl"]) == (110_000.0, 10_000.0, -1_000.0)
    assert (view["drawdown"], view["maxDrawdown"], view["var"]) == (0.12, 0.1, 0.021)
    assert view["tradingState"] == "HALTED" and view["ordersToday"] == 7
    assert [p["symbol"] for p in view["positions"]] == ["AAPL", "MSFT"]
    assert 30 <= view["heartbeatAge"] < 120
    # Only what is not well: Reconciled=True and Suspended=False are left out.
    assert [(c["type"], c["status"]) for c in view["unhealthy"]] == [
        ("Ready", "False"),
        ("RiskBreached", "True"),
    ]

    table = invoke(cli, "deploy", "monitor", "--name", "ppo-paper", "-n", namespace, "--once")
    assert table.exit_code == 0, table.output
    assert f"TradingSession {namespace}/ppo-paper   Halted" in table.output
    assert "12.00% (limit 10.00%)" in table.output
    assert "RiskBreached=True TraderHalted" in table.output


def test_monitor_without_a_session_shows_every_session_and_names_a_missing_one(
    cli: CliRunner, namespace: str
) -> None:
    for model in ("a", "b"):
        assert invoke(cli, "deploy", "-m", model, "-n", namespace).exit_code == 0
    listed = invoke(cli, "deploy", "monitor", "-n", namespace, "--once", "-o", "json")
    assert listed.exit_code == 0, listed.output
    views = json.loads(listed.output)
    assert [(v["name"], v["phase"], v["observed"]) for v in views] == [
        ("a-paper", "Unknown", False),
        ("b-paper", "Unknown", False),
    ]
    missing = invoke(cli, "deploy", "monitor", "--session-id", "nope", "-n", namespace, "--once")
    assert missing.exit_code == 1
    assert '"nope" not found' in missing.output


def test_analyze_performance_live_reads_the_session_status(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    report(lightkube_client, namespace, "ppo-paper", trading_status(1, dt.datetime.now(dt.UTC)))

    args = ["analyze", "performance", "--live", "--session-id", "ppo-paper", "-n", namespace]
    result = invoke(cli, *args, "--output", "json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["totalReturn"] == pytest.approx(10_000 / 100_000)
    assert figures["dayReturn"] == pytest.approx(-1_000 / 111_000, abs=1e-6)
    assert figures["grossExposure"] == pytest.approx(50_000 / 110_000, abs=1e-6)
    assert figures["netExposure"] == pytest.approx(30_000 / 110_000, abs=1e-6)
    assert (figures["drawdown"], figures["maxDrawdown"], figures["positions"]) == (0.12, 0.1, 2)

    table = invoke(cli, *args)
    assert table.exit_code == 0, table.output
    assert f"Live performance: {namespace}/ppo-paper (Halted)" in table.output
    assert "+10.00%" in table.output


# --- stop -------------------------------------------------------------------------------------


def test_stop_sets_the_kill_switch(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    result = invoke(cli, "deploy", "stop", "--session-id", "ppo-paper", "-n", namespace)
    assert result.exit_code == 0, result.output
    obj = get(lightkube_client, "TradingSession", "ppo-paper", namespace)
    assert obj["spec"]["suspend"] is True
    assert obj["metadata"]["generation"] == 2


def test_stop_wait_does_not_trust_a_suspended_phase_older_than_the_stop(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    # Suspended, but for generation 1: the operator has not seen this stop yet.
    report(
        lightkube_client, namespace, "ppo-paper", {"phase": "Suspended", "observedGeneration": 1}
    )
    result = invoke(
        cli, "deploy", "stop", "--session-id", "ppo-paper", "-n", namespace,
        "--delete", "--timeout", "1", "--poll", "0.2",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "still Suspended after 1s" in result.output and "not deleted" in result.output
    assert sessions(lightkube_client, namespace) == ["ppo-paper"]


def test_stop_delete_waits_for_the_operator_then_deletes(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    outcome: list[Result] = []
    args = ["deploy", "stop", "--session-id", "ppo-paper", "-n", namespace, "--delete"]
    stopper = threading.Thread(
        target=lambda: outcome.append(invoke(cli, *args, "--timeout", "30", "--poll", "0.1"))
    )
    stopper.start()
    # Play the operator: see the suspend, report Suspending, then Suspended.
    wait_until(
        lambda: get(lightkube_client, "TradingSession", "ppo-paper", namespace)["spec"]["suspend"],
        timeout=30,
        what="spec.suspend",
    )
    report(
        lightkube_client, namespace, "ppo-paper", {"phase": "Suspending", "observedGeneration": 2}
    )
    stopper.join(timeout=0.5)  # five polls of the session
    assert stopper.is_alive()  # still waiting: Suspending is not Suspended
    flattened = _cond("Suspended", "True", "Flattened", "positions flattened")
    suspended = {"phase": "Suspended", "observedGeneration": 2, "conditions": [flattened]}
    report(lightkube_client, namespace, "ppo-paper", suspended)
    stopper.join(timeout=30)

    result = outcome[0]
    assert result.exit_code == 0, result.output
    assert "tradingsession.kubetrade.io/ppo-paper deleted" in result.output
    with pytest.raises(ApiError) as gone:
        lightkube_client.get(SESSION, "ppo-paper", namespace=namespace)
    assert gone.value.status.code == 404
