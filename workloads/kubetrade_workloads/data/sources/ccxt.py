"""Bars from any exchange ccxt supports, through `fetch_ohlcv`.

Pages are walked by `since` from the start of the range to its end, within
the exchange's own rate limit (ccxt's throttle, `enableRateLimit`), with
backoff when the exchange still says "too many requests". A page that keeps
failing ends the fetch with an error naming the symbol and the page. `url`
(the source's `uri`) moves every endpoint in the exchange's `urls['api']` to
that host, for a proxy or a local stand-in; crypto bars need no adjustment.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt as ccxt_lib
import pandas as pd

from . import retry
from .base import SourceError, finish, parse_interval, utc_bounds
from .credentials import Credentials

DEFAULT_PAGE = 500
# Credential keys ccxt understands, as they are named in the Secret.
_CREDENTIAL_FIELDS = (("apiKey", "apiKey"), ("apiSecret", "secret"), ("password", "password"))


def rebase(urls: Any, base: str) -> Any:
    """Every URL in `urls` (nested dicts of strings) moved to `base`'s scheme and host."""
    if isinstance(urls, dict):
        return {key: rebase(value, base) for key, value in urls.items()}
    if isinstance(urls, str) and "://" in urls:
        target, old = urlsplit(base), urlsplit(urls)
        path = target.path.rstrip("/") + old.path
        return urlunsplit((target.scheme, target.netloc, path, old.query, old.fragment))
    return urls


def make_exchange(
    exchange: str,
    credentials: Credentials,
    *,
    timeout_ms: int,
    url: str | None = None,
    sandbox: bool = False,
) -> Any | None:
    """A rate-limited ccxt client of `exchange` with the Secret's credentials, on its
    sandbox when asked and its API moved to `url` when given; None for an exchange
    ccxt does not know. The data source and the trading venue both start here."""
    factory = getattr(ccxt_lib, exchange, None)
    if exchange not in ccxt_lib.exchanges or factory is None:
        return None
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": timeout_ms}
    config |= {field: credentials[key] for key, field in _CREDENTIAL_FIELDS if credentials.get(key)}
    client = factory(config)
    if sandbox:
        client.set_sandbox_mode(True)
    if url:
        client.urls["api"] = rebase(client.urls["api"], url)
    return client


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


class CcxtSource:
    """OHLCV bars from one ccxt exchange, e.g. `binance` or `kraken`."""

    def __init__(
        self,
        exchange: str,
        credentials: Credentials,
        *,
        url: str | None = None,
        policy: retry.Retry | None = None,
    ) -> None:
        client = make_exchange(exchange, credentials, timeout_ms=30_000, url=url)
        if client is None:
            raise SourceError(
                f"ccxt: no exchange named {exchange!r} (ccxt knows {len(ccxt_lib.exchanges)})"
            )
        self._exchange = client
        self.name = f"ccxt:{exchange}"
        self.url = url
        self.policy = policy or retry.Retry()
        self._markets_loaded = False

    @property
    def cache_identity(self) -> str:
        """The exchange and its endpoint decide the bars (crypto is never adjusted)."""
        return f"{self.name}|adjustment=none|{self.url or 'default'}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return retry.call(
                functools.partial(fn, *args, **kwargs),
                # OperationFailed: ccxt's base of errors that may pass (network,
                # rate limits, an exchange's 'unknown error, try again').
                retry_on=(ccxt_lib.OperationFailed,),
                policy=self.policy,
                what=f"{self.name}: {what}",
                floor=self._exchange.rateLimit / 1000.0,
            )
        except ccxt_lib.BaseError as err:
            raise SourceError(f"{self.name}: {what} failed: {type(err).__name__}: {err}") from err

    def _page_size(self, symbol: str) -> int:
        market = self._exchange.market(symbol)
        features = self._exchange.features or {}
        kind = features.get(market.get("type"), {}) or {}
        if market.get("linear") is not None and "linear" in kind:
            kind = kind.get("linear") or {}
        limit = (kind.get("fetchOHLCV") or {}).get("limit")
        return int(limit) if limit else DEFAULT_PAGE

    def _symbol_rows(self, symbol: str, timeframe: str, lo: int, hi: int) -> list[list[Any]]:
        try:
            page_size = self._page_size(symbol)
        except ccxt_lib.BadSymbol as err:
            raise SourceError(f"{self.name}: unknown symbol {symbol}: {err}") from err
        step = int(self._exchange.parse_timeframe(timeframe)) * 1000
        rows: dict[int, list[Any]] = {}
        since, page = lo, 0
        while since < hi:
            page += 1
            what = f"{symbol} page {page} (from {_iso(since)})"
            batch = self._call(
                what, self._exchange.fetch_ohlcv, symbol, timeframe, since=since, limit=page_size
            )
            batch = [row for row in batch or [] if since <= int(row[0]) < hi]
            if not batch:
                # A gap (an outage, or before the listing): skip a page's worth of time.
                since += page_size * step
                continue
            for row in batch:
                rows.setdefault(int(row[0]), row)  # pages may overlap by a bar
            since = int(batch[-1][0]) + step
        return [rows[k] for k in sorted(rows)]

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Bars of `symbols` with open time in [start, end) UTC, every page or an error."""
        timeframe = parse_interval(interval).value
        if not self._exchange.has.get("fetchOHLCV"):
            raise SourceError(f"{self.name}: this exchange has no OHLCV history (fetchOHLCV)")
        if not self._markets_loaded:
            self._call("loading markets", self._exchange.load_markets)
            self._markets_loaded = True
        if timeframe not in (self._exchange.timeframes or {}):
            raise SourceError(
                f"{self.name}: no {timeframe} bars; it offers {sorted(self._exchange.timeframes or {})}"
            )
        lo, hi = (int(t.timestamp() * 1000) for t in utc_bounds(start, end))
        frames = []
        for symbol in symbols:
            rows = self._symbol_rows(symbol, timeframe, lo, hi)
            frame = pd.DataFrame(
                [row[:6] for row in rows],
                columns=["timestamp", "open", "high", "low", "close", "volume"],
            )
            frames.append(frame.assign(symbol=symbol))
        frame = pd.concat(frames, ignore_index=True)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype("int64"), unit="ms", utc=True)
        return finish(frame, source=self.name, symbols=symbols, start=start, end=end)
