"""Splits and walk-forward folds are chronological, embargoed, and never empty."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import SplitConfig, WalkForwardConfig
from kubetrade_workloads.data import splits
from kubetrade_workloads.data.splits import SplitError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return bars(symbols=("AAA", "BTC/USD"), start="2021-01-01", end="2021-12-31")


def _times(frame: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted(frame["timestamp"].unique())


def test_ratio_splits_are_chronological_with_the_embargo_between(frame: pd.DataFrame) -> None:
    parts = splits.split(frame, SplitConfig(train=0.6, validation=0.2, test=0.2, embargo=4))
    times = _times(frame)
    ends = [times.index(parts[n]["timestamp"].max()) for n in splits.SPLITS]
    starts = [times.index(parts[n]["timestamp"].min()) for n in splits.SPLITS]
    assert starts[0] == 0 and ends[2] == len(times) - 1
    assert starts[1] - ends[0] == starts[2] - ends[1] == 5  # four embargoed timestamps between
    assert ends[0] + 1 == round(len(times) * 0.6)
    assert set(parts["train"]["symbol"]) == {"AAA", "BTC/USD"}


def test_date_splits_hold_the_whole_end_day(frame: pd.DataFrame) -> None:
    config = SplitConfig(
        train_end=dt.date(2021, 6, 30), validation_end=dt.date(2021, 9, 30), embargo=2
    )
    parts = splits.split(frame, config)
    assert parts["train"]["timestamp"].max() == pd.Timestamp("2021-06-30", tz="UTC")
    # Validation starts on the third timestamp after June: July 1 and 2 are embargoed.
    assert parts["validation"]["timestamp"].min() == pd.Timestamp("2021-07-03", tz="UTC")
    assert parts["validation"]["timestamp"].max() == pd.Timestamp("2021-09-30", tz="UTC")
    assert parts["test"]["timestamp"].min() == pd.Timestamp("2021-10-03", tz="UTC")


def test_a_split_that_would_be_empty_is_an_error(frame: pd.DataFrame) -> None:
    late = SplitConfig(train_end=dt.date(2021, 12, 30), validation_end=dt.date(2022, 6, 30))
    with pytest.raises(SplitError, match="splits: test would be empty"):
        splits.split(frame, late)
    with pytest.raises(SplitError, match="validation, test would be empty"):
        splits.split(frame.iloc[:6], SplitConfig(embargo=5))
    only_train = splits.split(frame, SplitConfig(train=1.0, validation=0.0, test=0.0))
    assert list(only_train) == ["train"] and len(only_train["train"]) == len(frame)


def test_expanding_folds_grow_from_the_start_and_test_on_the_next_block(
    frame: pd.DataFrame,
) -> None:
    folds = splits.walk_forward(
        frame["timestamp"], WalkForwardConfig(folds=4, mode="expanding"), embargo=3
    )
    times = _times(frame)
    assert [f.index for f in folds] == [1, 2, 3, 4]
    assert all(f.train_start == times[0] for f in folds)
    assert all(times.index(f.test_start) - times.index(f.train_end) == 4 for f in folds)
    assert all(a.test_end < b.test_start for a, b in zip(folds, folds[1:], strict=False))
    assert folds[-1].test_end == times[-1]
    assert sum(f.test_bars for f in folds) + folds[0].train_bars + 3 == len(times)
    assert [f.train_bars for f in folds] == sorted(f.train_bars for f in folds)
    assert folds[0].as_dict()["train"] == {
        "start": times[0].isoformat(),
        "end": folds[0].train_end.isoformat(),
        "timestamps": folds[0].train_bars,
    }


def test_rolling_folds_keep_the_window_length_and_move_on(frame: pd.DataFrame) -> None:
    folds = splits.walk_forward(frame["timestamp"], WalkForwardConfig(folds=5, mode="rolling"))
    lengths = {f.train_bars for f in folds}
    assert max(lengths) - min(lengths) <= 1
    assert all(a.train_start < b.train_start for a, b in zip(folds, folds[1:], strict=False))
    assert all(f.train_end < f.test_start for f in folds)


def test_too_few_timestamps_for_the_folds_is_an_error(frame: pd.DataFrame) -> None:
    with pytest.raises(SplitError, match="too few for 10 folds with embargo 3"):
        splits.walk_forward(frame["timestamp"].iloc[:30], WalkForwardConfig(folds=10), embargo=3)
