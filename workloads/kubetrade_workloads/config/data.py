"""What a data workload needs: where bars come from, how they are cleaned,
which features are made, how they are validated and split."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from .base import Fraction, Frozen, Symbol, cel, validations


class SourceType(StrEnum):
    SYNTHETIC = "synthetic"
    FILE = "file"
    YAHOO = "yahoo"
    ALPACA = "alpaca"
    CCXT = "ccxt"


class Interval(StrEnum):
    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"
    HOUR = "1h"
    DAY = "1d"


class SourceConfig(Frozen):
    """Where the bars come from. `synthetic` needs nothing from outside."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.type != 'file' || has(self.uri)",
                "source.uri is required when source.type is file",
                ".uri",
            ),
            cel(
                "self.type != 'ccxt' || has(self.exchange)",
                "source.exchange is required when source.type is ccxt",
                ".exchange",
            ),
            cel(
                "!has(self.end) || self.start < self.end",
                "source.end must be after source.start",
                ".end",
            ),
        )
    }

    type: SourceType = SourceType.SYNTHETIC
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=200)] = [
        "SYN-A",
        "SYN-B",
        "SYN-C",
    ]
    interval: Interval = Interval.DAY
    start: dt.date = dt.date(2020, 1, 1)
    end: dt.date | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 42
    uri: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    exchange: Annotated[str, Field(pattern=r"^[a-z0-9_]{2,32}$")] | None = None
    feed: Annotated[str, Field(pattern=r"^(iex|sip|otc)$")] | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        if self.type == SourceType.FILE and self.uri is None:
            raise ValueError("source.uri is required when source.type is file")
        if self.type == SourceType.CCXT and self.exchange is None:
            raise ValueError("source.exchange is required when source.type is ccxt")
        if self.end is not None and self.end <= self.start:
            raise ValueError("source.end must be after source.start")
        return self


class FillMethod(StrEnum):
    FORWARD = "ffill"
    NONE = "none"


class OutlierAction(StrEnum):
    CLIP = "clip"
    DROP = "drop"
    KEEP = "keep"


class Adjustment(StrEnum):
    """Which corporate actions adjust prices backward (see `CleaningConfig`)."""

    AUTO = "auto"
    SPLITS = "splits"
    ALL = "all"
    NONE = "none"


