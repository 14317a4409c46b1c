"""Daily and intraday bars from Yahoo Finance through yfinance.

Prices are adjusted for splits and dividends (`auto_adjust`). yfinance's HTTP
client (curl_cffi, libcurl) honours the usual `HTTPS_PROXY` / `NO_PROXY`
variables, and `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` for a proxy that
re-signs TLS: set them in the Dataset's pod template. yfinance keeps a small cookie and time-zone cache on
disk: it goes to `$KUBETRADE_YFINANCE_CACHE` or the temp folder, since a pod's
home folder may not be writable.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import warnings
from collections.abc import Sequence

import pandas as pd
import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.exceptions import YFRateLimitError

from ...config.data import Interval
from . import calendar, retry
from .base import SourceError, finish, parse_interval, resolve_end

CACHE_ENV = "KUBETRADE_YFINANCE_CACHE"
INTERVALS = {
    Interval.MINUTE: "1m",
    Interval.FIVE_MINUTES: "5m",
    Interval.FIFTEEN_MINUTES: "15m",
    Interval.HOUR: "1h",
    Interval.DAY: "1d",
}
_configured: list[str] = []  # yfinance's cache folder can be set once per process


def yahoo_symbol(symbol: str) -> str:
    """Yahoo spells pairs with a dash (`BTC/USD` is `BTC-USD`); other symbols are Yahoo's own."""
    return symbol.replace("/", "-")


def _configure(cache_dir: str) -> None:
    if not _configured:
        os.makedirs(cache_dir, exist_ok=True)
        yf.set_tz_cache_location(cache_dir)
        _configured.append(cache_dir)
    # Raise instead of logging and returning an empty frame, which would hide a
    # failed symbol behind a partial result.
    yf.config.debug.hide_exceptions = False


def to_frame(history: pd.DataFrame, symbol: str, interval: Interval) -> pd.DataFrame:
    """yfinance's `history()` frame (exchange-time index, capitalised columns) as bars."""
    index = pd.DatetimeIndex(history.index)
    if interval == Interval.DAY:
        # Index is the session date at local midnight; keep the date, at 00:00 UTC.
        stamps = (
            index.tz_localize(None).normalize().tz_localize("UTC")
            if index.tz
            else index.tz_localize("UTC")
        )
    else:
        # Yahoo starts hourly bars at the open (09:30); labels sit on the clock
        # grid (09:00) like every other source's, see `data.calendars`.
        utc = index.tz_convert("UTC") if index.tz else index.tz_localize("UTC")
        stamps = utc.floor(f"{calendar.MINUTES[interval]}min")
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "symbol": symbol,
            "open": history["Open"].to_numpy(dtype="float64"),
            "high": history["High"].to_numpy(dtype="float64"),
            "low": history["Low"].to_numpy(dtype="float64"),
            "close": history["Close"].to_numpy(dtype="float64"),
            "volume": history["Volume"].to_numpy(dtype="float64"),
        }
    )


class YahooSource:
    """Adjusted bars from Yahoo Finance, one symbol at a time."""

    name = "yahoo"
    cache_identity = "yahoo|adjustment=all"

    def __init__(self, *, cache_dir: str | None = None, policy: retry.Retry | None = None) -> None:
        self.cache_dir = (
            cache_dir
            or os.environ.get(CACHE_ENV)
            or os.path.join(tempfile.gettempdir(), "kubetrade-yfinance")
        )
        self.policy = policy or retry.Retry()

    def _history(
        self, ticker: yf.Ticker, symbol: str, step: Interval, start: dt.date, end: dt.date
    ) -> pd.DataFrame:
        try:
            with warnings.catch_warnings():
                # yfinance 1.7 still calls pandas APIs that pandas 3.1 deprecates
                # (`inplace=`); the warnings concern yfinance, not the bars.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance\.")
                history = retry.call(
                    lambda: ticker.history(
                        start=start.isoformat(),
                        end=end.isoformat(),
                        interval=INTERVALS[step],
                        auto_adjust=True,
                        actions=False,
                        timeout=30,
                    ),
                    retry_on=(YFRateLimitError,),
                    policy=self.policy,
                    what=f"yahoo: {symbol}",
                )
        except SourceError:
            raise
        except Exception as err:  # yfinance raises many kinds; all end this symbol
            raise SourceError(f"yahoo: {symbol} failed: {type(err).__name__}: {err}") from err
        if not isinstance(history, pd.DataFrame):
            raise SourceError(f"yahoo: {symbol}: unexpected result {type(history).__name__}")
        return history

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Adjusted bars of `symbols` in [start, end); any failed symbol fails the fetch."""
        step = parse_interval(interval)
        stop = resolve_end(end)
        _configure(self.cache_dir)
        # A fresh session per fetch reads the proxy and CA settings of now.
        session: curl_requests.Session[curl_requests.Response] = curl_requests.Session(
            impersonate="chrome"
        )
        frames = []
        for symbol in symbols:
            ticker = yf.Ticker(yahoo_symbol(symbol), session=session)
            history = self._history(ticker, symbol, step, start, stop)
            if history.empty:
                raise SourceError(f"yahoo: no bars for symbol {symbol} in [{start}, {stop})")
            frames.append(to_frame(history, symbol, step))
        frame = pd.concat(frames, ignore_index=True)
        return finish(frame, source=self.name, symbols=symbols, start=start, end=end)
