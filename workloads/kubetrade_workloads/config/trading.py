"""What a trader needs: mode, venue, data feed, risk, where state lives."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import Frozen, ObjectName, Symbol, cel, validations
from .costs import CostConfig
from .data import Interval
from .risk import RiskConfig

# An http(s) endpoint: a proxy, a sandbox, or a local stand-in in tests.
Endpoint = Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2048)]


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class BrokerType(StrEnum):
    SIM = "sim"
    ALPACA = "alpaca"
    CCXT = "ccxt"


class FeedType(StrEnum):
    SYNTHETIC = "synthetic"
    REPLAY = "replay"
    ALPACA = "alpaca"
    CCXT = "ccxt"


class SecretRef(Frozen):
    name: ObjectName


class BrokerConfig(Frozen):
    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.type != 'ccxt' || has(self.exchange)",
                "broker.exchange is required when broker.type is ccxt",
                ".exchange",
            ),
        )
    }

    type: BrokerType = BrokerType.SIM
    exchange: Annotated[str, Field(pattern=r"^[a-z0-9_]{2,32}$")] | None = None
    """ccxt exchange id, e.g. binance or kraken."""
    url: Endpoint | None = None
    """Trading API endpoint override (alpaca-py `url_override`; every ccxt API URL)."""

    @model_validator(mode="after")
    def _exchange(self) -> Self:
        if self.type == BrokerType.CCXT and self.exchange is None:
            raise ValueError("broker.exchange is required when broker.type is ccxt")
        return self


class StoreConfig(Frozen):
    url_secret_ref: SecretRef | None = None
    """Secret whose `url` key holds a SQLAlchemy URL (KUBETRADE_STORE_URL in the pod);
    SQLite on the pod's volume when unset."""
    redis_secret_ref: SecretRef | None = None
    """Secret whose `url` key holds a Redis URL for live snapshots and heartbeats
    (KUBETRADE_REDIS_URL in the pod)."""
    state_claim_name: ObjectName | None = None
    """A ReadWriteOnce PersistentVolumeClaim for the SQLite store, so the trade
    history outlives a rescheduled pod; without it (and without `urlSecretRef`) the
    store lives in an emptyDir that survives crashes of the trader but not the pod."""


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class SlackAlerts(Frozen):
    webhook_secret_ref: SecretRef
    """Secret whose `url` key holds the incoming-webhook URL (the pod gets it as
    KUBETRADE_SLACK_WEBHOOK_URL)."""


class EmailAlerts(Frozen):
    smtp_host: Annotated[str, Field(min_length=1, max_length=253)]
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    recipients: Annotated[
        list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]],
        Field(min_length=1, max_length=20),
    ]
    credentials_secret_ref: SecretRef | None = None
    """Secret with `username` and `password` keys for SMTP AUTH (KUBETRADE_SMTP_USERNAME,
    KUBETRADE_SMTP_PASSWORD in the pod)."""


class AlertsConfig(Frozen):
    """Where breaches, halts, errors and the daily summary are sent; nowhere by default."""

    slack: SlackAlerts | None = None
    email: EmailAlerts | None = None
    min_severity: Severity = Severity.WARNING
    """Alerts below this severity are not sent (the daily summary is `info`)."""
    daily_summary: bool = True


class DriftAction(StrEnum):
    ALERT = "Alert"
    RETRAIN = "Retrain"


class DriftConfig(Frozen):
    """When the trader's drift and decay report turns the session's `Drifted` condition
    True, and what follows: a Warning Event always, a retrain request with `Retrain`."""

    max_psi: Annotated[float, Field(gt=0.0, le=10.0)] = 0.25
    """A feature whose PSI against its training reference exceeds this has drifted
    (0.1-0.25 is the customary "moderate" band, above 0.25 a shift)."""
    max_ks_p_value: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    """Also call a feature drifted when its KS p-value is below this (off when unset:
    with hundreds of values, KS finds differences too small to matter)."""
    max_decay_p_value: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    """Performance has decayed when the one-sided test that live per-bar returns fall
    short of the backtest's has a p-value below this."""
    min_bars: Annotated[int, Field(ge=1, le=1_000_000)] = 50
    """Bars on the current model before any verdict: no condition before them."""
    window: Annotated[int, Field(ge=20, le=100_000)] = 250
    """Bars in the trader's rolling window of feature values and returns."""
    action: DriftAction = DriftAction.ALERT
    """`Alert`: the condition and an Event. `Retrain`: also request a run of the
    Model's TrainingRun (`kubetrade.io/run-requested-at`)."""
    cooldown_minutes: Annotated[int, Field(ge=0, le=525_600)] = 1440
    """At most one retrain request per this many minutes."""


class TradingConfig(Frozen):
    """Everything the trader needs, apart from the model it runs."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.mode != 'live' || has(self.credentialsSecretRef)",
                "credentialsSecretRef is required when mode is live",
                ".credentialsSecretRef",
            ),
            cel(
                "self.mode != 'live' || self.confirmLive == true",
                "confirmLive must be true when mode is live",
                ".confirmLive",
            ),
            cel(
                "self.mode != 'live' || self.broker.type != 'sim'",
                "broker.type sim cannot trade live",
                ".broker.type",
            ),
        )
    }

    mode: Mode = Mode.PAPER
    confirm_live: bool = False
    """Must be true, next to mode: live, before real money is traded."""
    credentials_secret_ref: SecretRef | None = None
    broker: BrokerConfig = BrokerConfig()
    feed: FeedType = FeedType.SYNTHETIC
    feed_url: Endpoint | None = None
    """Market-data endpoint override for the alpaca and ccxt feeds."""
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=200)] | None = None
    """Symbols to trade; the model's symbols when unset."""
    interval: Interval = Interval.DAY
    bar_seconds: Annotated[float, Field(gt=0.0, le=86400.0)] | None = None
    """Wall-clock seconds between bars of the synthetic or replay feed (fast-forward)."""
    initial_cash: Annotated[float, Field(gt=0.0)] = 100_000.0
    """Starting cash of the sim broker (alpaca and ccxt start from the account's cash)."""
    costs: CostConfig = CostConfig()
    """Commission and slippage of the sim broker; the shorting rule for every broker."""
    risk: RiskConfig = RiskConfig()
    store: StoreConfig = StoreConfig()
    alerts: AlertsConfig = AlertsConfig()
    drift: DriftConfig | None = None
    """Thresholds on the trader's drift and decay report; without them the trader
    still reports (`status.trading.drift`) but nothing is judged."""

    @model_validator(mode="after")
    def _live(self) -> Self:
        if self.mode == Mode.LIVE:
            if self.credentials_secret_ref is None:
                raise ValueError("credentialsSecretRef is required when mode is live")
            if not self.confirm_live:
                raise ValueError("confirmLive must be true when mode is live")
            if self.broker.type == BrokerType.SIM:
                raise ValueError("broker.type sim cannot trade live")
        return self
