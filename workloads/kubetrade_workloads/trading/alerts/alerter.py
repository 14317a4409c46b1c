"""What an alert is, which risk events raise one, and the queue that sends them.

Alerts are sent on a background thread so a slow webhook or mail server never
delays an order; an identical alert within `quiet_seconds` is sent once (a
breaker that trips on every bar is one alert, not hundreds). Severities:
`info` (the daily summary, a live config change), `warning` (a breach, a
breaker, REDUCING), `critical` (HALTED, a failed reconciliation, a lost
lease, refused credentials, a crash).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ...config.trading import AlertsConfig, Severity
from ...risk.events import RiskEvent, RiskEventKind, TradingState

log = logging.getLogger(__name__)
RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
SLACK_URL_ENV = "KUBETRADE_SLACK_WEBHOOK_URL"
SMTP_USER_ENV = "KUBETRADE_SMTP_USERNAME"
SMTP_PASSWORD_ENV = "KUBETRADE_SMTP_PASSWORD"  # noqa: S105 - a variable's name, not a secret


@dataclass(frozen=True)
class Alert:
    """One message to people."""

    severity: Severity
    title: str
    text: str
    session: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """A mail subject / first line: severity, session, title."""
        return f"[kubetrade {self.severity.value.upper()}] {self.session}: {self.title}"


class Channel(Protocol):
    """Somewhere alerts go."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise on failure."""
        ...


def from_risk_event(event: RiskEvent, session: str) -> Alert | None:
    """The alert a risk event deserves, if any (refusals and resizes are routine)."""
    if event.kind == RiskEventKind.STATE_CHANGED:
        severity = Severity.CRITICAL if event.state == TradingState.HALTED else Severity.WARNING
        if event.state == TradingState.ACTIVE:
            severity = Severity.INFO
        return Alert(severity, f"trading state {event.state.value}", event.detail, session)
    if event.kind in (RiskEventKind.LIMIT_BREACHED, RiskEventKind.BREAKER_TRIPPED):
        return Alert(Severity.WARNING, f"risk {event.kind.value}", event.detail, session)
    if event.kind == RiskEventKind.HALT_REQUESTED:
        return Alert(Severity.CRITICAL, "trading halted", event.detail, session)
    if event.kind == RiskEventKind.CONFIG_CHANGED:
        return Alert(Severity.INFO, "risk limits changed", event.detail, session)
    return None


class Alerter:
    """Sends alerts at or above `min_severity` to every channel, off the trading thread."""

    def __init__(
        self,
        channels: Sequence[Channel],
        min_severity: Severity = Severity.WARNING,
        *,
        quiet_seconds: float = 300.0,
    ) -> None:
        self.channels = list(channels)
        self.min_severity = Severity(min_severity)
        self.quiet_seconds = quiet_seconds
        self.failures: list[str] = []
        self._recent: dict[tuple[Severity, str, str], float] = {}
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
        if self.channels:
            self._thread.start()

    def __call__(self, alert: Alert, *, always: bool = False) -> bool:
        """Queue `alert` unless it is below the threshold (`always`: whatever its
        severity) or a recent repeat."""
        below = RANK[alert.severity] < RANK[self.min_severity] and not always
        if not self.channels or below:
            return False
        key = (alert.severity, alert.title, alert.text)
        now = time.monotonic()
        if now - self._recent.get(key, -1e18) < self.quiet_seconds:
            return False
        self._recent[key] = now
        self._queue.put(alert)
        return True

    def _loop(self) -> None:
        while (alert := self._queue.get()) is not None:
            for channel in self.channels:
                try:
                    channel.send(alert)
                except Exception as err:  # noqa: BLE001 - one channel down must not stop others
                    self.failures.append(f"{channel.name}: {err}")
                    log.warning("alert to %s failed: %s", channel.name, err)
            self._queue.task_done()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until queued alerts are sent (or `timeout`)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Send what is queued, then stop."""
        if self.channels:
            self._queue.put(None)
            self._thread.join(timeout=10)


def from_config(config: AlertsConfig, env: dict[str, str] | None = None) -> Alerter:
    """The channels a session's `alerts` configure, with secrets from the environment."""
    env = dict(os.environ) if env is None else env
    channels: list[Channel] = []
    if config.slack is not None:
        url = env.get(SLACK_URL_ENV)
        if url:
            from .slack import SlackWebhook

            channels.append(SlackWebhook(url))
        else:
            log.error("alerts.slack is set but %s is empty: Slack alerts are off", SLACK_URL_ENV)
    if config.email is not None:
        from .email import EmailChannel

        channels.append(
            EmailChannel(
                config.email,
                username=env.get(SMTP_USER_ENV) or None,
                password=env.get(SMTP_PASSWORD_ENV) or None,
            )
        )
    return Alerter(channels, Severity(config.min_severity))
