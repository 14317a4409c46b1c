"""Alpaca's market-data API v2, historical stock bars (`GET /v2/stocks/bars`).

Speaks what data.alpaca.markets speaks: `APCA-API-KEY-ID` and
`APCA-API-SECRET-KEY` headers (401 without them), query parameters `symbols`,
`timeframe` (1Min, 5Min, 15Min, 1Hour, 1Day), RFC 3339 `start` / `end`,
`limit`, `adjustment`, `feed`, `sort`, `page_token`; a response
`{"bars": {SYMBOL: [{t, o, h, l, c, v, n, vw}]}, "next_page_token": ...,
"currency": "USD"}` whose pages run through the symbols in order, `limit`
bars at most across all of them. Daily bars are stamped at midnight New York
time. Unknown symbols are simply absent, as on the real service. Splits can
be registered so `adjustment=raw` differs from `all`.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping

import pandas as pd

from .server import FakeService, Response, Seen, json_response

TIMEFRAMES = {"1Min": "1m", "5Min": "5m", "15Min": "15m", "1Hour": "1h", "1Day": "1d"}
FEEDS = {"iex", "sip", "otc", "delayed_sip", "boats", "overnight"}
ADJUSTMENTS = {"raw", "split", "dividend", "all"}


def _error(status: int, code: int, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)


def _stamp(ts: pd.Timestamp, interval: str) -> str:
    if interval == "1d":  # Alpaca labels a day by its midnight in New York
        ts = pd.Timestamp(ts.date()).tz_localize("America/New_York").tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


class AlpacaFake(FakeService):
    """Serves `bars` (canonical frames by interval: '1d', '1h', ...) as Alpaca would."""

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        key: str = "AKTESTKEY",
        secret: str = "test-secret",  # noqa: S107 - the fake's own test credential
        page_size: int = 100,
    ) -> None:
        super().__init__()
        self.bars = dict(bars)
        self.key, self.secret = key, secret
        self.page_size = page_size
        self.splits: dict[str, tuple[pd.Timestamp, float]] = {}

    def split(self, symbol: str, day: dt.date, ratio: float) -> None:
        """Register a split: raw prices before `day` are `ratio` times the adjusted ones."""
        self.splits[symbol] = (pd.Timestamp(day, tz="UTC"), ratio)

    def route(self, seen: Seen) -> Response:
        if seen.path != "/v2/stocks/bars":
            return _error(404, 40410000, "endpoint not found")
        if (
            seen.headers.get("apca-api-key-id") != self.key
            or seen.headers.get("apca-api-secret-key") != self.secret
        ):
            return json_response({"message": "unauthorized."}, 401)
        q = seen.query
        if not q.get("symbols"):
            return _error(400, 40010001, "symbols is required")
        if q.get("timeframe") not in TIMEFRAMES:
            return _error(422, 42210000, f"invalid timeframe: {q.get('timeframe')}")
        if q.get("adjustment", "raw") not in ADJUSTMENTS:
            return _error(422, 42210000, "invalid adjustment")
        if "feed" in q and q["feed"] not in FEEDS:
            return _error(422, 42210000, "invalid feed")
        limit = int(q.get("limit") or 1000)
        if not 1 <= limit <= 10000:
            return _error(422, 42210000, "invalid limit: exceeds maximum of 10000")
        items = self._items(q)
        offset = int(base64.b64decode(q["page_token"]).decode()) if q.get("page_token") else 0
        page = items[offset : offset + min(limit, self.page_size)]
        grouped: dict[str, list[dict[str, object]]] = {}
        for symbol, bar in page:
            grouped.setdefault(symbol, []).append(bar)
        following = offset + len(page)
        token = (
            base64.b64encode(str(following).encode()).decode() if following < len(items) else None
        )
        return json_response({"bars": grouped, "next_page_token": token, "currency": "USD"})

    def _items(self, q: dict[str, str]) -> list[tuple[str, dict[str, object]]]:
        interval = TIMEFRAMES[q["timeframe"]]
        frame = self.bars.get(interval)
        if frame is None:
            return []
        start = pd.Timestamp(q["start"]) if q.get("start") else pd.Timestamp.min.tz_localize("UTC")
        end = pd.Timestamp(q["end"]) if q.get("end") else pd.Timestamp.max.tz_localize("UTC")
        adjusted = q.get("adjustment", "raw") in ("split", "all")
        items = []
        for symbol in sorted(q["symbols"].split(",")):
            rows = frame[frame["symbol"] == symbol]
            for row in rows.to_dict("records"):
                stamp = _stamp(row["timestamp"], interval)
                if not start <= pd.Timestamp(stamp) <= end:
                    continue
                ratio = 1.0
                if (
                    not adjusted
                    and symbol in self.splits
                    and row["timestamp"] < self.splits[symbol][0]
                ):
                    ratio = self.splits[symbol][1]
                bar = {
                    "t": stamp,
                    "o": row["open"] * ratio,
                    "h": row["high"] * ratio,
                    "l": row["low"] * ratio,
                    "c": row["close"] * ratio,
                    "v": row["volume"] / ratio,
                    "n": 100,
                    "vw": (row["high"] + row["low"] + row["close"]) / 3 * ratio,
                }
                items.append((symbol, bar))
        return items
