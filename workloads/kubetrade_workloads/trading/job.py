"""`python -m kubetrade_workloads trade`: hold the Lease, then trade bar by bar until stopped.

Between bars the loop applies live spec edits (risk limits, suspend) and
the operator's picks (a new champion swapped in, a challenger to shadow), checks
the Lease and beats the heartbeat; on a bar the trader decides and the
snapshot fans out to metrics, Redis and the TradingSession status. SIGTERM
(the Deployment rolling over) ends the loop after the bar in hand, stores
what is pending and releases the Lease, so the successor starts at once.
Exit codes: 0 stopped cleanly, 1 crashed (the pod restarts and redoes the
bar), 2 cannot trade (refused credentials, a bad model: restarting won't help
until the spec or Secret changes), 3 the Lease was lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .. import owner_status
from ..config.jobs import TradeJob
from ..config.trading import DriftConfig, Severity
from ..monitoring.monitor import DriftMonitor, model_references
from ..risk.events import RiskEvent, RiskEventKind
from .alerts import Alert, Alerter, from_config, from_risk_event
from .assemble import Assembly, Options, build, named, promote, shadow
from .brokers import AuthenticationFailed, BrokerError
from .cache import REDIS_URL_ENV, RedisCache
from .feeds.replay import ReplayError
from .lease import LEASE_ENV, KubeLease, LeaseGuard, NoLease
from .metrics import METRICS_PORT_ENV, TraderMetrics
from .model import ModelError
from .orders import LeaseLost
from .publish import Publisher, Sink, status_sink
from .snapshot import Snapshot
from .spec_watch import ModelChange, SpecChange, SpecWatcher
from .trader import ModelInUse

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
IDLE_WAIT = 0.25
SUMMARY_EVERY = 3600.0
"""Wall-clock seconds between daily summaries at least: a fast replay's days are not mail."""


@dataclass
class Runtime:
    """Options of a run besides the assembly's (tests, benchmarks, the local CLI)."""

    options: Options = field(default_factory=Options)
    stop: threading.Event = field(default_factory=threading.Event)
    lease: LeaseGuard | None = None
    alerter: Alerter | None = None
    metrics: TraderMetrics | None = None
    watch_spec: bool | None = None
    """Follow the owner's spec (default: whenever the owner is a real resource)."""
    watcher: SpecWatcher | None = None
    """A spec watcher of the caller's (tests feed it changes); started and stopped here."""
    max_bars: int | None = None
    status_every: float = 2.0


@dataclass
class Outcome:
    """How a run ended."""

    code: int
    reason: str
    bars: int = 0
    snapshot: Snapshot | None = None


def _local(job: TradeJob) -> bool:
    return job.owner.api_version == "local"


def _lease(job: TradeJob) -> LeaseGuard:
    if not job.lease or _local(job):
        return NoLease()
    name = os.environ.get(LEASE_ENV) or f"{job.owner.name}-trader"
    return KubeLease(name, job.owner.namespace)


def _watcher(job: TradeJob, rt: Runtime) -> SpecWatcher | None:
    watch = rt.watch_spec if rt.watch_spec is not None else not _local(job)
    if rt.watcher is not None or not watch:
        return rt.watcher
    return SpecWatcher(job.owner, job.trading.risk, champion=job.model_uri)


def _cannot_trade(job: TradeJob, alerter: Alerter, reason: str) -> None:
    # Not a risk state: the trader never started trading (refused keys, a bad model).
    alerter(Alert(Severity.CRITICAL, "the trader cannot trade", reason, job.session_id))
    owner_status.report(job.owner, {"trading": {"error": reason}})


def run(job: TradeJob, runtime: Runtime | None = None) -> Outcome:
    """Trade `job` until stopped; the Outcome says how it ended."""
    rt = runtime or Runtime()
    alerter = rt.alerter or from_config(job.trading.alerts)
    metrics = rt.metrics or TraderMetrics()
    lease = rt.lease or _lease(job)
    port = int(os.environ.get(METRICS_PORT_ENV) or job.metrics_port)
    if rt.metrics is None:
        metrics.serve(port)
    try:
        if not lease.acquire(rt.stop):
            return Outcome(0, "stopped before the Lease was held")
        options = dataclasses.replace(rt.options, may_trade=lambda: lease.held)
        watcher = _watcher(job, rt)
        pick = watcher.read_champion() if watcher is not None else None
        if pick is not None:  # the operator's champion, wherever the config points
            job = job.model_copy(update={"model_uri": pick.artifact_uri})
        try:
            assembly = build(job, options)
        except (AuthenticationFailed, ModelError, ReplayError) as err:
            _cannot_trade(job, alerter, str(err))
            return Outcome(2, str(err))
        if pick is not None:
            assembly.trader.model = ModelInUse(pick.artifact_uri, pick.version)
            if watcher is not None and watcher.carried is not None:
                assembly.trader.model.bars, assembly.trader.model.since = watcher.carried
        return _Loop(job, rt, assembly, alerter, metrics, lease, watcher).run()
    finally:
        lease.release()
        alerter.close()


