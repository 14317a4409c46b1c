"""Features made live from recent prices equal the Dataset's, scaled as it scaled them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config import DataConfig
from kubetrade_workloads.config.data import FeatureConfig, Normalization
from kubetrade_workloads.data import pipeline
from kubetrade_workloads.data.features import FeatureError, Normalizer
from kubetrade_workloads.data.features.live import LiveFeatures
from kubetrade_workloads.market.history import History

SYMBOLS = ("AAA", "BBB")


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, pipeline.Dataset]:
    raw = bars(symbols=SYMBOLS, start="2021-01-01", end="2023-12-31")
    config = DataConfig.model_validate(
        {
            "source": {"symbols": list(SYMBOLS), "start": "2021-01-01", "end": "2024-01-01"},
            "cleaning": {"outlierAction": "keep"},
        }
    )
    return raw, pipeline.build(raw, config)


def test_live_rows_equal_the_published_test_split(
    built: tuple[pd.DataFrame, pipeline.Dataset],
) -> None:
    raw, dataset = built
    manifest = dataset.manifest
    names = manifest["features"]
    config = FeatureConfig.model_validate(manifest["config"]["features"])
    live = LiveFeatures.of(names, config, manifest["normalization"])
    history = History.from_frame(raw, symbols=list(SYMBOLS))
    test = dataset.splits["test"]
    stamps = test["timestamp"].drop_duplicates().sort_values().iloc[-40:]
    index = {t: i for i, t in enumerate(pd.DatetimeIndex(history.times).tz_localize("UTC"))}
    for stamp in stamps:
        made = live.rows(history.upto(index[stamp], live.span))[:, -1, :]
        published = test[test["timestamp"] == stamp].set_index("symbol").loc[list(SYMBOLS), names]
        # float32 storage on both sides; z-scores agree to a few parts in 10^4.
        np.testing.assert_allclose(made.T, published.to_numpy(np.float64), atol=2e-3, rtol=1e-3)


def test_a_row_reads_no_later_bar(built: tuple[pd.DataFrame, pipeline.Dataset]) -> None:
    raw, dataset = built
    names = dataset.manifest["features"]
    live = LiveFeatures.of(names, FeatureConfig(), None)
    history = History.from_frame(raw, symbols=list(SYMBOLS))
    upto = live.rows(history.upto(500, 300))
    shocked = raw.copy()
    late = shocked["timestamp"] > pd.Timestamp(history.times[500]).tz_localize("UTC")
    shocked.loc[late, ["open", "high", "low", "close"]] *= 3.0
    again = live.rows(History.from_frame(shocked, symbols=list(SYMBOLS)).upto(500, 300))
    np.testing.assert_array_equal(upto, again)


def test_unknown_features_and_bad_normalisation_are_refused() -> None:
    with pytest.raises(FeatureError, match="not_a_feature"):
        LiveFeatures.of(["rsi_14", "not_a_feature"], FeatureConfig(), None)
    with pytest.raises(ValueError, match="mean"):
        Normalizer.from_dict({"method": "zscore", "stats": {"rsi_14": {"min": 0, "range": 1}}})


def test_normalisation_round_trips_through_its_record() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [0.5, 0.5, 0.5]})
    for method in (Normalization.ZSCORE, Normalization.MINMAX):
        fitted = Normalizer.fit(frame, ["a", "b"], method)
        assert Normalizer.from_dict(fitted.as_dict()) == fitted
    assert Normalizer.from_dict(Normalizer.none().as_dict()) == Normalizer.none()
