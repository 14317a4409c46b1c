"""Fixtures of the data-source tests: the fake market-data services and Redis."""

from kubetrade_testing.market_data import alpaca, binance, yahoo, yahoo_server
from kubetrade_testing.redis import redis_server, redis_url

__all__ = ["alpaca", "binance", "redis_server", "redis_url", "yahoo", "yahoo_server"]
