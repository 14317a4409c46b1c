"""The CLI where the console's issue promised it, against a real API server with the
CRDs installed: `deploy --alerts` and `deploy alerts`, `deploy monitor --dashboard`,
and `analyze performance --live --days N` over a session's trade store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from lightkube import Client
from typer.testing import CliRunner, Result

from kubetrade_operator.cli.main import app
from kubetrade_testing.factories import get
from kubetrade_workloads.trading.store.database import SQLITE_FILE, open_engine
from kubetrade_workloads.trading.store.schema import EquityRow

pytestmark = pytest.mark.integration

EMAIL = ["--smtp-host", "smtp.example.com", "--alert-from", "bot@example.com"]


@pytest.fixture
def cli(kubeconfig: Path, crds: list[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Commands find the test cluster through KUBECONFIG; no browser is ever started."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("KUBETRADE_CONSOLE_URL", raising=False)
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, list(args))


def test_deploy_alerts_reach_the_spec_and_change_on_a_running_session(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    made = invoke(
        cli, "deploy", "-m", "ppo", "-n", namespace, "--alerts", "email,slack",
        "--slack-webhook-secret", "slack-hook", *EMAIL, "--alert-to", "a@x.io,b@x.io",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    alerts = get(lightkube_client, "TradingSession", "ppo-paper", namespace)["spec"]["alerts"]
    assert alerts["slack"] == {"webhookSecretRef": {"name": "slack-hook"}}
    assert alerts["email"]["recipients"] == ["a@x.io", "b@x.io"]
    assert alerts["email"]["smtpPort"] == 587  # the CRD's default, filled in by the server

    # Slack only: email is switched off, Slack keeps its Secret.
    changed = invoke(
        cli, "deploy", "alerts", "--session-id", "ppo-paper", "-n", namespace,
        "--alerts", "slack", "--alert-min-severity", "critical",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "alerts set: slack (webhook Secret slack-hook); min severity critical" in changed.output
    alerts = get(lightkube_client, "TradingSession", "ppo-paper", namespace)["spec"]["alerts"]
    assert "email" not in alerts and alerts["slack"]["webhookSecretRef"]["name"] == "slack-hook"
    assert alerts["minSeverity"] == "critical"

    shown = invoke(cli, "deploy", "alerts", "--session-id", "ppo-paper", "-n", namespace)
    assert shown.exit_code == 0
    assert shown.output.strip().endswith("slack (webhook Secret slack-hook); min severity critical")


def test_deploy_alerts_names_what_a_channel_lacks_and_changes_nothing(
    cli: CliRunner, lightkube_client: Client, namespace: str
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    before = get(lightkube_client, "TradingSession", "ppo-paper", namespace)
    lacking = invoke(
        cli, "deploy", "alerts", "--session-id", "ppo-paper", "-n", namespace,
        "--alerts", "email", "--smtp-host", "smtp.example.com",
    )  # fmt: skip
    assert lacking.exit_code == 2
    assert "--alerts email needs --alert-from ADDRESS, --alert-to ADDRESS" in lacking.output
    after = get(lightkube_client, "TradingSession", "ppo-paper", namespace)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]

    # What only the API server checks is refused by it, with the field named.
    bad = invoke(
        cli, "deploy", "alerts", "--session-id", "ppo-paper", "-n", namespace,
        "--alerts", "email", *EMAIL, "--alert-to", "not-an-address",
    )  # fmt: skip
    assert bad.exit_code == 1 and "spec.alerts.email.recipients[0]" in bad.output

    missing = invoke(cli, "deploy", "alerts", "--session-id", "nope", "-n", namespace)
    assert missing.exit_code == 1 and '"nope" not found' in missing.output


def test_monitor_dashboard_prints_the_sessions_console_page(cli: CliRunner, namespace: str) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    args = ["deploy", "monitor", "--dashboard", "-n", namespace]
    opened = invoke(cli, *args, "--session-id", "ppo-paper", "--console-url", "http://c.test")
    assert opened.exit_code == 0, opened.output
    assert f"console: http://c.test/ns/{namespace}/tradingsessions/ppo-paper" in opened.output

    missing = invoke(cli, *args, "--session-id", "nope")
    assert missing.exit_code == 1 and '"nope" not found' in missing.output
    assert "console:" not in missing.output


def test_analyze_live_days_reads_the_cluster_sessions_curve_from_its_store(
    cli: CliRunner, namespace: str, tmp_path: Path
) -> None:
    assert invoke(cli, "deploy", "-m", "ppo", "-n", namespace).exit_code == 0
    engine, _ = open_engine(None, tmp_path)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    curve = [100.0] * 20 + [100.0 * 1.02**i for i in range(1, 6)]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(EquityRow),
            [
                {"session_id": f"{namespace}/ppo-paper", "time": start + dt.timedelta(days=i),
                 "equity": e, "cash": e, "gross_exposure": 0.0, "drawdown": 0.0,
                 "day_pnl": 0.0, "total_pnl": e - 100.0}
                for i, e in enumerate(curve)
            ],
        )  # fmt: skip
    engine.dispose()
    url = f"sqlite:///{tmp_path / SQLITE_FILE}"
    args = ["analyze", "performance", "--live", "--session-id", "ppo-paper", "-n", namespace]
    result = invoke(cli, *args, "--days", "5", "--store-url", url, "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["input"] == f"trade store session {namespace}/ppo-paper" and doc["bars"] == 5
    assert doc["performance"]["total_return"] == pytest.approx(1.02**5 - 1)

    no_store = invoke(cli, *args, "--days", "5")
    assert no_store.exit_code == 2 and "give --store-url URL" in no_store.output
    nope = invoke(cli, "analyze", "performance", "--live", "--session-id", "nope", "-n", namespace,
                  "--days", "5", "--store-url", url)  # fmt: skip
    assert nope.exit_code == 1 and '"nope" not found' in nope.output