class CorporateAction(Frozen):
    """A split (`ratio`: new shares per old one, 2 for 2:1, 0.1 for a 1:10
    reverse split) or a cash dividend per share (`dividend`) of `symbol`,
    effective from its first bar on `date` (the ex-date)."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "has(self.ratio) != has(self.dividend)",
                "a corporate action needs exactly one of ratio and dividend",
                ".ratio",
            ),
            cel(
                "!has(self.ratio) || self.ratio != 1.0",
                "a split ratio of 1 changes nothing; remove the action",
                ".ratio",
            ),
        )
    }

    symbol: Symbol
    date: dt.date
    ratio: Annotated[float, Field(gt=0.0, le=1000.0)] | None = None
    dividend: Annotated[float, Field(gt=0.0, le=1e6)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.ratio is None) == (self.dividend is None):
            raise ValueError("a corporate action needs exactly one of ratio and dividend")
        if self.ratio == 1.0:
            raise ValueError("a split ratio of 1 changes nothing; remove the action")
        return self


class BarLabel(StrEnum):
    START = "start"
    END = "end"


_IANA = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$"


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"cleaning.timezone {name!r} is not an IANA time zone") from None
    return name


class CleaningConfig(Frozen):
    """How bars are repaired. `calendar` is an exchange code (XNYS, XLON, ...),
    `24/5` (FX: Sunday 17:00 to Friday 17:00 New York), `24/7`, or `auto`: 24/7
    for crypto pairs (BTC/USDT, BTC-USD), 24/5 for currency pairs (EURUSD,
    EUR/USD, EURUSD=X), the exchange of a Yahoo suffix (.L, .DE, .T), XNYS
    otherwise. `timezone` (IANA, e.g. America/New_York) is the zone of
    timestamps written without an offset, which are refused without it.
    `barLabel` says whether a source stamps a bar at its start or its end.
    Only impossible bars are repaired: a bar that fully reverts on the next
    bar by more than `outlierZ` trailing robust sigmas (a bad print) and a bar
    repeating the previous one exactly (a stale tick) become missing. Returns
    beyond `outlierZ` trailing robust sigmas are counted as outliers and kept
    (`outlierAction: keep`); `drop` drops them and `clip` clips them, both
    only when asked, as they rewrite real moves.
    `adjustment` says which corporate actions adjust prices backward: `auto`
    the given splits (`corporateActions`, or the source's `split` column) and
    detected split-like jumps; `splits` the given splits only; `all` as auto
    plus given cash dividends; `none` raw prices."""

    fill_method: FillMethod = FillMethod.FORWARD
    fill_limit: Annotated[int, Field(ge=0, le=1000)] = 5
    outlier_z: Annotated[float, Field(gt=0.0, le=100.0)] = 10.0
    outlier_action: OutlierAction = OutlierAction.KEEP
    adjustment: Adjustment = Adjustment.AUTO
    corporate_actions: Annotated[list[CorporateAction], Field(max_length=1000)] = []
    calendar: Annotated[str, Field(pattern=r"^(auto|24/7|24/5|[A-Z]{4})$")] = "auto"
    timezone: Annotated[str, Field(pattern=_IANA, max_length=64), AfterValidator(_zone)] | None = (
        None
    )
    bar_label: BarLabel = BarLabel.START


class Normalization(StrEnum):
    ZSCORE = "zscore"
    MINMAX = "minmax"
    NONE = "none"


class FeatureGroup(StrEnum):
    TREND = "trend"
    MOMENTUM = "momentum"
    VOLATILITY = "volatility"
    VOLUME = "volume"
    RETURNS = "returns"
    STATISTICS = "statistics"
    CALENDAR = "calendar"
    REGIME = "regime"


class FeatureConfig(Frozen):
    """Which features are made, how they are selected and normalised.

    The candidates are every feature of `groups` plus each name in `indicators`;
    with neither set, every group. Selection, on the training split, then drops
    near-constant features (variance at or below `varianceThreshold` times the
    feature's mean square: scale-free) and, of each pair correlated above
    `correlationThreshold`, the later one. `window` is the rolling-statistics
    window. Normalisation statistics come from the training split.
    """

    groups: Annotated[list[FeatureGroup], Field(min_length=1, max_length=8)] | None = None
    indicators: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] | None
    ) = None
    window: Annotated[int, Field(ge=1, le=1000)] = 30
    variance_threshold: Annotated[float, Field(ge=0.0)] = 1e-8
    correlation_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    normalization: Normalization = Normalization.ZSCORE
    clip: Annotated[float, Field(gt=0.0, le=1000.0)] | None = None
    """Clip every normalised feature (never a price) to +-`clip`; off by default."""


class ValidationConfig(Frozen):
    """Thresholds a dataset must meet, per symbol; a miss fails the Dataset.
    Staleness is measured from a symbol's last bar to `source.end` (or now).
    `maxOffCalendarRatio` caps the share of a symbol's bars its calendar lacks
    (dropped in cleaning): more means the calendar is wrong for the market."""

    min_completeness: Fraction = 0.95
    max_gap_ratio: Fraction = 0.05
    max_outlier_ratio: Fraction = 0.01
    max_off_calendar_ratio: Fraction = 0.05
    max_staleness_days: Annotated[int, Field(ge=0)] | None = None


class FoldMode(StrEnum):
    ROLLING = "rolling"
    EXPANDING = "expanding"


class WalkForwardConfig(Frozen):
    """Walk-forward folds over train plus validation, cut into `folds + 1` equal
    blocks: fold k tests on block k and trains on every block before it
    (expanding) or on the one block before it (rolling)."""

    folds: Annotated[int, Field(ge=2, le=50)] = 5
    mode: FoldMode = FoldMode.EXPANDING


_SPLIT_SUM = "self.train + self.validation + self.test >= 0.999999 && self.train + self.validation + self.test <= 1.000001"


_DATES_TOGETHER = "has(self.trainEnd) == has(self.validationEnd)"
_DATES_ORDERED = (
    "!has(self.trainEnd) || !has(self.validationEnd) || self.trainEnd < self.validationEnd"
)


class SplitConfig(Frozen):
    """Chronological splits, by ratio (ratios sum to one) or by date.

    With `trainEnd` and `validationEnd` set, train holds bars up to the end of
    the `trainEnd` day (UTC), validation the bars after it up to the end of the
    `validationEnd` day, test the rest; the ratios are then ignored. `embargo`
    bars are dropped after each boundary. Walk-forward folds cover train plus
    validation, so the test split stays unseen.
    """

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(_SPLIT_SUM, "splits.train + splits.validation + splits.test must sum to 1"),
            cel(
                _DATES_TOGETHER,
                "splits.trainEnd and splits.validationEnd must be set together",
                ".validationEnd",
            ),
            cel(
                _DATES_ORDERED,
                "splits.validationEnd must be after splits.trainEnd",
                ".validationEnd",
            ),
        )
    }

    train: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    validation: Fraction = 0.15
    test: Fraction = 0.15
    train_end: dt.date | None = None
    validation_end: dt.date | None = None
    embargo: Annotated[int, Field(ge=0, le=10000)] = 0
    walk_forward: WalkForwardConfig | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        if abs(self.train + self.validation + self.test - 1.0) > 1e-6:
            raise ValueError("splits.train + splits.validation + splits.test must sum to 1")
        if (self.train_end is None) != (self.validation_end is None):
            raise ValueError("splits.trainEnd and splits.validationEnd must be set together")
        if self.train_end and self.validation_end and self.train_end >= self.validation_end:
            raise ValueError("splits.validationEnd must be after splits.trainEnd")
        return self


class CacheConfig(Frozen):
    enabled: bool = False
    ttl_seconds: Annotated[int, Field(ge=1, le=30 * 86400)] = 86400


class DataConfig(Frozen):
    """Everything the data workload needs to build one dataset."""

    source: SourceConfig = SourceConfig()
    cleaning: CleaningConfig = CleaningConfig()
    features: FeatureConfig = FeatureConfig()
    validation: ValidationConfig = ValidationConfig()
    splits: SplitConfig = SplitConfig()
    cache: CacheConfig = CacheConfig()
