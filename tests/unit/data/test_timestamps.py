"""Time zones and bar labels: naive values need `cleaning.timezone`, daylight
saving is handled by a stated rule, and bars labelled by their end keep every
session bar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import CleaningConfig
from kubetrade_workloads.data import timestamps
from kubetrade_workloads.data.clean import clean
from kubetrade_workloads.market.bars import BarsError

KEEP = CleaningConfig(outlier_action="keep")
NEW_YORK = "America/New_York"


def _config(**changes: object) -> CleaningConfig:
    return CleaningConfig.model_validate(KEEP.model_dump() | changes)


def _minutes(day: str, first: str, last: str, symbol: str = "AAA") -> pd.DataFrame:
    """One-minute bars stamped in New York wall time, naive, from `first` to `last`."""
    stamps = pd.date_range(f"{day} {first}", f"{day} {last}", freq="1min")
    close = pd.Series([100.0 + 0.01 * i for i in range(len(stamps))])
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "symbol": symbol,
            "open": close,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
            "volume": 1000.0,
        }
    )


@pytest.mark.parametrize("as_text", [False, True])
def test_naive_timestamps_without_a_zone_are_refused_in_one_line(as_text: bool) -> None:
    raw = _minutes("2021-03-02", "09:30", "10:29")
    if as_text:
        raw["timestamp"] = raw["timestamp"].astype(str)
    with pytest.raises(BarsError) as caught:
        clean(raw, KEEP, "1m")
    message = str(caught.value)
    assert "\n" not in message
    assert "carry no time zone" in message and "cleaning.timezone" in message


@pytest.mark.parametrize("as_text", [False, True])
def test_naive_timestamps_are_localised_in_the_zone_and_counted(as_text: bool) -> None:
    # Friday before and Monday after the clocks went forward (14 March 2021).
    winter = _minutes("2021-03-12", "09:30", "15:59")
    summer = _minutes("2021-03-15", "09:30", "15:59")
    raw = pd.concat([winter, summer], ignore_index=True)
    if as_text:
        raw["timestamp"] = raw["timestamp"].astype(str)
    result = clean(raw, _config(timezone=NEW_YORK), "1m")
    report = result.reports[0]
    # Both the datetime64 path and the text path count what they localised.
    assert report.naive_timestamps == len(raw)
    assert report.off_calendar == 0 and report.completeness == 1.0
    firsts = result.bars.groupby(result.bars["timestamp"].dt.date)["timestamp"].min()
    assert [t.strftime("%H:%M") for t in firsts] == ["14:30", "13:30"]  # EST, then EDT


def test_a_repeated_wall_time_is_summer_time_first_and_a_skipped_one_is_unreadable() -> None:
    times = ["2021-11-07 00:00", "2021-11-07 01:00", "2021-11-07 01:00", "2021-11-07 02:00"]
    parsed = timestamps.to_utc(pd.Series(pd.to_datetime(times)), NEW_YORK)
    assert [t.strftime("%H:%M") for t in parsed.values] == ["04:00", "05:00", "06:00", "07:00"]
    skipped = pd.Series(pd.to_datetime(["2021-03-14 01:30", "2021-03-14 02:30"]))
    parsed = timestamps.to_utc(skipped, NEW_YORK)
    assert parsed.invalid == 1 and parsed.values.isna().tolist() == [False, True]


def test_each_symbol_repeats_its_own_wall_times() -> None:
    times = pd.Series(pd.to_datetime(["2021-11-07 01:00"] * 4))
    symbols = pd.Series(["A", "B", "A", "B"])
    parsed = timestamps.to_utc(times, NEW_YORK, symbols=symbols)
    assert [t.strftime("%H:%M") for t in parsed.values] == ["05:00", "05:00", "06:00", "06:00"]


@settings(max_examples=60, deadline=None)
@given(
    instant=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)),
    zone=st.sampled_from([NEW_YORK, "Europe/London", "Asia/Tokyo", "Australia/Sydney", "UTC"]),
)
def test_a_wall_time_read_in_its_zone_is_the_instant_it_names(
    instant: dt.datetime, zone: str
) -> None:
    moment = instant.replace(tzinfo=dt.UTC, microsecond=0)
    wall = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    # A repeated wall time names two instants; the rule for those is tested above.
    first, second = (wall.replace(fold=f, tzinfo=ZoneInfo(zone)) for f in (0, 1))
    assume(first.utcoffset() == second.utcoffset())
    text = pd.Series([wall.isoformat(sep=" ")])
    parsed = timestamps.to_utc(text, zone)
    assert parsed.values.iloc[0] == pd.Timestamp(moment)
    assert parsed.naive == 1


def test_plain_dates_of_daily_bars_need_no_zone() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    dates = raw.assign(timestamp=raw["timestamp"].dt.strftime("%Y-%m-%d"))
    result = clean(dates, KEEP, "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()
    assert result.reports[0].naive_timestamps == len(raw)
    with pytest.raises(BarsError, match="cleaning.timezone"):  # a time of day needs one
        clean(raw.assign(timestamp=dates["timestamp"] + " 16:00"), KEEP, "1d")


def test_daily_bars_keep_the_date_they_were_written_with() -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    tokyo = raw["timestamp"].dt.tz_localize(None).dt.tz_localize("Asia/Tokyo")
    # Tokyo midnight is 15:00 UTC the day before; the session date is Tokyo's.
    result = clean(raw.assign(timestamp=tokyo), KEEP, "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()


@pytest.mark.parametrize("stamp", ["00:00", "16:00"])
def test_daily_bars_labelled_by_their_end_land_on_their_session(stamp: str) -> None:
    raw = bars(symbols=("AAA",), start="2021-03-01", end="2021-03-31")
    # Midnight ends the day before; 16:00 New York ends its own day.
    shift = pd.Timedelta(days=1) if stamp == "00:00" else pd.Timedelta(hours=16)
    local = (raw["timestamp"].dt.tz_localize(None) + shift).dt.tz_localize(NEW_YORK)
    result = clean(raw.assign(timestamp=local), _config(bar_label="end"), "1d")
    assert (result.bars["timestamp"] == raw["timestamp"]).all()


def test_bars_labelled_by_their_end_keep_every_session_bar() -> None:
    # 09:31 ... 16:00: each bar stamped when it closes, as many vendors do.
    raw = _minutes("2021-03-02", "09:31", "16:00")
    by_start = clean(raw, _config(timezone=NEW_YORK), "1m").reports[0]
    assert by_start.off_calendar == 1 and by_start.gaps == 0  # 16:00 lost, span 09:31-15:59
    result = clean(raw, _config(timezone=NEW_YORK, bar_label="end"), "1m")
    report = result.reports[0]
    assert report.off_calendar == 0 and report.rows_out == 390 and report.completeness == 1.0
    local = result.bars["timestamp"].dt.tz_convert(NEW_YORK)
    assert (
        local.iloc[0].strftime("%H:%M") == "09:30" and local.iloc[-1].strftime("%H:%M") == "15:59"
    )


def test_an_unknown_zone_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        CleaningConfig(timezone="Mars/Olympus")
