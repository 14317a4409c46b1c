"""Market data for tests: the bars a fake service holds, and the fakes as fixtures.

The "truth" comes from the synthetic source, so a test can compare what a
client library delivered through a fake with what the fake was given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from kubetrade_testing.fakes.alpaca import AlpacaFake
from kubetrade_testing.fakes.binance import BinanceFake
from kubetrade_testing.fakes.server import serve
from kubetrade_testing.fakes.tls import server_context
from kubetrade_testing.fakes.yahoo import HOSTS, YahooFake
from kubetrade_workloads.data.sources.synthetic import SyntheticSource

EQUITIES = ("AAPL", "MSFT")
PAIRS = ("BTC/USDT", "ETH/USDT")
START, END = dt.date(2024, 1, 1), dt.date(2024, 7, 1)
HOURLY_END = dt.date(2024, 2, 1)


def truth(
    symbols: tuple[str, ...], interval: str, start: dt.date = START, end: dt.date = END
) -> pd.DataFrame:
    """Synthetic bars standing for what a service holds."""
    return SyntheticSource(seed=7).fetch(list(symbols), interval, start, end)


@pytest.fixture
def alpaca() -> Iterator[tuple[AlpacaFake, str]]:
    """Alpaca's data API holding daily and hourly bars of AAPL and MSFT."""
    fake = AlpacaFake({"1d": truth(EQUITIES, "1d"), "1h": truth(EQUITIES, "1h", START, HOURLY_END)})
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def binance() -> Iterator[tuple[BinanceFake, str]]:
    """Binance's spot API holding daily and hourly bars of BTC/USDT and ETH/USDT."""
    fake = BinanceFake(
        {"1d": truth(PAIRS, "1d"), "1h": truth(PAIRS, "1h", START, HOURLY_END)}, page_cap=1000
    )
    with serve(fake) as url:
        yield fake, url


@pytest.fixture(scope="session")
def yahoo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[YahooFake, str, str]]:
    """Yahoo behind an HTTPS proxy with a test CA: (fake, proxy URL, CA bundle path).

    One per session: yfinance keeps its cookie and crumb per process.
    """
    fake = YahooFake({"1d": truth(EQUITIES, "1d"), "1h": truth(EQUITIES, "1h", START, HOURLY_END)})
    context, bundle = server_context(tmp_path_factory.mktemp("yahoo-tls"), ["*.yahoo.com", *HOSTS])
    with serve(fake, tls=context) as url:
        yield fake, url, str(bundle)


@pytest.fixture
def yahoo(
    yahoo_server: tuple[YahooFake, str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> YahooFake:
    """The Yahoo fake, reached through the ordinary proxy and CA variables."""
    fake, proxy, bundle = yahoo_server
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", bundle)
    monkeypatch.setenv(
        "KUBETRADE_YFINANCE_CACHE", str(tmp_path_factory.getbasetemp() / "yfinance-cache")
    )
    fake.requests.clear()
    return fake


def bar_rows(
    symbol: str = "AAA", days: int = 5, start: str = "2024-01-02", price: float = 100.0
) -> pd.DataFrame:
    """A small, valid canonical frame: one daily bar per calendar day from `start`."""
    stamps = pd.date_range(start, periods=days, freq="D", tz="UTC", unit="ns")
    closes = price + pd.Series(range(days), dtype="float64")
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "symbol": symbol,
            "open": closes - 0.5,
            "high": closes + 1.0,
            "low": closes - 1.0,
            "close": closes,
            "volume": 1000.0,
        }
    )
