"""Alerts reach a local Slack webhook and a local SMTP server through the real clients."""

from __future__ import annotations

from kubetrade_testing.fakes.server import Response, serve
from kubetrade_testing.fakes.smtp import Mailbox, smtp_server
from kubetrade_testing.fakes.webhook import SlackWebhookFake
from kubetrade_workloads.config.trading import AlertsConfig, Severity
from kubetrade_workloads.trading.alerts import Alert, from_config


def test_breaches_halts_and_summaries_go_to_slack_and_email_by_severity() -> None:
    slack = SlackWebhookFake()
    box = Mailbox(user="alerts", password="s3cret")
    with serve(slack) as url, smtp_server(box) as port:
        config = AlertsConfig.model_validate(
            {
                "slack": {"webhookSecretRef": {"name": "slack"}},
                "email": {
                    "smtpHost": "127.0.0.1",
                    "smtpPort": port,
                    "starttls": False,
                    "sender": "trader@kubetrade.test",
                    "recipients": ["desk@kubetrade.test", "risk@kubetrade.test"],
                    "credentialsSecretRef": {"name": "smtp"},
                },
                "minSeverity": "warning",
            }
        )
        env = {
            "KUBETRADE_SLACK_WEBHOOK_URL": url + slack.path,
            "KUBETRADE_SMTP_USERNAME": "alerts",
            "KUBETRADE_SMTP_PASSWORD": "s3cret",
        }
        alerter = from_config(config, env)
        assert [c.name for c in alerter.channels] == ["slack", "email"]
        halt = Alert(
            Severity.CRITICAL, "trading state HALTED", "ACTIVE -> HALTED: drawdown 21%", "ns/s"
        )
        assert alerter(halt)
        assert not alerter(halt)  # a repeat within the quiet period is dropped
        assert not alerter(Alert(Severity.INFO, "daily summary", "equity 100,000", "ns/s"))
        assert alerter(
            Alert(Severity.WARNING, "risk LimitBreached", "maxVar: VaR 5% above 4%", "ns/s")
        )
        alerter.close()
    assert [m["text"].split(":")[0] for m in slack.messages] == [
        "[kubetrade CRITICAL] ns/s",
        "[kubetrade WARNING] ns/s",
    ]
    assert "drawdown 21%" in slack.messages[0]["blocks"][0]["text"]["text"]
    assert box.logins == ["alerts", "alerts"]
    sender, recipients, message = box.messages[0]
    assert sender == "trader@kubetrade.test"
    assert recipients == ["desk@kubetrade.test", "risk@kubetrade.test"]
    assert message["Subject"] == "[kubetrade CRITICAL] ns/s: trading state HALTED"
    assert "drawdown 21%" in message.get_payload()
    assert alerter.failures == []


def test_a_failing_channel_does_not_stop_the_others() -> None:
    slack = SlackWebhookFake()
    slack.fail(Response(500, b"rollup_error"), when=lambda seen: True, times=None)
    box = Mailbox()
    with serve(slack) as url, smtp_server(box) as port:
        config = AlertsConfig.model_validate(
            {
                "slack": {"webhookSecretRef": {"name": "slack"}},
                "email": {
                    "smtpHost": "127.0.0.1",
                    "smtpPort": port,
                    "starttls": False,
                    "sender": "t@k.test",
                    "recipients": ["d@k.test"],
                },
                "minSeverity": "info",
            }
        )
        alerter = from_config(config, {"KUBETRADE_SLACK_WEBHOOK_URL": url + slack.path})
        alerter(
            Alert(
                Severity.INFO,
                "daily summary",
                "2024-03-01: equity 101,000",
                "ns/s",
                {"orders": "4"},
            )
        )
        alerter.close()
    assert len(box.messages) == 1 and "orders: 4" in box.messages[0][2].get_payload()
    assert alerter.failures and alerter.failures[0].startswith("slack: HTTP Error 500")


def test_slack_without_its_secret_is_switched_off_loudly() -> None:
    config = AlertsConfig.model_validate({"slack": {"webhookSecretRef": {"name": "slack"}}})
    assert from_config(config, {}).channels == []
