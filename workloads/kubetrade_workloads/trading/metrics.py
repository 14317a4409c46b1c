"""The trader's Prometheus metrics, on their own registry and port.

Gauges follow the snapshot (equity, cash, PnL, drawdown, VaR, state); counters
follow the order router (orders sent, rejected by the venue, refused by the
risk manager, fills); the decision-latency histogram times bar arrival to the
last order acknowledgement, the figure the benchmark reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ..risk.events import TradingState
from .orders import Counts
from .snapshot import Snapshot

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
METRICS_PORT_ENV = "KUBETRADE_METRICS_PORT"


@dataclass
class TraderMetrics:
    """Metrics of one trader process."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.equity = Gauge("kubetrade_trader_equity", "Equity at the last bar", registry=r)
        self.cash = Gauge("kubetrade_trader_cash", "Cash", registry=r)
        self.total_pnl = Gauge("kubetrade_trader_pnl_total", "PnL since the start", registry=r)
        self.day_pnl = Gauge("kubetrade_trader_pnl_day", "PnL since the day began", registry=r)
        self.drawdown = Gauge("kubetrade_trader_drawdown", "Drawdown from peak equity", registry=r)
        self.var = Gauge("kubetrade_trader_var", "One-day VaR as a fraction of equity", registry=r)
        self.positions = Gauge("kubetrade_trader_positions", "Open positions", registry=r)
        self.state = Gauge(
            "kubetrade_trader_state", "1 for the current trading state", ["state"], registry=r
        )
        self.heartbeat = Gauge(
            "kubetrade_trader_heartbeat_seconds", "Unix time of the last loop", registry=r
        )
        self.orders = Counter(
            "kubetrade_trader_orders", "Orders by outcome", ["outcome"], registry=r
        )
        self.fills = Counter("kubetrade_trader_fills", "Fills booked", registry=r)
        self.drift_psi = Gauge(
            "kubetrade_trader_drift_psi_max",
            "The worst feature PSI against the model's training split",
            registry=r,
        )
        self.decay_p = Gauge(
            "kubetrade_trader_decay_p_value",
            "One-sided p-value that live returns fall short of the backtest's",
            registry=r,
        )
        self.shadow_diff = Gauge(
            "kubetrade_trader_shadow_sharpe_diff",
            "The challenger's annualised Sharpe minus the live model's, on the same bars",
            registry=r,
        )
        self.latency = Histogram(
            "kubetrade_trader_decision_latency_seconds",
            "Bar arrival to the last order acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._seen = Counts()

    def serve(self, port: int) -> None:
        """Expose /metrics on `port` (0: not at all)."""
        if port:
            start_http_server(port, registry=self.registry)

    def snapshot(self, snap: Snapshot) -> None:
        """Follow a snapshot."""
        self.equity.set(snap.equity)
        self.cash.set(snap.cash)
        self.total_pnl.set(snap.total_pnl)
        self.day_pnl.set(snap.day_pnl)
        self.drawdown.set(snap.drawdown)
        if snap.var is not None:
            self.var.set(snap.var)
        self.positions.set(len(snap.positions))
        for state in TradingState:
            self.state.labels(state.value).set(1.0 if state.value == snap.trading_state else 0.0)
        self.heartbeat.set(snap.heartbeat.timestamp())
        # NaN when there is no figure: a gauge left at its last value would show an
        # old model's drift or a withdrawn challenger's edge as current.
        drift = snap.drift or {}
        self.drift_psi.set(_number(drift.get("maxPsi")))
        self.decay_p.set(_number((drift.get("decay") or {}).get("pValue")))
        self.shadow_diff.set(_number((snap.shadow or {}).get("sharpeDiff")))

    def decision(self, latency: float, refused: int) -> None:
        """Time one bar's decision; count the orders the risk manager refused."""
        self.latency.observe(latency)
        if refused:
            self.orders.labels("refused").inc(refused)

    def router(self, counts: Counts) -> None:
        """Count what the router did since the last call."""
        for outcome, now, before in (
            ("sent", counts.acknowledged, self._seen.acknowledged),
            ("rejected", counts.rejected, self._seen.rejected),
            ("retried", counts.retries, self._seen.retries),
        ):
            if now > before:
                self.orders.labels(outcome).inc(now - before)
        if counts.fills > self._seen.fills:
            self.fills.inc(counts.fills - self._seen.fills)
        self._seen = Counts(
            acknowledged=counts.acknowledged,
            rejected=counts.rejected,
            retries=counts.retries,
            fills=counts.fills,
        )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan
