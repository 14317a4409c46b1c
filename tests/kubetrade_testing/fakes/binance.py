"""Binance's public spot REST API as ccxt's `binance` uses it for OHLCV.

`GET /api/v3/exchangeInfo` lists the spot markets; the USD-M and COIN-M
futures `exchangeInfo` (`/fapi/v1`, `/dapi/v1`), which ccxt also loads, list
none. `GET /api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=..&endTime=..&limit=..`
answers rows `[openTime, open, high, low, close, volume, closeTime,
quoteVolume, trades, takerBase, takerQuote, "0"]` with prices as strings,
open times in [startTime, endTime], at most `limit` (max 1000) of them, and
Binance's `{"code": -1121, "msg": "Invalid symbol."}` errors. Market data is
public: no key is needed, and none is accepted in the query.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .server import FakeService, Response, Seen, json_response

INTERVALS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}
TOO_MANY = {
    "code": -1003,
    "msg": "Too many requests; current limit of IP is 6000 requests per minute.",
}


def _error(status: int, code: int, msg: str) -> Response:
    return json_response({"code": code, "msg": msg}, status)


def _market(base: str, quote: str) -> dict[str, object]:
    return {
        "symbol": f"{base}{quote}",
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01000000",
                "maxPrice": "1000000.00000000",
                "tickSize": "0.01000000",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


class BinanceFake(FakeService):
    """Serves `bars` (canonical frames by interval, symbols like BTC/USDT) as Binance would."""

    def __init__(self, bars: Mapping[str, pd.DataFrame], *, page_cap: int = 1000) -> None:
        super().__init__()
        self.bars = dict(bars)
        self.page_cap = page_cap
        pairs = sorted({s for frame in self.bars.values() for s in frame["symbol"].unique()})
        self.pairs = {p.replace("/", ""): p for p in pairs}

    def route(self, seen: Seen) -> Response:
        weight = {"X-MBX-USED-WEIGHT-1M": str(len(self.requests))}
        if seen.path == "/api/v3/exchangeInfo":
            markets = [_market(*p.split("/")) for p in self.pairs.values()]
            return json_response(self._info(markets), headers=weight)
        if seen.path in ("/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"):
            return json_response(self._info([]) | {"assets": []}, headers=weight)
        if seen.path == "/api/v3/klines":
            return self._klines(seen.query, weight)
        return _error(404, -1000, f"unknown endpoint {seen.path}")

    @staticmethod
    def _info(symbols: list[dict[str, object]]) -> dict[str, object]:
        return {
            "timezone": "UTC",
            "serverTime": 1700000000000,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    def _klines(self, q: dict[str, str], headers: dict[str, str]) -> Response:
        if "signature" in q or "apiKey" in q:
            return _error(400, -1101, "Too many parameters; public endpoint takes no signature.")
        pair = self.pairs.get(q.get("symbol", ""))
        if pair is None:
            return _error(400, -1121, "Invalid symbol.")
        interval = q.get("interval", "")
        if interval not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        limit = int(q.get("limit") or 500)
        if not 1 <= limit <= 1000:
            return _error(400, -1130, "Data sent for parameter 'limit' is not valid.")
        frame = self.bars.get(interval)
        rows = frame[frame["symbol"] == pair] if frame is not None else None
        if rows is None or rows.empty:
            return json_response([], headers=headers)
        opens = (rows["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
        keep = (opens >= int(q.get("startTime") or 0)) & (opens <= int(q.get("endTime") or 2**62))
        step = INTERVALS[interval]
        out: list[list[object]] = []
        for open_ms, row in zip(opens[keep], rows[keep].to_dict("records"), strict=True):
            if len(out) == min(limit, self.page_cap):
                break
            out.append(
                [
                    int(open_ms),
                    f"{row['open']:.8f}",
                    f"{row['high']:.8f}",
                    f"{row['low']:.8f}",
                    f"{row['close']:.8f}",
                    f"{row['volume']:.8f}",
                    int(open_ms) + step - 1,
                    f"{row['volume'] * row['close']:.8f}",
                    1000,
                    f"{row['volume'] / 2:.8f}",
                    f"{row['volume'] * row['close'] / 2:.8f}",
                    "0",
                ]
            )
        return json_response(out, headers=headers)
