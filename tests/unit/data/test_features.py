"""Features: the catalog, the values, selection on train, normalisation from train."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from kubetrade_testing.bar_frames import bars, one
from kubetrade_workloads.config.data import FeatureConfig, FeatureGroup
from kubetrade_workloads.data import features
from kubetrade_workloads.data.features import catalog
from kubetrade_workloads.data.features.inputs import SymbolBars


@pytest.fixture(scope="module")
def made() -> features.Features:
    return features.compute(bars(symbols=("AAA", "BBB", "ETH/USD")), FeatureConfig())


def test_catalog_has_50_plus_talib_indicators_across_four_groups_and_the_rest() -> None:
    per_group = {group: len(names) for group, (_, names) in catalog.GROUPS.items()}
    assert sum(per_group[g] for g in catalog.TALIB_GROUPS) >= 50
    assert all(per_group[g] >= 8 for g in catalog.TALIB_GROUPS)
    assert set(per_group) == set(FeatureGroup)
    assert len(catalog.ALL) == len(set(catalog.ALL)) == sum(per_group.values())


def test_each_kernel_makes_exactly_the_names_it_declares() -> None:
    frame = one(bars(symbols=("AAA",)), "AAA")
    series = SymbolBars(
        frame["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64),
        *(frame[c].to_numpy() for c in ("open", "high", "low", "close", "volume")),
    )
    for group, (kernel, names) in catalog.GROUPS.items():
        out = kernel(series, 30)
        assert tuple(out) == names, group
        assert all(len(v) == len(frame) for v in out.values()), group


def test_every_row_has_every_feature_defined_after_the_warm_up(made: features.Features) -> None:
    assert made.names == catalog.ALL
    values = made.frame[list(made.names)].to_numpy()
    assert np.isfinite(values).all()
    assert made.filled_values == 0
    raw = bars(symbols=("AAA", "BBB", "ETH/USD"))
    assert made.warmup_rows == len(raw) - len(made.frame) > 0
    per_symbol = made.frame.groupby("symbol").size()
    assert (raw.groupby("symbol").size() - per_symbol).between(60, 70).all()


def test_feature_values_match_their_definitions(made: features.Features) -> None:
    frame = one(made.frame, "AAA")
    raw = one(bars(symbols=("AAA",)), "AAA")
    close = raw["close"].to_numpy()
    tail = len(frame)
    expected_sma = talib.SMA(close, 20) / close - 1  # the average, relative to the close
    np.testing.assert_allclose(frame["sma_20"], expected_sma[-tail:], rtol=1e-5)
    np.testing.assert_allclose(
        frame["return_1"], np.diff(np.log(close))[-tail:], rtol=1e-5, atol=1e-7
    )
    rolling_std = pd.Series(np.r_[np.nan, np.diff(np.log(close))]).rolling(30).std(ddof=0)
    np.testing.assert_allclose(frame["return_std"], rolling_std.to_numpy()[-tail:], rtol=1e-4)
    assert frame["rsi_14"].between(0, 100).all()
    assert set(np.unique(frame["regime"])) <= {0.0, 1.0, 2.0, 3.0}
    mondays = frame["timestamp"].dt.day_of_week == 0
    assert np.allclose(frame.loc[mondays, "day_of_week_cos"], 1.0)
    januaries = frame["timestamp"].dt.month == 1
    assert np.allclose(frame.loc[januaries, "month_sin"], 0.0, atol=1e-6)


def test_groups_and_indicators_choose_the_candidates() -> None:
    picked = FeatureConfig(groups=["regime"], indicators=["rsi_14", "sma_20"])
    assert features.candidates(picked) == ("sma_20", "rsi_14", "volatility_regime", "regime")
    assert features.candidates(FeatureConfig(indicators=["cci_14"])) == ("cci_14",)
    made = features.compute(bars(symbols=("AAA",)), picked)
    assert list(made.frame.columns[7:]) == ["sma_20", "rsi_14", "volatility_regime", "regime"]
    with pytest.raises(features.FeatureError, match=r"unknown \['rsi_99'\]"):
        features.candidates(FeatureConfig(indicators=["rsi_99"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(close=f["close"].where(f.index != 5)),
            "missing, infinite or impossible",
        ),
        (lambda f: f.assign(volume=-f["volume"]), "missing, infinite or impossible"),
        (lambda f: pd.concat([f, f.iloc[[3]]]), "duplicated"),
        (lambda f: f.iloc[:0], "no bars"),
        (lambda f: f.iloc[:40], "symbol AAA: 40 bars are too few"),
    ],
    ids=["nan", "negative-volume", "duplicate", "empty", "too-short"],
)
def test_features_refuse_bars_cleaning_would_repair(change: object, message: str) -> None:
    frame = one(bars(symbols=("AAA",)), "AAA")
    with pytest.raises(features.FeatureError, match=message):
        features.compute(change(frame), FeatureConfig())  # type: ignore[operator]


def test_unsorted_input_gives_the_same_features() -> None:
    frame = bars(symbols=("AAA", "BBB"))
    config = FeatureConfig(groups=["trend", "statistics"])
    ordered = features.compute(frame, config).frame
    shuffled = features.compute(frame.sample(frac=1.0, random_state=1), config).frame
    pd.testing.assert_frame_equal(ordered, shuffled)


def test_selection_drops_constants_and_correlated_features_using_train_only() -> None:
    rng = np.random.default_rng(0)
    signal = rng.normal(size=500)
    train = pd.DataFrame(
        {
            "a": signal,
            "b": signal * 3 + rng.normal(scale=0.01, size=500),  # near-copy of a
            "c": rng.normal(size=500),
            "flat": np.full(500, 7.0),
            "tiny": rng.normal(scale=1e-6, size=500),  # small units, not constant
        }
    )
    chosen = features.select(train, list(train.columns), FeatureConfig(correlation_threshold=0.9))
    assert chosen.chosen == ("a", "c", "tiny")
    assert chosen.dropped["b"].startswith("correlated 1.000 with a")
    assert chosen.dropped["flat"].startswith("near-constant")
    assert chosen.as_dict()["candidates"] == 5
    loose = features.select(train, list(train.columns), FeatureConfig(correlation_threshold=1.0))
    assert "b" in loose.chosen


@pytest.mark.parametrize("method", ["zscore", "minmax", "none"])
def test_normalisation_statistics_come_from_train_and_apply_to_all(method: str) -> None:
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "regime": [0.0, 1.0, 2.0, 3.0]})
    test = pd.DataFrame({"x": [10.0], "regime": [2.0]})
    scaler = features.Normalizer.fit(train, ["x", "regime"], method, skip=features.CATEGORICAL)  # type: ignore[arg-type]
    scaled_train, scaled_test = scaler.apply(train), scaler.apply(test)
    assert scaled_test["regime"].iloc[0] == 2.0  # categories stay categories
    if method == "zscore":
        assert scaled_train["x"].mean() == pytest.approx(0, abs=1e-6)
        assert scaled_train["x"].std(ddof=0) == pytest.approx(1)
        assert scaled_test["x"].iloc[0] == pytest.approx(
            (10 - 2.5) / np.std([1, 2, 3, 4]), rel=1e-6
        )
        assert scaler.as_dict()["stats"] == {"x": {"mean": 2.5, "std": pytest.approx(1.118034)}}
    elif method == "minmax":
        assert scaled_train["x"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
        assert scaled_test["x"].iloc[0] == pytest.approx(3.0)  # beyond training's range, as it is
    else:
        assert scaled_test["x"].iloc[0] == 10.0 and scaler.as_dict()["stats"] == {}
