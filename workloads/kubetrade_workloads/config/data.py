"""What a data workload needs: where bars come from, how they are cleaned,
which features are made, how they are validated and split."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

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
            cel("self.type != 'file' || has(self.uri)", "source.uri is required when source.type is file", ".uri"),
            cel("self.type != 'ccxt' || has(self.exchange)", "source.exchange is required when source.type is ccxt", ".exchange"),
            cel("!has(self.end) || self.start < self.end", "source.end must be after source.start", ".end"),
        )
    }

    type: SourceType = SourceType.SYNTHETIC
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=200)] = ["SYN-A", "SYN-B", "SYN-C"]
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


class CleaningConfig(Frozen):
    fill_method: FillMethod = FillMethod.FORWARD
    fill_limit: Annotated[int, Field(ge=0, le=1000)] = 5
    outlier_z: Annotated[float, Field(gt=0.0, le=100.0)] = 10.0
    outlier_action: OutlierAction = OutlierAction.CLIP
    calendar: Annotated[str, Field(pattern=r"^(auto|24/7|[A-Z]{4})$")] = "auto"


class Normalization(StrEnum):
    ZSCORE = "zscore"
    MINMAX = "minmax"
    NONE = "none"


class FeatureConfig(Frozen):
    indicators: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] | None = None
    window: Annotated[int, Field(ge=1, le=1000)] = 30
    variance_threshold: Annotated[float, Field(ge=0.0)] = 1e-8
    correlation_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    normalization: Normalization = Normalization.ZSCORE


class ValidationConfig(Frozen):
    min_completeness: Fraction = 0.95
    max_gap_ratio: Fraction = 0.05
    max_outlier_ratio: Fraction = 0.01
    max_staleness_days: Annotated[int, Field(ge=0)] | None = None


class FoldMode(StrEnum):
    ROLLING = "rolling"
    EXPANDING = "expanding"


class WalkForwardConfig(Frozen):
    folds: Annotated[int, Field(ge=2, le=50)] = 5
    mode: FoldMode = FoldMode.EXPANDING


_SPLIT_SUM = "self.train + self.validation + self.test >= 0.999999 && self.train + self.validation + self.test <= 1.000001"


class SplitConfig(Frozen):
    """Chronological splits by ratio; ratios must sum to one."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(_SPLIT_SUM, "splits.train + splits.validation + splits.test must sum to 1"),
        )
    }

    train: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    validation: Fraction = 0.15
    test: Fraction = 0.15
    embargo: Annotated[int, Field(ge=0, le=10000)] = 0
    walk_forward: WalkForwardConfig | None = None

    @model_validator(mode="after")
    def _sums_to_one(self) -> Self:
        if abs(self.train + self.validation + self.test - 1.0) > 1e-6:
            raise ValueError("splits.train + splits.validation + splits.test must sum to 1")
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
