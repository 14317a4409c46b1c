"""Market data for the trader: synthetic (the default), Dataset replay, Alpaca, ccxt."""

from __future__ import annotations

import logging

from ...config.jobs import TradeJob
from ...config.trading import FeedType
from ...data.sources.credentials import Credentials
from ...market.ports import Clock
from .base import Bar, BarBuffer, LiveFeed
from .paced import PacedFeed
from .polling import STEP, PollingFeed

log = logging.getLogger(__name__)
DEFAULT_BAR_SECONDS = 1.0
"""Beat of the synthetic and replay feeds when `barSeconds` is unset."""

__all__ = ["STEP", "Bar", "BarBuffer", "LiveFeed", "PacedFeed", "PollingFeed", "open_feed"]


def open_feed(
    job: TradeJob,
    symbols: tuple[str, ...],
    credentials: Credentials,
    *,
    clock: Clock | None = None,
) -> LiveFeed:
    """The feed `job.trading.feed` names, over `symbols`."""
    config = job.trading
    kind = FeedType(config.feed)
    interval = str(config.interval)
    pace = config.bar_seconds if config.bar_seconds is not None else DEFAULT_BAR_SECONDS
    if kind == FeedType.SYNTHETIC:
        from .synthetic import synthetic_feed

        return synthetic_feed(symbols, interval, pace)
    if kind == FeedType.REPLAY:
        from .replay import ReplayError, replay_feed

        if not job.dataset_uri:
            raise ReplayError("feed replay needs the Model's dataset (datasetUri)")
        return replay_feed(job.dataset_uri, job.replay_split, symbols, pace)
    # Live bars: poll a few times per bar, at least every minute.
    poll = min(max(STEP[interval].total_seconds() / 6, 1.0), 60.0)
    if kind == FeedType.ALPACA:
        from ...data.sources.alpaca import AlpacaSource

        return PollingFeed(
            AlpacaSource(credentials, url=config.feed_url),
            symbols,
            interval,
            clock=clock,
            poll_seconds=poll,
        )
    from ...data.sources.ccxt import CcxtSource
    from ...data.sources.retry import Retry

    exchange = config.broker.exchange or "binance"
    # A poll that fails is retried on the next beat: no long backoff inside the loop.
    quick = Retry(attempts=2, base_delay=0.5, max_delay=2.0)
    return PollingFeed(
        CcxtSource(exchange, credentials, url=config.feed_url, policy=quick),
        symbols,
        interval,
        clock=clock,
        poll_seconds=poll,
    )
