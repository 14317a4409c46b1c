"""Cleaning repairs what it can, counts every repair, and refuses to guess."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars, one
from kubetrade_workloads.config.data import CleaningConfig
from kubetrade_workloads.data import calendars
from kubetrade_workloads.data.clean import Cleaned, clean
from kubetrade_workloads.market.bars import COLUMNS, BarsError

DEFAULT = CleaningConfig()
KEEP = CleaningConfig(outlier_action="keep")


def _report(result: Cleaned, symbol: str = "AAA") -> dict[str, float]:
    return next(r for r in result.reports if r.symbol == symbol).as_dict()


def _assert_clean(frame: pd.DataFrame) -> None:
    assert not frame.duplicated(["symbol", "timestamp"]).any()
    assert frame.equals(
        frame.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)
    )
    values = frame[["open", "high", "low", "close", "volume"]].to_numpy()
    assert np.isfinite(values).all()
    assert (frame[["open", "high", "low", "close"]] > 0).all().all()
    assert (frame["volume"] >= 0).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()


def test_clean_bars_pass_through_unchanged() -> None:
    raw = bars()
    result = clean(raw, DEFAULT, "1d")
    pd.testing.assert_frame_equal(result.bars[list(COLUMNS)], raw, check_dtype=False)
    assert (result.bars["adjustment"] == 1.0).all()
    quality = result.quality()
    assert quality["rowsIn"] == quality["rowsOut"] == len(raw)
    assert quality["completeness"] == 1.0 and quality["gaps"] == 0 and quality["filled"] == 0


def test_duplicates_keep_the_last_sent_and_unsorted_rows_are_sorted() -> None:
    raw = bars(symbols=("AAA",))
    resent = raw.iloc[[10, 20]].assign(close=lambda f: f["close"] * 1.001)
    shuffled = pd.concat([raw.iloc[::-1], resent], ignore_index=True)
    result = clean(shuffled, KEEP, "1d")
    report = _report(result)
    assert report["duplicates"] == 2
    assert report["unsorted"] == len(raw) - 1  # every row but the first came after a later one
    assert len(result.bars) == len(raw)
    assert result.bars["close"].iloc[10] == pytest.approx(resent["close"].iloc[0])
    _assert_clean(result.bars)


def test_gaps_are_filled_with_flat_bars_up_to_the_limit() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    holed = raw.drop(index=[*range(100, 103), *range(200, 208)])
    result = clean(holed, CleaningConfig(fill_limit=5, outlier_action="keep"), "1d")
    report = _report(result)
    assert report["gaps"] == 11 and report["expected"] == len(raw)
    assert report["filled"] == 3 + 5 and report["droppedMissing"] == 3
    assert report["completeness"] == pytest.approx(1 - 11 / len(raw))
    out = result.bars.set_index("timestamp")
    filled = out.loc[raw["timestamp"].iloc[101]]
    assert filled["volume"] == 0
    assert filled[["open", "high", "low", "close"]].tolist() == [raw["close"].iloc[99]] * 4
    assert raw["timestamp"].iloc[207] not in out.index  # beyond the limit: dropped, not invented
    _assert_clean(result.bars)


def test_fill_method_none_drops_missing_bars() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    raw.loc[50, "close"] = np.nan
    result = clean(
        raw.drop(index=[60]), CleaningConfig(fill_method="none", outlier_action="keep"), "1d"
    )
    report = _report(result)
    assert report["missing"] == 1 and report["gaps"] == 1 and report["filled"] == 0
    assert report["droppedMissing"] == 2 and report["rowsOut"] == len(raw) - 2


def test_impossible_and_non_finite_values_become_missing_and_are_counted() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    raw.loc[10, "high"] = raw["low"].iloc[10] * 0.5  # high below low
    raw.loc[11, "open"] = -1.0
    raw.loc[12, "volume"] = -5.0
    raw.loc[13, "close"] = np.inf
    raw.loc[14, "low"] = np.nan
    body = raw.loc[15, ["open", "close"]]
    raw.loc[15, "high"] = body.mean()  # high inside the body: widened, not dropped
    result = clean(raw, KEEP, "1d")
    report = _report(result)
    assert report["impossible"] == 3 and report["nonFinite"] == 1
    assert report["missing"] == 5 and report["filled"] == 5
    assert report["inconsistent"] == 1
    assert result.bars["high"].iloc[15] == pytest.approx(body.max())
    _assert_clean(result.bars)


@pytest.mark.parametrize("action", ["clip", "drop", "keep"])
def test_return_outliers_are_kept_unless_asked(action: str) -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    raw.loc[100:, ["open", "high", "low", "close"]] *= 1.6  # a real jump: it stays up
    result = clean(raw, CleaningConfig(outlier_action=action, outlier_z=8), "1d")
    report = _report(result)
    assert report["outliers"] == 1 and report["spikes"] == 0
    out = result.bars
    # Every decision is causal: the bars before the jump are the market's, whatever the action.
    pd.testing.assert_frame_equal(out.iloc[:100][list(COLUMNS)], raw.iloc[:100], check_dtype=False)
    jump = np.log(out["close"].iloc[100] / out["close"].iloc[99])
    if action == "keep":
        pd.testing.assert_frame_equal(out[list(COLUMNS)], raw, check_dtype=False)
    elif action == "drop":
        assert report["rowsOut"] == len(raw) - 1
        assert raw["timestamp"].iloc[100] not in set(out["timestamp"])
    else:
        assert report["rowsOut"] == len(raw) and jump < np.log(1.6) - 0.2
        # Clipping shifts the jump's bar and every later one by one factor.
        ratio = out["close"].iloc[100:].to_numpy() / raw["close"].iloc[100:].to_numpy()
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    _assert_clean(out)


@pytest.mark.parametrize(
    ("symbol", "calendar"),
    [("AAPL", "XNYS"), ("BRK-B", "XNYS"), ("BTC/USDT", "24/7"), ("ETH-USD", "24/7")],
)
def test_auto_calendar_reads_crypto_pairs_as_round_the_clock(symbol: str, calendar: str) -> None:
    assert calendars.resolve("auto", symbol) == calendar
    assert calendars.resolve("XLON", symbol) == "XLON"


def test_equities_follow_the_exchange_calendar_and_crypto_trades_every_day() -> None:
    raw = bars(symbols=("AAA", "BTC/USD"), start="2021-03-01", end="2021-04-30")
    saturday = (
        raw[raw["symbol"] == "AAA"].iloc[[0]].assign(timestamp=pd.Timestamp("2021-03-06", tz="UTC"))
    )
    result = clean(pd.concat([raw, saturday]), KEEP, "1d")
    assert _report(result)["offCalendar"] == 1
    assert _report(result, "BTC/USD")["expected"] == 61  # March and April, every day
    assert _report(result)["expected"] == 23 + 21  # NYSE sessions (closed on Good Friday)
    assert not (
        (result.bars["symbol"] == "AAA") & (result.bars["timestamp"].dt.day_of_week >= 5)
    ).any()


def test_daily_bars_are_labelled_by_session_date_at_midnight_utc() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    new_york_midnight = raw.assign(timestamp=raw["timestamp"] + pd.Timedelta(hours=5))
    result = clean(new_york_midnight, KEEP, "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()


def test_intraday_bars_outside_the_session_are_off_calendar() -> None:
    raw = bars(symbols=("AAA",), interval="1m", start="2021-01-04", end="2021-01-06")
    premarket = raw.iloc[[0]].assign(timestamp=pd.Timestamp("2021-01-04 13:00", tz="UTC"))
    result = clean(pd.concat([raw, premarket]), KEEP, "1m")
    report = _report(result)
    assert report["expected"] == 2 * 390 and report["offCalendar"] == 1
    assert report["rowsOut"] == 780


def test_timestamps_in_any_offset_convert_to_utc() -> None:
    # Daily bars stamped at local midnight keep their session date in any offset.
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    local = raw["timestamp"].dt.tz_localize(None).dt.tz_localize("Asia/Tokyo")
    result = clean(raw.assign(timestamp=local.astype(str)), KEEP, "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()
    assert _report(result)["naiveTimestamps"] == 0


def test_naive_timestamps_are_read_in_the_configured_zone_and_counted() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    utc = KEEP.model_copy(update={"timezone": "UTC"})
    result = clean(raw.assign(timestamp=raw["timestamp"].dt.tz_localize(None)), utc, "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()
    assert _report(result)["naiveTimestamps"] == len(raw)


@pytest.mark.parametrize(
    ("timestamps", "message"),
    [
        (["2021-03-01T00:00:00", "2021-03-02T00:00:00+00:00"], "mix time zones"),
        ([1614556800, 1614643200], "not numbers"),
    ],
)
def test_ambiguous_timestamps_are_refused(timestamps: list[object], message: str) -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-03")
    with pytest.raises(BarsError, match=message):
        clean(raw.assign(timestamp=pd.Series(timestamps, dtype=object)), DEFAULT, "1d")


def test_unreadable_keys_are_dropped_and_counted() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31").astype({"timestamp": object})
    raw.loc[3, "timestamp"] = "not a time"
    raw.loc[4, "symbol"] = None
    result = clean(raw, KEEP, "1d")
    assert result.unowned == 1 and result.quality()["rowsWithoutSymbol"] == 1
    report = _report(result)
    assert report["invalidTimestamps"] == 1 and report["gaps"] == 2 and report["filled"] == 2


def test_unknown_calendar_and_missing_columns_are_errors() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    with pytest.raises(BarsError, match="'QQQQ' is not a known exchange calendar"):
        clean(raw, CleaningConfig(calendar="QQQQ"), "1d")
    with pytest.raises(BarsError, match=r"lacks columns \['volume'\]"):
        clean(raw.drop(columns="volume"), DEFAULT, "1d")


def test_empty_input_gives_an_empty_frame_and_no_reports() -> None:
    result = clean(bars().iloc[:0], DEFAULT, "1d")
    assert result.bars.empty and result.reports == ()
    assert result.quality()["minCompleteness"] == 0.0
