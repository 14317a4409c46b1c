"""Alerts by email over SMTP (STARTTLS and AUTH when configured)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from ...config.trading import EmailAlerts
from .alerter import Alert


class EmailChannel:
    """Mails each alert to the configured recipients."""

    name = "email"

    def __init__(
        self,
        config: EmailAlerts,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.config = config
        self._username, self._password = username, password
        self._timeout = timeout

    def message(self, alert: Alert) -> EmailMessage:
        """The mail for one alert."""
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.config.recipients)
        lines = [alert.text, ""] + [f"{k}: {v}" for k, v in alert.fields.items()]
        msg.set_content("\n".join(lines).rstrip() + "\n")
        return msg

    def send(self, alert: Alert) -> None:
        """Connect, upgrade to TLS if configured, log in if credentials exist, send."""
        with smtplib.SMTP(
            self.config.smtp_host, self.config.smtp_port, timeout=self._timeout
        ) as smtp:
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(self.message(alert))
