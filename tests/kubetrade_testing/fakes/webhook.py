"""A Slack incoming webhook: `POST /services/...` with JSON, answered `ok` (or an error)."""

from __future__ import annotations

from typing import Any

from .server import FakeService, Response, Seen


class SlackWebhookFake(FakeService):
    """Keeps every message posted to its webhook path."""

    no_delay = True

    path = "/services/T000/B000/XXXX"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []

    def route(self, seen: Seen) -> Response:
        if seen.method != "POST" or seen.path != self.path:
            return Response(404, b"no_service")
        if seen.headers.get("content-type") != "application/json":
            return Response(400, b"invalid_payload")
        body = seen.json()
        if not isinstance(body, dict) or not body.get("text"):
            return Response(400, b"no_text")
        self.messages.append(body)
        return Response(200, b"ok")
