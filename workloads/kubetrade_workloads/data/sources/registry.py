"""From a source config to the source that serves it.

Network sources are imported on demand: yfinance, ccxt and alpaca-py take
seconds to import, and most runs need at most one of them.
"""

from __future__ import annotations

from ...config.data import SourceConfig, SourceType
from .base import Source, SourceError
from .credentials import Credentials


def get_source(config: SourceConfig, credentials: Credentials | None = None) -> Source:
    """The source for `config`; `credentials` feed the sources that need keys."""
    credentials = credentials or Credentials()
    kind = SourceType(config.type)
    if kind == SourceType.SYNTHETIC:
        from .synthetic import SyntheticSource

        return SyntheticSource(config.seed)
    if kind == SourceType.FILE:
        from .file import FileSource

        if not config.uri:
            raise SourceError("file: source.uri is required")
        return FileSource(config.uri)
    if kind == SourceType.YAHOO:
        from .yahoo import YahooSource

        return YahooSource()
    if kind == SourceType.ALPACA:
        from .alpaca import AlpacaSource

        return AlpacaSource(credentials, feed=config.feed, url=config.uri)
    if kind == SourceType.CCXT:
        from .ccxt import CcxtSource

        if not config.exchange:
            raise SourceError("ccxt: source.exchange is required")
        return CcxtSource(config.exchange, credentials, url=config.uri)
    raise SourceError(f"no source of type {config.type!r}")  # pragma: no cover - enum is closed
