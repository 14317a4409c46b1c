"""How many bars a day and a year hold, by interval and market: one count for the
backtest's annualisation and the live trader's risk scaling.

Equities trade 252 days a year in 6.5-hour sessions (390 one-minute bars; 7 hourly
bars, the first holding the half hour after the open, as the data grid labels
them); crypto trades 365 days of 24 hours.
"""

from __future__ import annotations

from enum import StrEnum


class Market(StrEnum):
    EQUITIES = "equities"
    CRYPTO = "crypto"


BARS_PER_DAY = {
    Market.EQUITIES: {"1m": 390, "5m": 78, "15m": 26, "1h": 7, "1d": 1},
    Market.CRYPTO: {"1m": 1440, "5m": 288, "15m": 96, "1h": 24, "1d": 1},
}
DAYS_PER_YEAR = {Market.EQUITIES: 252, Market.CRYPTO: 365}
