"""Yahoo Finance as yfinance reaches it: cookie, crumb and the v8 chart API.

yfinance's URLs are fixed https:// addresses, so this fake is reached the way
any client reaches a service behind a corporate proxy: `HTTPS_PROXY` points at
the fake, which answers `CONNECT` for Yahoo's hosts and serves TLS with a
certificate from a test CA the client trusts through `REQUESTS_CA_BUNDLE`.

- `GET https://fc.yahoo.com/` sets the `A3` cookie (with a 404 page, as Yahoo does);
- `GET https://query{1,2}.finance.yahoo.com/v1/test/getcrumb` needs the cookie, returns the crumb;
- `GET https://query2.finance.yahoo.com/v10/finance/quoteSummary/SYMBOL` says `Not Found`
  (yfinance asks it for the time zone of a symbol the chart API does not know);
- `GET https://query{1,2}.finance.yahoo.com/v8/finance/chart/SYMBOL` needs cookie and crumb;
  `range` or `period1`/`period2` (epoch seconds), `interval`, `includePrePost`,
  `events`; it answers `{"chart": {"result": [{meta, timestamp, events,
  indicators: {quote: [...], adjclose: [...]}}], "error": null}}`, quotes
  unadjusted for dividends with `adjclose` adjusted, daily bars stamped at the
  open, hourly bars starting at the open (09:30), `tradingPeriods` for
  intraday requests, and Yahoo's `Not Found` error for unknown symbols.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .server import FakeService, Response, Seen, json_response

HOSTS = (
    "fc.yahoo.com",
    "query1.finance.yahoo.com",
    "query2.finance.yahoo.com",
    "guce.yahoo.com",
    "consent.yahoo.com",
)
NY = "America/New_York"
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
TOO_MANY = Response(429, b"Too Many Requests\r\n", {"Content-Type": "text/plain"})


def _chart_error(status: int, code: str, description: str) -> Response:
    return json_response(
        {"chart": {"result": None, "error": {"code": code, "description": description}}}, status
    )


def _period(start: pd.Timestamp, end: pd.Timestamp) -> dict[str, object]:
    offset = int(start.tz_convert(NY).utcoffset().total_seconds())  # type: ignore[union-attr]
    return {
        "timezone": "EST" if offset == -18000 else "EDT",
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "gmtoffset": offset,
    }


def _session(day: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    local = pd.Timestamp(day.date()).tz_localize(NY)
    return (local + pd.Timedelta(hours=9, minutes=30)).tz_convert("UTC"), (
        local + pd.Timedelta(hours=16)
    ).tz_convert("UTC")


class YahooFake(FakeService):
    """Serves `bars` (canonical frames by interval: '1d', '1h') as Yahoo's chart API."""

    hosts = HOSTS

    def __init__(self, bars: Mapping[str, pd.DataFrame]) -> None:
        super().__init__()
        self.bars = dict(bars)
        self.cookie = "d=AQABBK" + secrets.token_hex(8) + "&S=AQAAA" + secrets.token_hex(8)
        self.crumb = secrets.token_urlsafe(8)
        self.dividends: dict[str, tuple[pd.Timestamp, float]] = {}

    def dividend(self, symbol: str, ex_day: str, factor: float) -> None:
        """Before `ex_day`, raw prices are adjusted prices / `factor` (Yahoo's adjclose ratio)."""
        self.dividends[symbol] = (pd.Timestamp(ex_day, tz="UTC"), factor)

    def route(self, seen: Seen) -> Response:
        if seen.host == "fc.yahoo.com":
            expires = (pd.Timestamp.now("UTC") + pd.Timedelta(days=365)).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            )
            cookie = f"A3={self.cookie}; Expires={expires}; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure; HttpOnly"
            return Response(
                404,
                b"<html><body>Not Found</body></html>",
                {"Content-Type": "text/html", "Set-Cookie": cookie},
            )
        if seen.host in ("guce.yahoo.com", "consent.yahoo.com"):
            return Response(
                200, b"<html><body>no consent needed</body></html>", {"Content-Type": "text/html"}
            )
        if seen.path == "/v1/test/getcrumb":
            if seen.cookie("A3") != self.cookie:
                return Response(401, b"", {"Content-Type": "text/plain"})
            return Response(200, self.crumb.encode(), {"Content-Type": "text/plain;charset=utf-8"})
        if seen.path.startswith("/v8/finance/chart/"):
            if seen.cookie("A3") != self.cookie or seen.query.get("crumb") != self.crumb:
                return json_response(
                    {
                        "finance": {
                            "result": None,
                            "error": {"code": "Unauthorized", "description": "Invalid Crumb"},
                        }
                    },
                    401,
                )
            return self._chart(seen.path.rsplit("/", 1)[1], seen.query)
        if seen.path.startswith(
            "/v10/finance/quoteSummary/"
        ):  # yfinance's fallback for a time zone
            symbol = seen.path.rsplit("/", 1)[1]
            error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}
            return json_response({"quoteSummary": {"result": None, "error": error}}, 404)
        return Response(404, b"Not Found")

    def _rows(self, symbol: str, interval: str) -> pd.DataFrame | None:
        frame = self.bars.get("1h" if interval in ("1h", "60m") else interval)
        if frame is None:
            return None
        rows = frame[frame["symbol"] == symbol]
        return None if rows.empty else rows

    def _chart(self, symbol: str, q: dict[str, str]) -> Response:
        interval = q.get("interval", "1d")
        rows = (
            self._rows(symbol, "1d")
            if self._rows(symbol, interval) is None
            else self._rows(symbol, interval)
        )
        if rows is None:
            return _chart_error(404, "Not Found", "No data found, symbol may be delisted")
        stamps = self._yahoo_stamps(rows, interval)
        if "range" in q:  # the recent bars: yfinance asks this for the time zone
            keep = np.arange(len(rows)) >= len(rows) - (1 if q["range"] == "1d" else 5)
        else:
            keep = (stamps >= int(q.get("period1", 0))) & (stamps < int(q.get("period2", 2**40)))
        rows, stamps = rows[keep], stamps[keep]
        result = {"meta": self._meta(symbol, rows, interval, q), "timestamp": stamps.tolist()}
        if len(rows) == 0:
            return json_response(
                {
                    "chart": {
                        "result": [{"meta": result["meta"], "indicators": {"quote": [{}]}}],
                        "error": None,
                    }
                }
            )
        factor = np.ones(len(rows))
        if symbol in self.dividends:
            ex_day, f = self.dividends[symbol]
            factor = np.where(rows["timestamp"] < ex_day, f, 1.0)
        quote = {
            col: (rows[col].to_numpy() / factor).round(6).tolist()
            for col in ("open", "high", "low", "close")
        }
        quote["volume"] = rows["volume"].astype("int64").tolist()
        result["indicators"] = {"quote": [quote]}
        if interval == "1d":
            result["indicators"]["adjclose"] = [{"adjclose": rows["close"].round(6).tolist()}]
            if symbol in self.dividends:
                ex_day, f = self.dividends[symbol]
                ex = int(_session(ex_day)[0].timestamp())
                result["events"] = {"dividends": {str(ex): {"amount": 0.5, "date": ex}}}
        return json_response({"chart": {"result": [result], "error": None}})

    @staticmethod
    def _yahoo_stamps(rows: pd.DataFrame, interval: str) -> np.ndarray:
        stamps = rows["timestamp"]
        if interval == "1d":  # a daily bar is stamped at that day's open
            stamps = pd.Series([_session(t)[0] for t in stamps], index=rows.index)
        elif interval in ("1h", "60m"):  # hours start at the open, 09:30, 10:30, ...
            stamps = stamps + pd.Timedelta(minutes=30)
        return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()

    def _meta(
        self, symbol: str, rows: pd.DataFrame, interval: str, q: dict[str, str]
    ) -> dict[str, object]:
        last = rows.iloc[-1] if len(rows) else None
        day = rows["timestamp"].iloc[-1] if len(rows) else pd.Timestamp("2024-01-02", tz="UTC")
        open_, close = _session(day)
        meta: dict[str, object] = {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "NMS",
            "fullExchangeName": "NasdaqGS",
            "instrumentType": "EQUITY",
            "firstTradeDate": 345479400,
            "regularMarketTime": int(close.timestamp()),
            "hasPrePostMarketData": True,
            "gmtoffset": _period(open_, close)["gmtoffset"],
            "timezone": _period(open_, close)["timezone"],
            "exchangeTimezoneName": NY,
            "regularMarketPrice": float(last["close"]) if last is not None else 100.0,
            "chartPreviousClose": float(rows["close"].iloc[0]) if len(rows) else 100.0,
            "priceHint": 2,
            "currentTradingPeriod": {
                "pre": _period(open_ - pd.Timedelta(hours=5, minutes=30), open_),
                "regular": _period(open_, close),
                "post": _period(close, close + pd.Timedelta(hours=4)),
            },
            "dataGranularity": interval,
            "range": q.get("range", ""),
            "validRanges": VALID_RANGES,
        }
        if interval != "1d":
            days = sorted({t.date() for t in rows["timestamp"]})
            regular = [[_period(*_session(pd.Timestamp(d)))] for d in days]
            if q.get("includePrePost", "false").lower() == "true":
                pre = [
                    [_period(s - pd.Timedelta(hours=5, minutes=30), s)]
                    for s, _ in map(_session, map(pd.Timestamp, days))
                ]
                post = [
                    [_period(e, e + pd.Timedelta(hours=4))]
                    for _, e in map(_session, map(pd.Timestamp, days))
                ]
                meta["tradingPeriods"] = {"pre": pre, "regular": regular, "post": post}
            else:
                meta["tradingPeriods"] = regular
        return meta
