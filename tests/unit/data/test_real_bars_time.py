"""Real intraday bars and time zones (issue 12): hourly EUR/USD on the FX 24/5
calendar, and one-minute AAPL bars stamped in New York wall time.

EUR/USD is backtesting.py's file, read in place: zone-less timestamps that are
UTC (each week runs Sunday 21:00/22:00 to Friday 20:00/21:00 UTC, i.e. 17:00
New York). The minute bars are derived from real daily bars (see
kubetrade_testing.real_bars.minute_bars): their session grid, opens, closes,
overnight gaps, the split and the crash are real, the path inside a session
is simulated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing import real_bars
from kubetrade_workloads.config import DataConfig
from kubetrade_workloads.config.data import CleaningConfig
from kubetrade_workloads.data import clean, pipeline
from kubetrade_workloads.market import cadence
from kubetrade_workloads.market.bars import BarsError

NEW_YORK = "America/New_York"


def _fx_week_hours(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """Hours of the FX week, Sunday 17:00 to Friday 17:00 New York, written here
    independently of the code under test."""
    hours = pd.date_range(first, last, freq="1h", tz="UTC")
    local = hours.tz_convert(NEW_YORK)
    day, hour = local.day_of_week, local.hour  # Monday 0 .. Sunday 6
    open_ = ((day <= 3) | ((day == 4) & (hour < 17))) | ((day == 6) & (hour >= 17))
    return hours[open_]


@pytest.fixture(scope="module")
def fx() -> clean.Cleaned:
    return clean.clean(real_bars.eurusd(), CleaningConfig(timezone="UTC"), "1h")


def test_fx_on_auto_resolves_to_the_24_5_calendar_and_keeps_its_bars(fx: clean.Cleaned) -> None:
    (report,) = fx.reports
    raw = real_bars.eurusd()
    assert report.calendar == "24/5"
    assert report.rows_in == len(raw) == 5000
    assert report.off_calendar <= 0.005 * len(raw)  # a Friday 17:00 New York bar or two
    kept = fx.bars["timestamp"].isin(pd.DatetimeIndex(raw["timestamp"]).tz_localize("UTC"))
    assert kept.sum() >= len(raw) - report.off_calendar


def test_fx_completeness_is_the_share_of_the_weeks_hours_that_arrived(fx: clean.Cleaned) -> None:
    (report,) = fx.reports
    stamps = pd.DatetimeIndex(real_bars.eurusd()["timestamp"]).tz_localize("UTC")
    slots = _fx_week_hours(stamps.min(), stamps.max())
    arrived = slots.isin(stamps).sum()
    assert report.expected == len(slots)
    assert report.completeness == pytest.approx(arrived / len(slots), abs=1e-9)
    assert 0.97 < report.completeness < 1.0  # Christmas and New Year are real holes


def test_fx_naive_timestamps_are_counted_when_a_zone_is_given(fx: clean.Cleaned) -> None:
    (report,) = fx.reports
    assert report.naive_timestamps == 5000


def test_fx_naive_timestamps_without_a_zone_are_one_line_naming_the_option() -> None:
    with pytest.raises(BarsError) as caught:
        clean.clean(real_bars.eurusd(), CleaningConfig(), "1h")
    message = str(caught.value)
    assert "\n" not in message
    assert "cleaning.timezone" in message


def test_fx_dataset_records_its_calendar_and_passes_validation() -> None:
    config = DataConfig.model_validate(
        {
            "source": {
                "symbols": ["EURUSD"],
                "interval": "1h",
                "start": "2017-04-19",
                "end": "2018-02-08",
            },
            "cleaning": {"timezone": "UTC"},
        }
    )
    built = pipeline.build(real_bars.eurusd(), config)
    assert built.manifest["calendars"] == {"EURUSD": "24/5"}
    assert built.manifest["qualityBySymbol"]["EURUSD"]["calendar"] == "24/5"
    assert sum(len(part) for part in built.splits.values()) > 4000
    market = cadence.market_of_dataset(built.manifest)  # what metrics, risk and reports read
    assert market == cadence.Market.FX
    assert cadence.periods_per_year("1h", market) == 24 * 260  # not NYSE's 7 x 252, nor 24 x 365


# One-minute bars, New York wall time: the crash (2000-09-29), the end of summer
# time (2000-10-29) and the day after Thanksgiving (2000-11-24, closed 13:00).
MINUTES = ("2000-09-25", "2000-11-28")


@pytest.mark.parametrize("label", ["start", "end"])
def test_every_session_minute_is_kept_in_new_york_time(label: str) -> None:
    raw = real_bars.minute_bars("AAPL", *MINUTES, label=label)
    config = CleaningConfig(timezone=NEW_YORK, bar_label=label)
    out = clean.clean(raw, config, "1m")
    (report,) = out.reports
    assert report.off_calendar == 0 and report.gaps == 0
    assert report.naive_timestamps == len(raw)
    assert len(out.bars) + report.withheld == len(raw)
    local = out.bars["timestamp"].dt.tz_convert(NEW_YORK)
    first = local.groupby(local.dt.date).min().dt.strftime("%H:%M")
    last = local.groupby(local.dt.date).max().dt.strftime("%H:%M")
    assert set(first) == {"09:30"}  # bars are labelled by their start, whatever the export
    assert last[dt.date(2000, 11, 24)] == "12:59"
    assert last[dt.date(2000, 10, 30)] == "15:59"  # after the clocks went back
    assert (last.drop(dt.date(2000, 11, 24)) == "15:59").all()


def test_minute_bars_are_not_rewritten_and_the_overnight_crash_stays() -> None:
    raw = real_bars.minute_bars("AAPL", *MINUTES)
    out = clean.clean(raw, CleaningConfig(timezone=NEW_YORK), "1m").bars
    n = len(out)
    np.testing.assert_array_equal(out["close"], raw["close"].iloc[:n])
    np.testing.assert_array_equal(out["open"], raw["open"].iloc[:n])
    crash_open = pd.Timestamp(f"{real_bars.AAPL_CRASH} 09:30", tz=NEW_YORK)
    at = int(np.flatnonzero(out["timestamp"] == crash_open)[0])
    gap = out["close"].iloc[at] / out["close"].iloc[at - 1] - 1
    assert out["open"].iloc[at] == pytest.approx(28.19, rel=1e-12)
    assert out["close"].iloc[at - 1] == pytest.approx(53.50, rel=1e-12)
    assert gap < -0.45  # the overnight gap, whole, at the session's first minute


def test_a_split_gap_at_a_sessions_first_minute_is_detected() -> None:
    raw = real_bars.minute_bars("AAPL", "2000-06-12", "2000-06-30")
    out = clean.clean(raw, CleaningConfig(timezone=NEW_YORK), "1m")
    (report,) = out.reports
    splits = [(a["date"], a["ratio"]) for a in report.actions if a.get("kind") == "split"]
    assert splits == [("2000-06-21", pytest.approx(2.0))]
    returns = out.bars["close"].pct_change().abs()
    assert returns.max() < 0.15  # no -50% minute left