class _Loop:
    def __init__(
        self,
        job: TradeJob,
        rt: Runtime,
        assembly: Assembly,
        alerter: Alerter,
        metrics: TraderMetrics,
        lease: LeaseGuard,
        watcher: SpecWatcher | None,
    ) -> None:
        self.job, self.rt, self.a = job, rt, assembly
        self.alerter, self.metrics, self.lease = alerter, metrics, lease
        self.trader = assembly.trader
        if self.trader.p.monitor is None:
            self.trader.p.monitor = drift_monitor(job, self.trader.p.strategy)
        sinks: list[Sink] = [metrics.snapshot]
        redis_url = os.environ.get(REDIS_URL_ENV)
        self.cache = RedisCache(redis_url, job.session_id) if redis_url else None
        if self.cache is not None:
            sinks.append(self.cache)
        self.publisher = Publisher(
            sinks,
            status=None if _local(job) else status_sink(job.owner),
            status_every=rt.status_every,
        )
        self.watcher = watcher
        self.last_summary = -SUMMARY_EVERY
        self.trader.on_events = self._events
        self.trader.on_new_day = self._daily_summary

    def run(self) -> Outcome:
        bars = 0
        try:
            self._start()
            code, reason, bars = self._trade()
        except LeaseLost as err:
            code, reason = 3, str(err)
        except (AuthenticationFailed, BrokerError) as err:
            self.alerter(Alert(Severity.CRITICAL, "venue error", str(err), self.job.session_id))
            code, reason = 1, str(err)
        except Exception as err:
            self.alerter(
                Alert(
                    Severity.CRITICAL,
                    "trader crashed",
                    f"{type(err).__name__}: {err}",
                    self.job.session_id,
                )
            )
            raise
        finally:
            self._close()
        return Outcome(code, reason, bars, self.trader.snapshot())

    def _start(self) -> None:
        job, store = self.job, self.a.store
        now = dt.datetime.now(dt.UTC)
        store.add_config_change(
            job.session_id, "start", "trader started", None, job.trading.to_wire(), now
        )
        self.a.resume()
        if self.trader.reconciled is False:
            self.alerter(
                Alert(
                    Severity.CRITICAL,
                    "reconciliation failed",
                    self.trader.reconcile_message,
                    job.session_id,
                )
            )
        self.publisher.offer(self.trader.snapshot())
        if self.watcher is not None:
            self.watcher.start()

    def _trade(self) -> tuple[int, str, int]:
        bars, beat = 0, time.monotonic()
        while not self.rt.stop.is_set():
            if not self.lease.held:
                self.alerter(
                    Alert(
                        Severity.CRITICAL,
                        "lease lost",
                        "another trader may hold the session",
                        self.job.session_id,
                    )
                )
                return 3, "the Lease was lost", bars
            self._apply_spec_changes()
            bar = self.a.feed.next(IDLE_WAIT)
            if bar is None:
                if self.a.feed.exhausted:
                    return 0, "the feed has no more bars", bars
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    beat = time.monotonic()
                    self.publisher.offer(self.trader.snapshot())
                continue
            decision = self.trader.on_bar(bar)
            self.metrics.decision(decision.latency, decision.refused)
            self.metrics.router(self.trader.p.router.counts)
            self.publisher.offer(self.trader.snapshot())
            beat = time.monotonic()
            bars += 1
            if self.rt.max_bars is not None and bars >= self.rt.max_bars:
                return 0, f"stopped after {bars} bars", bars
        return 0, "stopped", bars

    def _apply_spec_changes(self) -> None:
        if self.watcher is None:
            return
        while not self.watcher.changes.empty():
            self._apply(self.watcher.changes.get_nowait())

    def _apply(self, change: SpecChange) -> None:
        risk, session = self.trader.p.risk, self.job.session_id
        now = dt.datetime.now(dt.UTC)
        if change.error:
            self.alerter(Alert(Severity.WARNING, "risk edit ignored", change.error, session))
        if change.risk is not None:
            before = risk.config.to_wire()
            risk.update_config(change.risk)
            events = self.trader.flush_events()  # raised between bars
            detail = "; ".join(e.detail for e in events if e.kind == RiskEventKind.CONFIG_CHANGED)
            self.a.store.add_config_change(
                session,
                "spec.risk",
                detail or "no effective change",
                before,
                change.risk.to_wire(),
                now,
            )
            log.info("risk limits updated: %s", detail or "no effective change")
        if change.suspend:
            log.info("spec.suspend is true: flattening every position")
            self.a.store.add_config_change(
                session, "spec.suspend", "flatten and stop", None, {"suspend": True}, now
            )
            self.trader.flatten_now()
        elif change.suspend is False:
            self.trader.flattening = False
            self.trader.flat = None
        if change.model is not None:
            self._follow(change.model)
        self.publisher.offer(self.trader.snapshot())

    def _follow(self, change: ModelChange) -> None:
        """A new champion (swapped in now, between bars) or challenger (shadowing from
        the next bar): the operator's pick, loaded on the watcher's thread."""
        if change.challenger:
            self._challenge(change)
            return
        pick, session = change.pick, self.job.session_id
        assert pick is not None  # noqa: S101 - a champion change always names one
        try:
            detail = promote(self.a, change.loaded, pick, change.error)
        except ModelError as err:
            log.warning("%s", err)
            self.alerter(Alert(Severity.WARNING, "model swap refused", str(err), session))
            self.trader.model.refused = (pick.artifact_uri, str(err))
            return
        monitor = self.trader.p.monitor
        if monitor is not None:  # watch the new model against its own references
            monitor.reset(*model_references(self.trader.p.strategy, pick.artifact_uri))
        log.info("%s", detail)
        self.alerter(Alert(Severity.INFO, "model swapped", detail, session))

    def _challenge(self, change: ModelChange) -> None:
        old = self.trader.shadow
        if change.pick is None:
            self.trader.shadow = None
            if old is not None:
                log.info("challenger %s withdrawn after %d bars", named(old.pick), old.bars)
            return
        self.trader.shadow = shadow(self.job, self.a, change.pick, change.loaded, change.error)
        error = self.trader.shadow.error
        log.info(
            "challenger %s %s",
            named(change.pick),
            f"cannot shadow: {error}" if error else "shadows from the next bar",
        )

    def _events(self, events: list[RiskEvent]) -> None:
        for event in events:
            alert = from_risk_event(event, self.job.session_id)
            if alert is not None:
                self.alerter(alert)

    def _daily_summary(self, day: dt.date, snap: Snapshot) -> None:
        if not self.job.trading.alerts.daily_summary:
            return
        if time.monotonic() - self.last_summary < SUMMARY_EVERY:
            return
        self.last_summary = time.monotonic()
        fields = {
            "equity": f"{snap.equity:,.2f}",
            "day PnL": f"{snap.day_pnl:,.2f}",
            "total PnL": f"{snap.total_pnl:,.2f}",
            "drawdown": f"{snap.drawdown:.2%}",
            "orders": str(snap.orders_today),
            "state": snap.trading_state,
        }
        text = f"{day.isoformat()}: equity {snap.equity:,.2f}, day PnL {snap.day_pnl:,.2f}"
        summary = Alert(Severity.INFO, "daily summary", text, self.job.session_id, fields)
        self.alerter(summary, always=True)  # asked for by dailySummary, whatever minSeverity

    def _close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        try:
            if self.trader.p.monitor is not None:
                self.trader.p.monitor.refresh()  # its last report may be a second old
            self.publisher.offer(self.trader.snapshot())
        except Exception as err:  # noqa: BLE001 - closing must go on
            log.warning("final snapshot failed: %s", err)
        self.publisher.close()
        if self.cache is not None:
            self.cache.close()
        self.a.close()


def drift_monitor(job: TradeJob, strategy: object) -> DriftMonitor:
    """The drift monitor of the model the job trades, with the session's window."""
    window = (job.trading.drift or DriftConfig()).window
    return DriftMonitor(*model_references(strategy, job.model_uri), window=window)


def install_sigterm(stop: threading.Event) -> None:
    """SIGTERM and SIGINT end the loop after the bar in hand."""

    def handler(signum: int, frame: Any) -> None:
        log.info("signal %d: stopping after this bar", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
