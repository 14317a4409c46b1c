"""Features made live from recent prices equal the Dataset's, scaled as it scaled them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config import DataConfig
from kubetrade_workloads.config.data import FeatureConfig, Normalization
from kubetrade_workloads.data import pipeline
from kubetrade_workloads.data.features import ALL, FeatureError, Normalizer, catalog
from kubetrade_workloads.data.features.inputs import SymbolBars
from kubetrade_workloads.data.features.live import LiveFeatures
from kubetrade_workloads.market.history import FIELDS, History

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
        # The trader's path: all symbols in one pass, each group over the bars it needs.
        made = live.latest(history.upto(index[stamp], live.span + 1), 1)[:, -1, :]
        published = test[test["timestamp"] == stamp].set_index("symbol").loc[list(SYMBOLS), names]
        # float32 storage on both sides; z-scores agree to a few parts in 10^4.
        np.testing.assert_allclose(made.T, published.to_numpy(np.float64), atol=2e-3, rtol=1e-3)


def test_a_row_reads_no_later_bar(built: tuple[pd.DataFrame, pipeline.Dataset]) -> None:
    raw, dataset = built
    names = dataset.manifest["features"]
    live = LiveFeatures.of(names, FeatureConfig(), None)
    history = History.from_frame(raw, symbols=list(SYMBOLS))
    shocked = raw.copy()
    late = shocked["timestamp"] > pd.Timestamp(history.times[500]).tz_localize("UTC")
    shocked.loc[late, ["open", "high", "low", "close"]] *= 3.0
    # Over the whole history, later bars included: rows up to bar 500 must not move,
    # while later ones do (the shock reached the kernels).
    plain = live.rows(history)
    again = live.rows(History.from_frame(shocked, symbols=list(SYMBOLS)))
    np.testing.assert_array_equal(plain[:, :501, :], again[:, :501, :])
    assert not np.allclose(plain[:, 501:, :], again[:, 501:, :], equal_nan=True)


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


def test_rows_made_together_equal_rows_made_one_by_one() -> None:
    # Six symbols four orders of magnitude apart in price, and one with no bar in
    # the first half of the window (its prices there are 0, as the trader's buffer
    # keeps them): the one-pass path must not tell them apart.
    frame = bars(tuple(f"S{i}" for i in range(6)), start="2021-01-04", end="2023-06-30")
    # Every other symbol 10^4 dearer, with 10^6 more volume: each runs into a cheap one.
    dear = frame["symbol"].str[1].astype(int) % 2
    for column in ("open", "high", "low", "close"):
        frame[column] *= 10.0 ** (4 * dear)
    frame["volume"] *= 10.0 ** (6 * dear)
    history = History.from_frame(frame)
    live = LiveFeatures.of(ALL, FeatureConfig(), None)
    window = history.upto(len(history) - 1, live.span + 5)
    fields = {f: getattr(window, f).copy() for f in FIELDS}
    for f in FIELDS:
        fields[f][: live.span // 2, 5] = 0.0
    late = History(window.times, window.symbols, fields)
    for h in (window, late):
        together = live.latest(h, 5)
        one_by_one = live.rows(h)[:, -5:, :]
        assert together.shape == (len(ALL), 5, 6)
        np.testing.assert_allclose(together, one_by_one, rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def decade() -> History:
    """Ten years of one symbol's daily bars."""
    return History.from_frame(bars(("AAA",), start="2015-01-01", end="2024-12-31"))


def test_the_parts_make_every_feature_once() -> None:
    made = [name for part in catalog.PARTS for name in part.names]
    assert sorted(made) == sorted(ALL) and len(made) == len(set(made))


@pytest.mark.parametrize("window", [20, 50])
@pytest.mark.parametrize(
    "part",
    catalog.PARTS,
    ids=lambda p: f"{p.kernel.__module__.rsplit('.')[-1]}.{p.kernel.__name__}",
)
def test_each_part_forgets_where_its_series_began_within_its_memory(
    part: catalog.Part, window: int, decade: History
) -> None:
    span = part.memory(window)
    series = [getattr(decade, f)[:, 0].copy() for f in FIELDS]
    times = decade.times.view(np.int64)
    with np.errstate(all="ignore"):
        full = part.kernel(SymbolBars(times, *series), window)
        spread = {name: float(np.nanstd(full[name][-1000:])) or 1.0 for name in part.names}
        for end in range(len(times) - 60, len(times) + 1):  # categories must agree exactly
            cut = slice(end - span, end)
            short = part.kernel(SymbolBars(times[cut], *(x[cut] for x in series)), window)
            for name in part.names:
                assert abs(short[name][-1] - full[name][end - 1]) <= 1e-4 * spread[name], name
