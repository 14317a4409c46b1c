"""Alerts on breaches, halts, errors and the daily summary: Slack and email."""

from .alerter import Alert, Alerter, Channel, from_config, from_risk_event

__all__ = ["Alert", "Alerter", "Channel", "from_config", "from_risk_event"]
