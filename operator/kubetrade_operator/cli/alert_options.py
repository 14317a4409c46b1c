"""`--alerts email,slack` and the flags each channel needs: the session's
`spec.alerts` block, for `deploy` (a new session) and `deploy alerts` (one that runs).

The channels are the trader's (`kubetrade_workloads.trading.alerts`): Slack by an
incoming webhook whose URL is the `url` key of a Secret, and email over SMTP to
named recipients. A channel is only sent with what it needs; what is missing is
named by its flag and its field here, before anything reaches the API server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer

CHANNELS = ("email", "slack")
NONE = "none"
SEVERITIES = ("info", "warning", "critical")


class AlertsError(ValueError):
    """Flags that cannot make an alerts block; the message names the flag."""


@dataclass(frozen=True)
class AlertFlags:
    """The alert flags as given; None: not given."""

    alerts: str | None = None
    slack_webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    alert_from: str | None = None
    alert_to: str | None = None
    smtp_credentials_secret: str | None = None
    alert_min_severity: str | None = None

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> AlertFlags:
        """The alert flags among a command's parameters (named as the fields are)."""
        return cls(**{name: params.get(name) for name in cls.__dataclass_fields__})

    def given(self) -> bool:
        return any(v is not None for v in vars(self).values())


def channels(text: str) -> tuple[str, ...]:
    """The channels `--alerts` names (`none`: no channel), in a fixed order."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise AlertsError(f"--alerts: name a channel ({', '.join(CHANNELS)}) or {NONE}")
    unknown = [n for n in names if n not in (*CHANNELS, NONE)]
    if unknown:
        raise AlertsError(
            f"--alerts: unknown channel {unknown[0]!r}; the channels are "
            f"{', '.join(CHANNELS)} (or {NONE} to send no alerts)"
        )
    if NONE in names and len(names) > 1:
        raise AlertsError(f"--alerts: {NONE} cannot be combined with a channel")
    return tuple(c for c in CHANNELS if c in names)


def _slack(flags: AlertFlags, current: Mapping[str, Any] | None) -> dict[str, Any]:
    if flags.slack_webhook_secret:
        return {"webhookSecretRef": {"name": flags.slack_webhook_secret}}
    if current:
        return dict(current)
    raise AlertsError(
        "--alerts slack needs --slack-webhook-secret NAME: a Secret whose `url` key holds "
        "the incoming-webhook URL (spec.alerts.slack.webhookSecretRef), e.g. "
        "kubectl create secret generic NAME --from-literal=url=https://hooks.slack.com/..."
    )


_EMAIL_NEEDS = (
    ("smtpHost", "--smtp-host HOST"),
    ("sender", "--alert-from ADDRESS"),
    ("recipients", "--alert-to ADDRESS[,ADDRESS...]"),
)


def _email(flags: AlertFlags, current: Mapping[str, Any] | None) -> dict[str, Any]:
    block: dict[str, Any] = dict(current or {})
    recipients = [a.strip() for a in (flags.alert_to or "").split(",") if a.strip()]
    given = {
        "smtpHost": flags.smtp_host,
        "smtpPort": flags.smtp_port,
        "sender": flags.alert_from,
        "recipients": recipients or None,
        "credentialsSecretRef": (
            {"name": flags.smtp_credentials_secret} if flags.smtp_credentials_secret else None
        ),
    }
    block.update({k: v for k, v in given.items() if v is not None})
    missing = [(field, flag) for field, flag in _EMAIL_NEEDS if not block.get(field)]
    if missing:
        raise AlertsError(
            "--alerts email needs "
            + ", ".join(flag for _, flag in missing)
            + " ("
            + ", ".join(f"spec.alerts.email.{field}" for field, _ in missing)
            + "); SMTP AUTH, if the server wants it, from --smtp-credentials-secret NAME "
            "(a Secret with `username` and `password` keys)"
        )
    return block


_CHANNEL_FLAGS = {
    "slack": (("slack_webhook_secret", "--slack-webhook-secret"),),
    "email": (
        ("smtp_host", "--smtp-host"),
        ("smtp_port", "--smtp-port"),
        ("alert_from", "--alert-from"),
        ("alert_to", "--alert-to"),
        ("smtp_credentials_secret", "--smtp-credentials-secret"),
    ),
}


def checked_channels(flags: AlertFlags) -> tuple[str, ...]:
    """The channels asked for, once the flags agree with them (no session needed)."""
    if flags.alerts is None:
        raise AlertsError("--alerts CHANNELS is needed with the alert flags (email, slack, none)")
    chosen = channels(flags.alerts)
    for channel, names in _CHANNEL_FLAGS.items():
        stray = [flag for attr, flag in names if getattr(flags, attr) is not None]
        if stray and channel not in chosen:
            raise AlertsError(f"{stray[0]} goes with --alerts {channel}")
    if flags.alert_min_severity is not None and flags.alert_min_severity not in SEVERITIES:
        raise AlertsError(
            f"--alert-min-severity: {flags.alert_min_severity!r} is not one of {', '.join(SEVERITIES)}"
        )
    return chosen


def alerts_block(flags: AlertFlags, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `spec.alerts` the flags ask for, on top of a running session's `current`
    one. A channel left out of `--alerts` is switched off (None, which a merge patch
    deletes); a listed channel keeps what `current` has unless a flag changes it."""
    chosen = checked_channels(flags)
    current = current or {}
    block: dict[str, Any] = {
        "slack": _slack(flags, current.get("slack")) if "slack" in chosen else None,
        "email": _email(flags, current.get("email")) if "email" in chosen else None,
    }
    if flags.alert_min_severity is not None:
        block["minSeverity"] = flags.alert_min_severity
    return block


def describe(alerts: Mapping[str, Any] | None) -> str:
    """One line: where a session's alerts go."""
    alerts = alerts or {}
    parts = []
    if slack := alerts.get("slack"):
        parts.append(f"slack (webhook Secret {slack['webhookSecretRef']['name']})")
    if email := alerts.get("email"):
        host = f"{email.get('smtpHost')}:{email.get('smtpPort', 587)}"
        parts.append(f"email via {host} to {', '.join(email.get('recipients') or [])}")
    if not parts:
        return "no alerts"
    return ", ".join(parts) + f"; min severity {alerts.get('minSeverity', 'warning')}"


# --- the flags, shared by `deploy` and `deploy alerts` ----------------------------------------

ALERTS = typer.Option(
    None,
    "--alerts",
    help="Alert channels, comma-separated: email, slack (or none to send no alerts).",
)
SLACK_WEBHOOK_SECRET = typer.Option(
    None,
    "--slack-webhook-secret",
    help="Secret whose `url` key holds the Slack incoming-webhook URL (--alerts slack).",
)
SMTP_HOST = typer.Option(None, "--smtp-host", help="SMTP server for --alerts email.")
SMTP_PORT = typer.Option(None, "--smtp-port", min=1, max=65535, help="SMTP port (587).")
ALERT_FROM = typer.Option(None, "--alert-from", help="Sender address of alert mail.")
ALERT_TO = typer.Option(None, "--alert-to", help="Comma-separated recipients of alert mail.")
SMTP_CREDENTIALS_SECRET = typer.Option(
    None,
    "--smtp-credentials-secret",
    help="Secret with `username` and `password` keys for SMTP AUTH (--alerts email).",
)
ALERT_MIN_SEVERITY = typer.Option(
    None,
    "--alert-min-severity",
    help="Alerts below this are not sent: info, warning (the default) or critical.",
)
