"""`--alerts email,slack` on `trading-cli deploy` and `deploy alerts`, without a cluster:
the `spec.alerts` block the flags make, and the flags it refuses with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubetrade_operator.api import TradingSessionSpec
from kubetrade_operator.cli.alert_options import AlertFlags, AlertsError, alerts_block, describe
from kubetrade_operator.cli.main import app

runner = CliRunner()


def with_email(channels: str, **more: Any) -> AlertFlags:
    """Flags with what email needs, and `more`."""
    email = {"smtp_host": "smtp.example.com", "alert_from": "bot@example.com"}
    return AlertFlags(channels, **(email | {"alert_to": "a@x.io"} | more))


EMAIL_FLAGS = ["--smtp-host", "smtp.example.com", "--alert-from", "bot@example.com"]


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))


def dry_run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["deploy", "--model", "ppo", "--dry-run", *args])
    return result.exit_code, result.output


# --- the block ------------------------------------------------------------------------------


def test_both_channels_make_a_block_the_crd_model_accepts() -> None:
    flags = with_email(
        "email,slack",
        slack_webhook_secret="slack-hook",
        smtp_port=2525,
        smtp_credentials_secret="smtp-auth",
        alert_min_severity="critical",
        alert_to="a@x.io, b@x.io",
    )
    block = alerts_block(flags)
    assert block["slack"] == {"webhookSecretRef": {"name": "slack-hook"}}
    assert block["email"] == {
        "smtpHost": "smtp.example.com",
        "smtpPort": 2525,
        "sender": "bot@example.com",
        "recipients": ["a@x.io", "b@x.io"],
        "credentialsSecretRef": {"name": "smtp-auth"},
    }
    spec = TradingSessionSpec.model_validate({"modelRef": {"name": "m"}, "alerts": block})
    assert spec.alerts.email is not None and spec.alerts.slack is not None
    assert spec.alerts.min_severity == "critical"


def test_a_listed_channel_keeps_what_the_session_has_and_an_unlisted_one_is_switched_off() -> None:
    current = {
        "slack": {"webhookSecretRef": {"name": "old-hook"}},
        "email": {"smtpHost": "h", "sender": "s@x.io", "recipients": ["r@x.io"]},
    }
    block = alerts_block(AlertFlags("slack"), current)
    assert block == {"slack": {"webhookSecretRef": {"name": "old-hook"}}, "email": None}
    changed = alerts_block(AlertFlags("email", alert_to="new@x.io"), current)
    assert changed["email"]["recipients"] == ["new@x.io"]
    assert changed["email"]["smtpHost"] == "h" and changed["slack"] is None
    assert alerts_block(AlertFlags("none"), current) == {"slack": None, "email": None}


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (AlertFlags("sms"), "--alerts: unknown channel 'sms'; the channels are email, slack"),
        (AlertFlags("slack,pager"), "unknown channel 'pager'"),
        (AlertFlags(" , "), "--alerts: name a channel"),
        (AlertFlags("none,slack", slack_webhook_secret="h"), "none cannot be combined"),
        (AlertFlags("slack"), "--alerts slack needs --slack-webhook-secret NAME"),
        (
            AlertFlags("email", smtp_host="h"),
            "--alerts email needs --alert-from ADDRESS, --alert-to ADDRESS[,ADDRESS...] "
            "(spec.alerts.email.sender, spec.alerts.email.recipients)",
        ),
        (with_email("email", slack_webhook_secret="h"), "--slack-webhook-secret goes"),
        (AlertFlags("slack", slack_webhook_secret="h", smtp_host="h"), "--smtp-host goes with"),
        (AlertFlags(None, slack_webhook_secret="h"), "--alerts CHANNELS is needed"),
        (
            AlertFlags("slack", slack_webhook_secret="h", alert_min_severity="loud"),
            "--alert-min-severity: 'loud' is not one of info, warning, critical",
        ),
    ],
)
def test_flags_that_cannot_make_a_block_name_the_flag(flags: AlertFlags, says: str) -> None:
    with pytest.raises(AlertsError) as err:
        alerts_block(flags)
    assert says in str(err.value)


def test_describe_says_where_alerts_go() -> None:
    assert describe(None) == "no alerts"
    block = alerts_block(with_email("email,slack", slack_webhook_secret="hook"))
    assert describe(block) == (
        "slack (webhook Secret hook), email via smtp.example.com:587 to a@x.io; "
        "min severity warning"
    )


# --- deploy --alerts -------------------------------------------------------------------------


def test_deploy_dry_run_writes_the_alert_channels() -> None:
    code, out = dry_run(
        "--alerts", "email,slack", "--slack-webhook-secret", "hook", *EMAIL_FLAGS,
        "--alert-to", "a@x.io,b@x.io", "--alert-min-severity", "info",
    )  # fmt: skip
    assert code == 0, out
    alerts: dict[str, Any] = yaml.safe_load(out)["spec"]["alerts"]
    assert alerts["slack"]["webhookSecretRef"]["name"] == "hook"
    assert alerts["email"]["recipients"] == ["a@x.io", "b@x.io"]
    assert alerts["minSeverity"] == "info"


def test_deploy_without_alert_flags_sends_no_alerts_block() -> None:
    code, out = dry_run()
    assert code == 0 and "alerts" not in yaml.safe_load(out)["spec"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--alerts", "sms"], "error: --alerts: unknown channel 'sms'"),
        (["--alerts", "slack"], "--slack-webhook-secret NAME: a Secret whose `url` key"),
        (["--alerts", "email", *EMAIL_FLAGS], "--alerts email needs --alert-to"),
        (["--slack-webhook-secret", "hook"], "--alerts CHANNELS is needed"),
    ],
)
def test_deploy_refuses_bad_alert_flags_before_the_kubeconfig_is_read(
    args: list[str], says: str
) -> None:
    code, out = dry_run(*args)
    assert code == 2 and says in out, out
    # Refused before anything else: the same with no --dry-run and no cluster.
    result = runner.invoke(app, ["deploy", "--model", "ppo", *args])
    assert result.exit_code == 2 and "no cluster configured" not in result.output


def test_deploy_alerts_refuses_what_needs_no_session_before_reading_the_cluster() -> None:
    result = runner.invoke(app, ["deploy", "alerts", "--session-id", "s", "--alerts", "sms"])
    assert result.exit_code == 2 and "unknown channel 'sms'" in result.output
    # A channel's missing settings may be on the session: that needs the cluster.
    needs = runner.invoke(app, ["deploy", "alerts", "--session-id", "s", "--alerts", "slack"])
    assert needs.exit_code == 1 and "no cluster configured" in needs.output
    bare = runner.invoke(app, ["deploy", "alerts"])
    assert bare.exit_code == 2 and "--session-id" in bare.output
