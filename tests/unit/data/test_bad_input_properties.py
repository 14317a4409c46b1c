"""Malformed frames, generated: cleaning either refuses clearly or returns clean
bars whose counts add up; features refuse unclean bars or return finite values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import CleaningConfig, FeatureConfig
from kubetrade_workloads.data import features
from kubetrade_workloads.data.clean import clean

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUE_COLUMNS = ["open", "high", "low", "close", "volume"]
SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e12, 1e-12])
VALUE = st.one_of(st.floats(min_value=-10, max_value=500, allow_nan=False), SPECIAL)
START = pd.Timestamp("2021-03-01", tz="UTC")
BASE = bars(symbols=("AAA",), start="2021-01-04", end="2021-08-31", seed=3)


@st.composite
def malformed_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Rows in any order, duplicated, some without a symbol or time, any values."""
    n = draw(st.integers(0, 40))
    days = draw(st.lists(st.one_of(st.integers(0, 45), st.none()), min_size=n, max_size=n))
    stamps = [None if d is None else (START + pd.Timedelta(days=d)).isoformat() for d in days]
    symbols = draw(st.lists(st.sampled_from(["AAA", "BTC/USD", None]), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {"timestamp": pd.Series(stamps, dtype=object), "symbol": pd.Series(symbols, dtype=object)}
    )
    for col in VALUE_COLUMNS:
        frame[col] = draw(st.lists(VALUE, min_size=n, max_size=n))
    return frame


@st.composite
def corrupted_bars(draw: st.DrawFn) -> pd.DataFrame:
    """A long clean series with a few bad values, duplicates and a shuffle."""
    frame = BASE.copy()
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[row, draw(st.sampled_from(VALUE_COLUMNS))] = draw(SPECIAL)
    dupes = draw(st.lists(st.integers(0, len(frame) - 1), max_size=3))
    frame = pd.concat([frame, frame.iloc[dupes]], ignore_index=True)
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 100)))
    return frame


def _assert_clean(frame: pd.DataFrame) -> None:
    assert not frame.duplicated(["symbol", "timestamp"]).any()
    assert frame["timestamp"].is_monotonic_increasing
    values = frame[VALUE_COLUMNS].to_numpy()
    assert np.isfinite(values).all()
    assert (values[:, :4] > 0).all() and (values[:, 4] >= 0).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()


@SETTINGS
@given(
    malformed_frames(),
    st.sampled_from(["clip", "drop", "keep"]),
    st.sampled_from(["ffill", "none"]),
)
def test_cleaning_any_frame_gives_clean_bars_and_counts_that_add_up(
    frame: pd.DataFrame, action: str, fill: str
) -> None:
    config = CleaningConfig(outlier_action=action, fill_method=fill)
    result = clean(frame, config, "1d")
    _assert_clean(result.bars)
    reports = {r.symbol: r for r in result.reports}
    assert sum(r.rows_in for r in reports.values()) + result.unowned == len(frame)
    assert sum(r.rows_out for r in reports.values()) == len(result.bars)
    for symbol, report in reports.items():
        rows = result.bars[result.bars["symbol"] == symbol]
        assert report.rows_out == len(rows) <= max(report.expected, 0)
        assert 0.0 <= report.completeness <= 1.0
        if symbol == "AAA":  # an equity: nothing on a weekend survives
            assert (rows["timestamp"].dt.day_of_week < 5).all()


@SETTINGS
@given(corrupted_bars())
def test_features_refuse_unclean_bars_and_accept_cleaned_ones(frame: pd.DataFrame) -> None:
    config = FeatureConfig()
    values = frame[VALUE_COLUMNS].to_numpy()
    unclean = (
        not np.isfinite(values).all()
        or (values[:, :4] <= 0).any()
        or (values[:, 4] < 0).any()
        or (frame["high"] < frame["low"]).any()
        or frame.duplicated(["symbol", "timestamp"]).any()
    )
    try:
        made = features.compute(frame, config)
    except features.FeatureError as err:
        assert unclean, err
    else:
        assert not unclean
        assert np.isfinite(made.frame[list(made.names)].to_numpy()).all()
    cleaned = clean(frame, CleaningConfig(), "1d").bars
    made = features.compute(cleaned, config)
    assert np.isfinite(made.frame[list(made.names)].to_numpy()).all()
    assert len(made.frame) + made.warmup_rows == len(cleaned)


@SETTINGS
@given(malformed_frames())
def test_features_on_any_frame_refuse_or_stay_finite(frame: pd.DataFrame) -> None:
    frame = frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True))
    try:
        made = features.compute(frame, FeatureConfig(window=5))
    except features.FeatureError:
        return
    assert np.isfinite(made.frame[list(made.names)].to_numpy()).all()
