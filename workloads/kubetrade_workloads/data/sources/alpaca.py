"""US equity bars from Alpaca's market-data API through alpaca-py.

`StockHistoricalDataClient` follows `next_page_token` until the last page and
retries HTTP 429 itself; any other failure ends the whole fetch, so a range is
never returned with pages missing. Bars are adjusted for splits and dividends
(`adjustment=all`); intraday bars are kept to the regular NYSE session, as the
other sources give them (Alpaca also serves pre- and post-market bars). `url` (the source's `uri`) overrides the API endpoint, for
a proxy, a sandbox or a local stand-in.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd
import requests

with warnings.catch_warnings():
    # alpaca-py 0.44 imports websockets.legacy (deprecated since websockets 14)
    # for its streaming clients, which historical bars never use.
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.data.enums import Adjustment, DataFeed
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import StockBarsRequest
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from ...config.data import Interval
from . import calendar
from .base import SourceError, daily_stamp, finish, parse_interval, utc_bounds
from .credentials import Credentials
from .retry import Retry, call

# A connection dropped mid-answer (a reset, a body cut short, a read timeout) is
# transient: the chunk is asked again from its first page. alpaca-py itself
# retries only HTTP 429 and 504.
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.Timeout,
)
TRANSPORT_RETRY = Retry(attempts=3, base_delay=1.0)

TIMEFRAMES = {
    Interval.MINUTE: TimeFrame(1, TimeFrameUnit.Minute),
    Interval.FIVE_MINUTES: TimeFrame(5, TimeFrameUnit.Minute),
    Interval.FIFTEEN_MINUTES: TimeFrame(15, TimeFrameUnit.Minute),
    Interval.HOUR: TimeFrame(1, TimeFrameUnit.Hour),
    Interval.DAY: TimeFrame(1, TimeFrameUnit.Day),
}
# Symbols per request: keeps the query string well under common URL limits.
CHUNK = 100
MARKET_TZ = "America/New_York"


def _frame(raw: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    rows = [
        (bar["t"], symbol, bar["o"], bar["h"], bar["l"], bar["c"], bar["v"])
        for symbol, items in raw.items()
        for bar in items
    ]
    return pd.DataFrame(
        rows, columns=["timestamp", "symbol", "open", "high", "low", "close", "volume"]
    )


def _describe(err: Exception) -> str:
    if isinstance(err, APIError):
        return f"HTTP {err.status_code}: {str(err)[:300]}"
    return f"{type(err).__name__}: {err}"


class AlpacaSource:
    """Stock bars from Alpaca (needs `apiKey` and `apiSecret`)."""

    name = "alpaca"

    def __init__(
        self,
        credentials: Credentials,
        *,
        feed: str | None = None,
        url: str | None = None,
        retry: Retry = TRANSPORT_RETRY,
    ) -> None:
        missing = credentials.missing("apiKey", "apiSecret")
        if missing:
            raise SourceError(
                f"alpaca: credentials {missing} are missing; put them in the Secret named by "
                "credentialsSecretRef, or set KUBETRADE_API_KEY / KUBETRADE_API_SECRET"
            )
        self.feed = DataFeed(feed) if feed else None
        self.url = url
        self.retry = retry
        self._client = StockHistoricalDataClient(
            api_key=credentials["apiKey"],
            secret_key=credentials["apiSecret"],
            raw_data=True,  # plain dicts: no model object per bar
            url_override=url,
        )

    @property
    def cache_identity(self) -> str:
        """Feed, adjustment and endpoint decide the bars."""
        feed = self.feed.value if self.feed else "default"
        return f"alpaca|feed={feed}|adjustment=all|{self.url or 'default'}"

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Adjusted bars of `symbols` in [start, end) UTC, every page or an error."""
        step = parse_interval(interval)
        lo, hi = utc_bounds(start, end)
        parts = []
        for i in range(0, len(symbols), CHUNK):
            chunk = list(symbols[i : i + CHUNK])
            request = StockBarsRequest(
                symbol_or_symbols=chunk,
                timeframe=TIMEFRAMES[step],
                start=lo.to_pydatetime(),
                end=hi.to_pydatetime(),
                adjustment=Adjustment.ALL,
                feed=self.feed,
            )
            what = f"alpaca: bars for {', '.join(chunk)}"
            try:
                raw = call(
                    functools.partial(self._client.get_stock_bars, request),
                    retry_on=TRANSPORT_ERRORS,
                    policy=self.retry,
                    what=what,
                )
            except (APIError, requests.RequestException, ValueError) as err:
                raise SourceError(
                    f"alpaca: bars for {', '.join(chunk)} failed: {_describe(err)}"
                ) from err
            if not isinstance(raw, dict):
                raise SourceError(
                    f"alpaca: unexpected response for {', '.join(chunk)}: {type(raw).__name__}"
                )
            parts.append(_frame(raw))
        frame = pd.concat(parts, ignore_index=True)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
        if step == Interval.DAY and not frame.empty:
            frame["timestamp"] = daily_stamp(frame["timestamp"], MARKET_TZ)
        elif not frame.empty:
            frame = frame[calendar.in_session(frame["timestamp"], step)]
        return finish(frame, source=self.name, symbols=symbols, start=start, end=end)
