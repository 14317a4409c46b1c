"""What a trader needs: mode, venue, data feed, risk, where state lives."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import Frozen, ObjectName, cel, validations
from .data import Interval
from .risk import RiskConfig


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
            cel("self.type != 'ccxt' || has(self.exchange)", "broker.exchange is required when broker.type is ccxt", ".exchange"),
        )
    }

    type: BrokerType = BrokerType.SIM
    exchange: Annotated[str, Field(pattern=r"^[a-z0-9_]{2,32}$")] | None = None
    """ccxt exchange id, e.g. binance or kraken."""

    @model_validator(mode="after")
    def _exchange(self) -> Self:
        if self.type == BrokerType.CCXT and self.exchange is None:
            raise ValueError("broker.exchange is required when broker.type is ccxt")
        return self


class StoreConfig(Frozen):
    url_secret_ref: SecretRef | None = None
    """Secret whose `url` key holds a SQLAlchemy URL; SQLite on the pod's volume when unset."""
    redis_secret_ref: SecretRef | None = None
    """Secret whose `url` key holds a Redis URL for live snapshots and heartbeats."""


class TradingConfig(Frozen):
    """Everything the trader needs, apart from the model it runs."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel("self.mode != 'live' || has(self.credentialsSecretRef)", "credentialsSecretRef is required when mode is live", ".credentialsSecretRef"),
            cel("self.mode != 'live' || self.confirmLive == true", "confirmLive must be true when mode is live", ".confirmLive"),
            cel("self.mode != 'live' || self.broker.type != 'sim'", "broker.type sim cannot trade live", ".broker.type"),
        )
    }

    mode: Mode = Mode.PAPER
    confirm_live: bool = False
    """Must be true, next to mode: live, before real money is traded."""
    credentials_secret_ref: SecretRef | None = None
    broker: BrokerConfig = BrokerConfig()
    feed: FeedType = FeedType.SYNTHETIC
    symbols: Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=200)] | None = None
    """Symbols to trade; the model's symbols when unset."""
    interval: Interval = Interval.DAY
    bar_seconds: Annotated[float, Field(gt=0.0, le=86400.0)] | None = None
    """Wall-clock seconds between bars of the synthetic or replay feed (fast-forward)."""
    initial_cash: Annotated[float, Field(gt=0.0)] = 100_000.0
    risk: RiskConfig = RiskConfig()
    store: StoreConfig = StoreConfig()

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
