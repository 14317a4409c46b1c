"""Market-data sources behind one interface: synthetic, file, yahoo, alpaca, ccxt.

`get_source(config, credentials).fetch(symbols, interval, start, end)` returns
the canonical bar frame of `market.bars` or raises `SourceError`.
"""

from .base import Source, SourceError, finish, resolve_end
from .credentials import Credentials, load_credentials
from .registry import get_source

__all__ = [
    "Credentials",
    "Source",
    "SourceError",
    "finish",
    "get_source",
    "load_credentials",
    "resolve_end",
]
