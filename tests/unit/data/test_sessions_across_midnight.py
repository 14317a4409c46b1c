"""Sessions that cross midnight UTC (Sydney's opens at 23:00 UTC in summer) are
one session: a split is found at, and a given one placed on, the session's
first bar, not the first bar after midnight UTC."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kubetrade_testing.bar_frames import bars, one
from kubetrade_workloads.config.data import CleaningConfig, CorporateAction
from kubetrade_workloads.data import calendars
from kubetrade_workloads.data.clean import clean

PRICES = ["open", "high", "low", "close"]
SYMBOL = "BHP.AX"  # auto: XASX, 10:00-16:00 Sydney, 23:00-05:00 UTC in January


def _sydney() -> pd.DataFrame:
    truth = one(
        bars(symbols=(SYMBOL,), interval="1m", start="2021-01-04", end="2021-01-09"), SYMBOL
    )
    local = truth["timestamp"].dt.tz_convert("Australia/Sydney")
    opens = truth.index[local.dt.strftime("%H:%M") == "10:00"]
    truth.loc[opens, "volume"] *= 12  # an opening minute trades many times a midday one
    return truth


def _unadjust(truth: pd.DataFrame, at: int, ratio: float) -> pd.DataFrame:
    raw = truth.copy()
    raw.loc[: at - 1, PRICES] *= ratio
    raw.loc[: at - 1, "volume"] /= ratio
    return raw


def _split_at(truth: pd.DataFrame) -> int:
    local = truth["timestamp"].dt.tz_convert("Australia/Sydney")
    at = int(truth.index[local.dt.strftime("%Y-%m-%d %H:%M") == "2021-01-07 10:00"][0])
    assert truth["timestamp"].iloc[at] == pd.Timestamp("2021-01-06 23:00", tz="UTC")
    return at


def test_session_days_follow_the_exchanges_own_date() -> None:
    slots = calendars.expected(
        "XASX", "1h", pd.Timestamp("2021-01-05", tz="UTC"), pd.Timestamp("2021-01-07", tz="UTC")
    )
    days = calendars.session_days("XASX", "1h", slots)
    local = slots.tz_convert("Australia/Sydney").tz_localize(None).normalize()
    assert (days == local.asi8 // 86_400_000_000_000).all()
    # The FX day runs from 17:00 New York: Sunday 17:00 opens Monday's.
    fx = pd.DatetimeIndex(["2021-01-03 22:00", "2021-01-04 21:00", "2021-01-04 22:00"], tz="UTC")
    assert np.diff(calendars.session_days("24/5", "1h", fx)).tolist() == [0, 1]


def test_a_split_at_a_sydney_open_is_found_there() -> None:
    truth = _sydney()
    at = _split_at(truth)
    result = clean(_unadjust(truth, at, 2.0), CleaningConfig(), "1m")
    np.testing.assert_allclose(result.bars["close"], truth["close"], rtol=1e-12)
    actions = [a for r in result.reports for a in r.actions]
    assert [(a["timestamp"], a["date"], a["ratio"]) for a in actions] == [
        (truth["timestamp"].iloc[at].isoformat(), "2021-01-07", 2.0)  # the ex-date in Sydney
    ]


def test_a_given_split_lands_on_its_sessions_first_bar() -> None:
    truth = _sydney()
    at = _split_at(truth)
    action = CorporateAction(symbol=SYMBOL, date=dt.date(2021, 1, 7), ratio=2.0)
    config = CleaningConfig(adjustment="splits", corporate_actions=[action])
    result = clean(_unadjust(truth, at, 2.0), config, "1m")
    np.testing.assert_allclose(result.bars["close"], truth["close"], rtol=1e-12)
    assert (result.bars["adjustment"].iloc[:at] == 2.0).all()
    assert (result.bars["adjustment"].iloc[at:] == 1.0).all()
    assert [a["date"] for r in result.reports for a in r.actions] == ["2021-01-07"]
