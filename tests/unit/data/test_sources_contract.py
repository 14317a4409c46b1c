"""The source contract: what `finish` refuses, what it passes on, and retries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.market_data import bar_rows
from kubetrade_workloads.data.sources import SourceError, finish
from kubetrade_workloads.data.sources.base import daily_stamp
from kubetrade_workloads.data.sources.retry import Retry, call

START, END = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


def _finish(frame: pd.DataFrame, symbols: tuple[str, ...] = ("AAA",)) -> pd.DataFrame:
    return finish(frame, source="test", symbols=symbols, start=START, end=END)


def test_a_good_frame_comes_back_canonical() -> None:
    frame = pd.concat([bar_rows("BBB"), bar_rows("AAA")]).sample(frac=1.0, random_state=1)
    frame["timestamp"] = frame["timestamp"].dt.tz_convert("Asia/Tokyo")  # any zone in, UTC out
    out = _finish(frame, ("AAA", "BBB"))
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out[["timestamp", "symbol"]].equals(
        out[["timestamp", "symbol"]].sort_values(["timestamp", "symbol"], ignore_index=True)
    )
    assert len(out) == 10


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (bar_rows().iloc[0:0], r"test: no bars for AAA in \[2024-01-01, 2024-02-01\)"),
        (bar_rows("BBB"), "test: no bars for symbol AAA"),
        (bar_rows().assign(close=np.nan), "test: no bars for symbol AAA"),
        (bar_rows(start="2023-06-01"), "test: no bars for symbol AAA"),  # all outside the window
        (
            bar_rows().assign(volume=[1.0, -np.inf, 1.0, 1.0, 1.0]),
            "1 infinite values, first in volume of AAA at 2024-01-03",
        ),
        (bar_rows().drop(columns="low"), r"malformed bars: bar frame lacks columns \['low'\]"),
    ],
)
def test_structural_failures_name_the_source_and_symbol(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _finish(frame)


def test_daily_bars_are_labelled_by_their_session_date() -> None:
    stamps = pd.Series(
        pd.to_datetime(["2024-01-03T05:00:00Z", "2024-07-03T04:00:00Z", "2024-07-03T13:30:00Z"])
    )
    labels = daily_stamp(stamps, "America/New_York")
    assert labels.dt.strftime("%Y-%m-%d %H:%M %Z").tolist() == [
        "2024-01-03 00:00 UTC",
        "2024-07-03 00:00 UTC",
        "2024-07-03 00:00 UTC",
    ]


def test_retries_back_off_then_fail_naming_what_failed() -> None:
    waits: list[float] = []
    outcomes: Iterator[Exception | str] = iter(
        [ConnectionError("busy"), ConnectionError("x"), "ok"]
    )

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = Retry(attempts=3, base_delay=0.5, max_delay=10)
    assert (
        call(flaky, retry_on=(ConnectionError,), policy=policy, what="x", sleep=waits.append)
        == "ok"
    )
    assert waits == [0.5, 1.0]

    def down() -> str:
        raise ConnectionError("still down")

    with pytest.raises(
        SourceError, match="ccxt:binance: BTC/USDT page 2 failed after 3 attempts: still down"
    ):
        call(
            down,
            retry_on=(ConnectionError,),
            policy=policy,
            what="ccxt:binance: BTC/USDT page 2",
            floor=2.0,
            sleep=waits.append,
        )
    assert waits[2:] == [2.0, 2.0]  # the exchange's rate limit is the floor
    with pytest.raises(KeyError):  # anything else is not retried
        call(
            lambda: dict[str, str]()["x"],
            retry_on=(ConnectionError,),
            policy=policy,
            what="x",
            sleep=waits.append,
        )


_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64), st.just(np.nan), st.just(100.0)
)
_rows = st.lists(
    st.tuples(
        st.integers(-5, 40),  # day offset from START: some before, some after the window
        st.sampled_from(["AAA", "BBB", "ZZZ"]),
        _values,
        _values,
        _values,
        _values,
        _values,
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows, zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
def test_any_frame_comes_back_canonical_or_fails_clearly(
    rows: list[tuple[object, ...]], zone: str
) -> None:
    """Malformed input never yields a silently wrong frame: a SourceError, or the contract holds."""
    frame = pd.DataFrame(rows, columns=["day", "symbol", "open", "high", "low", "close", "volume"])
    base = pd.Timestamp(START, tz=zone)
    frame["timestamp"] = [base + pd.Timedelta(days=int(d)) for d in frame.pop("day")]
    try:
        out = _finish(frame, ("AAA", "BBB"))
    except SourceError as err:
        assert str(err).startswith("test: ")
        return
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert set(out["symbol"]) == {"AAA", "BBB"}
    assert out["timestamp"].min() >= pd.Timestamp(START, tz="UTC")
    assert out["timestamp"].max() < pd.Timestamp(END, tz="UTC")
    assert out["timestamp"].is_monotonic_increasing
    assert not np.isinf(out[["open", "high", "low", "close", "volume"]].to_numpy()).any()
    assert not out.drop_duplicates().duplicated(["symbol", "timestamp"]).any()
    for symbol in ("AAA", "BBB"):
        assert out.loc[out["symbol"] == symbol, "close"].notna().any()
