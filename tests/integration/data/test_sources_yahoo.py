"""The yahoo source through yfinance (and its curl_cffi client) against a local Yahoo.

yfinance calls fixed https:// URLs; the fake is reached as through any HTTPS
proxy (`HTTPS_PROXY`, with the test CA in `REQUESTS_CA_BUNDLE`). yfinance
caches chart responses per process, so each test asks for its own range.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kubetrade_testing.fakes.server import Response
from kubetrade_testing.fakes.yahoo import TOO_MANY, YahooFake
from kubetrade_testing.market_data import EQUITIES, HOURLY_END, START, truth
from kubetrade_workloads.config import SourceConfig
from kubetrade_workloads.data.sources import SourceError, get_source
from kubetrade_workloads.data.sources.retry import Retry

QUICK = Retry(attempts=2, base_delay=0.01)


def _expected(
    interval: str, start: dt.date, end: dt.date, symbols: tuple[str, ...] = EQUITIES
) -> pd.DataFrame:
    frame = truth(
        EQUITIES, interval, START, HOURLY_END if interval == "1h" else dt.date(2024, 7, 1)
    )
    inside = (frame["timestamp"] >= pd.Timestamp(start, tz="UTC")) & (
        frame["timestamp"] < pd.Timestamp(end, tz="UTC")
    )
    return frame[inside & frame["symbol"].isin(symbols)].reset_index(drop=True)


def _yahoo(policy: Retry | None = None):  # type: ignore[no-untyped-def]
    from kubetrade_workloads.data.sources.yahoo import YahooSource  # imports yfinance (slow)

    return YahooSource(policy=policy)


def _charts(fake: YahooFake) -> list[str]:
    return [
        r.path.rsplit("/", 1)[1] for r in fake.requests if r.path.startswith("/v8/finance/chart/")
    ]


def test_daily_bars_are_dividend_adjusted(yahoo: YahooFake) -> None:
    yahoo.dividend("AAPL", "2024-02-09", 0.98)  # raw closes before the ex-day are higher
    start, end = dt.date(2024, 1, 1), dt.date(2024, 4, 1)
    source = get_source(SourceConfig(type="yahoo", symbols=list(EQUITIES)))
    bars = source.fetch(list(EQUITIES), "1d", start, end)
    pd.testing.assert_frame_equal(bars, _expected("1d", start, end), rtol=1e-5)
    charts = [r for r in yahoo.requests if r.path.startswith("/v8/finance/chart/")]
    assert charts and all(
        r.query["crumb"] == yahoo.crumb and r.cookie("A3") == yahoo.cookie for r in charts
    )
    assert {r.query.get("interval") for r in charts} == {"1d"}
    assert all(r.host == "query2.finance.yahoo.com" for r in charts)


def test_hourly_bars_are_labelled_on_the_clock(yahoo: YahooFake) -> None:
    start, end = dt.date(2024, 1, 8), dt.date(2024, 1, 20)
    bars = _yahoo().fetch(["MSFT"], "1h", start, end)
    pd.testing.assert_frame_equal(bars, _expected("1h", start, end, ("MSFT",)), rtol=1e-5)
    assert set(bars["timestamp"].dt.minute) == {0}


def test_an_unknown_symbol_is_named(yahoo: YahooFake) -> None:
    with pytest.raises(SourceError, match="yahoo: ZZZZ failed"):
        _yahoo(QUICK).fetch(["AAPL", "ZZZZ"], "1d", dt.date(2024, 1, 1), dt.date(2024, 2, 1))


def test_a_rate_limit_is_retried(yahoo: YahooFake) -> None:
    yahoo.fail(TOO_MANY, when=lambda r: r.path == "/v8/finance/chart/AAPL" and "period1" in r.query)
    start, end = dt.date(2024, 2, 1), dt.date(2024, 5, 1)
    bars = _yahoo(QUICK).fetch(["AAPL"], "1d", start, end)
    pd.testing.assert_frame_equal(bars, _expected("1d", start, end, ("AAPL",)), rtol=1e-5)
    assert (
        sum(
            1 for r in yahoo.requests if r.path == "/v8/finance/chart/AAPL" and "period1" in r.query
        )
        == 2
    )


def test_a_symbol_failing_halfway_fails_the_fetch(yahoo: YahooFake) -> None:
    down = Response(
        500, b"<html><body>Will be right back...</body></html>", {"Content-Type": "text/html"}
    )
    yahoo.fail(down, when=lambda r: r.path == "/v8/finance/chart/MSFT", times=None)
    with pytest.raises(SourceError, match="yahoo: MSFT failed"):
        _yahoo(QUICK).fetch(list(EQUITIES), "1d", dt.date(2024, 3, 1), dt.date(2024, 6, 1))
    assert "AAPL" in _charts(
        yahoo
    )  # the first symbol came through; its bars are not returned alone
