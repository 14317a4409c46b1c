"""Slack incoming webhooks: one POST of JSON per alert."""

from __future__ import annotations

import json
import urllib.request

from ...config.trading import Severity
from .alerter import Alert

_EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.CRITICAL: ":rotating_light:",
}


class SlackWebhook:
    """Posts alerts to one incoming-webhook URL."""

    name = "slack"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("a Slack webhook URL starts with https://")
        self._url = url
        self._timeout = timeout

    def payload(self, alert: Alert) -> dict[str, object]:
        """The message: a text fallback and a block with the fields."""
        text = f"{_EMOJI[alert.severity]} *{alert.subject}*\n{alert.text}"
        blocks: list[dict[str, object]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        ]
        if alert.fields:
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in alert.fields.items()
                    ][:10],
                }
            )
        return {"text": f"{alert.subject}: {alert.text}", "blocks": blocks}

    def send(self, alert: Alert) -> None:
        """POST the payload; raise on a non-2xx answer."""
        body = json.dumps(self.payload(alert)).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self._url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"Slack answered HTTP {response.status}")
