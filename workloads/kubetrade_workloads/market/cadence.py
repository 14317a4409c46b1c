"""Which market a symbol trades in, and how many bars its day and year hold: one
classifier and one annualisation for cleaning, metrics, risk and reports alike.

- Equities trade 252 days a year in 6.5-hour sessions (390 one-minute bars; 7
  hourly bars, the first holding the half hour after the open, as the data grid
  labels them).
- FX trades 24 hours, five days a week (Sunday 17:00 to Friday 17:00 New York):
  260 weekdays of 24 hours. The FX year is counted in weekdays, not 24 x 5 x 52
  = 6,240 hours, because the week's 120 hours are exactly five 24-hour days.
- Crypto trades 365 days of 24 hours.

A symbol's market is read from how it is written (`market_of_symbol`); a
dataset's from its calendars when it recorded them (`market_of_calendars`),
else from its symbols (`market_of`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Market(StrEnum):
    EQUITIES = "equities"
    FX = "fx"
    CRYPTO = "crypto"


_ROUND_THE_CLOCK = {"1m": 1440, "5m": 288, "15m": 96, "1h": 24, "1d": 1}
BARS_PER_DAY = {
    Market.EQUITIES: {"1m": 390, "5m": 78, "15m": 26, "1h": 7, "1d": 1},
    Market.FX: _ROUND_THE_CLOCK,
    Market.CRYPTO: _ROUND_THE_CLOCK,
}
DAYS_PER_YEAR = {Market.EQUITIES: 252, Market.FX: 260, Market.CRYPTO: 365}

FX_CALENDAR = "24/5"
CRYPTO_CALENDAR = "24/7"

# Active ISO 4217 fiat currencies. Fund codes (X..) are left out; the precious
# metals' codes are apart (METALS): spot gold and silver trade on the FX
# dealers' 24/5 week, so XAU/USD is on FX's clock, never crypto's 24/7.
FIAT = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNH CNY COP CRC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD
    LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK
    NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)

METALS = frozenset({"XAU", "XAG", "XPT", "XPD"})

# Yahoo's crypto tickers are BASE-QUOTE (BTC-USD); a listed share class is
# written BRK-B, so only these quotes make a dashed symbol crypto.
_DASHED_CRYPTO_QUOTES = frozenset({"USD", "USDT", "USDC", "EUR", "GBP", "BTC", "ETH"})
# Exchange-style concatenations (BTCUSDT) end in a stablecoin.
_STABLE_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD")
_FX_FORMS = re.compile(r"^([A-Z]{3})[/_\-]?([A-Z]{3})(?:=X)?$")
_YAHOO_DOLLAR_FX = re.compile(r"^([A-Z]{3})=X$")  # JPY=X is USD/JPY


def is_fx_pair(symbol: str) -> bool:
    """EURUSD, EUR/USD, EUR_USD, EUR-USD, EURUSD=X: two ISO 4217 fiat codes
    (Yahoo's JPY=X: the dollar against one), or a precious metal against one
    (XAU/USD, XAGEUR)."""
    dollar = _YAHOO_DOLLAR_FX.match(symbol.upper())
    if dollar is not None:
        return dollar[1] in FIAT and dollar[1] != "USD"
    match = _FX_FORMS.match(symbol.upper())
    if match is None or match[1] == match[2]:
        return False
    base, quote = match[1], match[2]
    return (base in FIAT or base in METALS) and quote in FIAT


def is_crypto(symbol: str) -> bool:
    """BTC/USDT (ccxt, Alpaca; BTC/USDT:USDT perpetuals), BTC-USD (Yahoo), BTCUSDT."""
    if is_fx_pair(symbol):
        return False
    upper = symbol.upper()
    if "/" in upper:  # BRK/B is a share class, not a pair
        base, _, quote = upper.partition(":")[0].partition("/")
        return len(base) > 1 and len(quote) > 1
    if "-" in upper:
        return upper.rsplit("-", 1)[1] in _DASHED_CRYPTO_QUOTES
    return upper.isalnum() and any(
        upper.endswith(q) and len(upper) > len(q) + 1 for q in _STABLE_QUOTES
    )


def market_of_symbol(symbol: str) -> Market:
    """The market one symbol trades in, read from how it is written."""
    if is_fx_pair(symbol):
        return Market.FX
    return Market.CRYPTO if is_crypto(symbol) else Market.EQUITIES


def _widest(markets: Iterable[Market]) -> Market:
    # A portfolio's bars are the union of its symbols' bars, so its year is the
    # longest of their years: one crypto pair puts weekends on the clock.
    found = set(markets)
    for market in (Market.CRYPTO, Market.FX):
        if market in found:
            return market
    return Market.EQUITIES


def market_of(symbols: Iterable[str]) -> Market:
    """The market whose year a set of symbols' bars follow (the widest of theirs;
    equities when there are none)."""
    return _widest(market_of_symbol(str(s)) for s in symbols)


def market_of_calendar(calendar: str) -> Market:
    """24/7 is crypto's clock, 24/5 FX's; an exchange calendar (XNYS, XLON) trades equities."""
    if calendar == CRYPTO_CALENDAR:
        return Market.CRYPTO
    return Market.FX if calendar == FX_CALENDAR else Market.EQUITIES


def market_of_calendars(calendars: Iterable[str]) -> Market:
    """The market whose year bars on these calendars follow (the widest)."""
    return _widest(market_of_calendar(str(c)) for c in calendars)


def market_of_dataset(manifest: Mapping[str, Any]) -> Market:
    """A published Dataset's market: from the calendars its cleaning chose per
    symbol (the manifest's `calendars`), else from its symbols."""
    calendars = manifest.get("calendars")
    if isinstance(calendars, Mapping) and calendars:
        return market_of_calendars(str(c) for c in calendars.values())
    return market_of(str(s) for s in manifest.get("symbols") or ())


def periods_per_year(interval: str, market: Market | str = Market.EQUITIES) -> float:
    """Bars per year for an interval (1m, 5m, 15m, 1h, 1d) in a market.

    Raises KeyError naming the interval when it is not one of ours.
    """
    kind = Market(market)
    per_day = BARS_PER_DAY[kind].get(interval)
    if per_day is None:
        raise KeyError(f"unknown interval {interval!r}; choose from {sorted(BARS_PER_DAY[kind])}")
    return float(DAYS_PER_YEAR[kind] * per_day)
