"""What every training entrypoint starts from: the dataset, its scaling, its prepared splits."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..backtest.metrics import periods_per_year
from ..envs.arrays import MarketArrays, prepare
from ..envs.dataset import Dataset, open_dataset
from ..envs.features import FeatureTransform
from ..market import cadence
from ..market.history import FloatArray


@dataclass(frozen=True)
class Splits:
    """The train split and, when the dataset has one, the validation split, ready to step over."""

    dataset: Dataset
    transform: FeatureTransform
    """Fitted on the train split only, then applied to every split (and in production)."""
    train: MarketArrays
    validation: MarketArrays | None

    @property
    def periods_per_year(self) -> float:
        """Bars per year, to annualise the validation Sharpe like the Model's evaluation does."""
        market = cadence.market_of_dataset(self.dataset.manifest)
        return periods_per_year(self.dataset.interval, market)

    def with_forecasts(self, train: FloatArray, validation: FloatArray | None) -> Splits:
        """The same splits with a forecaster's per-bar forecasts in the observations (HYBRID)."""
        val = self.validation
        return replace(
            self,
            train=with_forecast(self.train, train),
            validation=with_forecast(val, validation)
            if val is not None and validation is not None
            else None,
        )


def with_forecast(data: MarketArrays, forecast: FloatArray) -> MarketArrays:
    """`data` with per-bar forecasts in its observations: zero where a symbol cannot trade yet."""
    clean = np.where(data.tradeable, np.nan_to_num(forecast, nan=0.0), 0.0)
    return replace(data, forecast=clean)


def load(dataset_uri: str, window: int) -> Splits:
    """Open the dataset, fit the feature scaling on train, prepare train and validation."""
    dataset = open_dataset(dataset_uri)
    train = dataset.history("train")
    transform = FeatureTransform.fit(train, dataset.features)
    has_validation = "validation" in dataset.manifest.get("splits", {})
    validation = (
        prepare(dataset.history("validation"), transform, window) if has_validation else None
    )
    return Splits(dataset, transform, prepare(train, transform, window), validation)
