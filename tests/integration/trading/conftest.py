"""Fixtures of the trader's integration tests: real Postgres and Redis, the fake venues
and market-data services, and the local control plane for the Lease and live spec edits."""

from kubetrade_testing.cluster import control_plane, kubeconfig, lightkube_client, namespace
from kubetrade_testing.crds import crds
from kubetrade_testing.market_data import alpaca, binance
from kubetrade_testing.postgres import postgres_server, postgres_url
from kubetrade_testing.redis import redis_server, redis_url
from kubetrade_testing.trading import alpaca_trading, binance_trading

__all__ = [
    "alpaca",
    "alpaca_trading",
    "binance",
    "binance_trading",
    "control_plane",
    "crds",
    "kubeconfig",
    "lightkube_client",
    "namespace",
    "postgres_server",
    "postgres_url",
    "redis_server",
    "redis_url",
]
