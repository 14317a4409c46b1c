"""Champion and challenger: the trader follows `status.model` and `status.challenger`
without a restart: a swap lands between bars, a model it cannot trade is refused
(the champion trades on), a challenger shadows on the same bars without orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_testing.trading import Collect, local_runtime, trade_job, trade_store
from kubetrade_workloads.config import TradeJob
from kubetrade_workloads.config.data import FeatureConfig
from kubetrade_workloads.config.trading import Severity
from kubetrade_workloads.data.features.live import LiveFeatures
from kubetrade_workloads.market.history import History
from kubetrade_workloads.strategies import baseline
from kubetrade_workloads.trading.alerts import Alerter
from kubetrade_workloads.trading.assemble import fit
from kubetrade_workloads.trading.feeds import Bar, BarBuffer
from kubetrade_workloads.trading.feeds.base import bars_of
from kubetrade_workloads.trading.job import Runtime, run
from kubetrade_workloads.trading.lease import NoLease
from kubetrade_workloads.trading.metrics import TraderMetrics
from kubetrade_workloads.trading.model import LoadedModel, ModelError, load_model
from kubetrade_workloads.trading.shadow import PaperBook
from kubetrade_workloads.trading.spec_watch import SpecWatcher

HOLD = "baseline:buy-and-hold"
CROSS = "baseline:ma-crossover?fast=3&slow=8"


class AfterBars(TraderMetrics):
    """Metrics that run `then` once the loop has taken `bars` bars: a hook between bars."""

    def __init__(self, bars: int, then: Callable[[], None]) -> None:
        super().__init__()
        self.left, self.then = bars, then

    def decision(self, latency: float, refused: int) -> None:
        super().decision(latency, refused)
        self.left -= 1
        if self.left == 0:
            self.then()


def _status(model: str, version: int, challenger: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": {"artifactUri": model, "version": version, "since": "x"}}
    if challenger is not None:
        out["challenger"] = {"artifactUri": challenger, "version": version + 1, "since": "y"}
    return out


def _runtime(bars: int, watcher: SpecWatcher, **extra: Any) -> Runtime:
    return Runtime(max_bars=bars, lease=NoLease(), watcher=watcher, **extra)


def _job(tmp_path: Path) -> TradeJob:
    return trade_job(tmp_path, symbols=["AAPL", "MSFT"]).model_copy(update={"model_uri": HOLD})


def test_a_new_champion_is_swapped_in_between_bars_without_a_restart(tmp_path: Path) -> None:
    job = _job(tmp_path)
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD)
    channel = Collect()
    metrics = AfterBars(20, lambda: watcher.poll({}, _status(CROSS, 2)))
    alerter = Alerter([channel], min_severity=Severity.INFO)
    out = run(job, _runtime(50, watcher, metrics=metrics, alerter=alerter))
    assert (out.code, out.bars) == (0, 50)  # one run: the same process traded on
    assert out.snapshot is not None
    model = out.snapshot.status()["trading"]["model"]
    assert (model["artifactUri"], model["version"], model["bars"]) == (CROSS, 2, 30)
    with trade_store(tmp_path) as store:
        decisions = store.decisions(job.session_id)
        audit = store.config_changes(job.session_id)
    assert len(decisions) == 50
    # Buy-and-hold's equal weights on every bar before the swap; the crossover's after.
    before, after = decisions[:20], decisions[20:]
    assert all(d["targets"] == {"AAPL": 0.5, "MSFT": 0.5} for d in before)
    assert any(d["targets"] != {"AAPL": 0.5, "MSFT": 0.5} for d in after)
    swap = [a for a in audit if a["source"] == "status.model"]
    assert len(swap) == 1 and "swapped in after 20 bars" in swap[0]["detail"]
    assert swap[0]["before"]["artifactUri"] == HOLD and swap[0]["after"]["version"] == 2
    assert "model swapped" in [a.title for a in channel.alerts]


@pytest.mark.parametrize(
    ("loaded", "why"),
    [
        (LoadedModel(baseline("buy-and-hold"), ("BTC/USDT", "ETH/USDT")), "the model trades"),
        (LoadedModel(baseline("buy-and-hold"), None, ("rsi_14",)), "does not carry"),
    ],
)
def test_a_model_the_session_cannot_trade_is_refused_and_the_champion_stays(
    tmp_path: Path, loaded: LoadedModel, why: str
) -> None:
    job = _job(tmp_path)

    def load(uri: str) -> LoadedModel:
        return loaded if uri == "file:///models/other" else load_model(uri)

    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD, load=load)
    watcher.poll({}, _status("file:///models/other", 5))
    channel = Collect()
    out = run(job, _runtime(10, watcher, alerter=Alerter([channel], min_severity=Severity.INFO)))
    assert out.snapshot is not None
    model = out.snapshot.status()["trading"]["model"]
    assert (model["artifactUri"], model["bars"]) == (HOLD, 10)
    # The operator reads the refusal to stop waiting for a swap that will not come.
    assert model["refused"]["artifactUri"] == "file:///models/other"
    assert why in model["refused"]["reason"]
    refused = next(a for a in channel.alerts if a.title == "model swap refused")
    assert why in refused.text and "trades on" in refused.text
    with trade_store(tmp_path) as store:
        audit = [a for a in store.config_changes(job.session_id) if a["source"] == "status.model"]
        decisions = store.decisions(job.session_id)
    assert len(audit) == 1 and why in audit[0]["after"]["refused"]
    assert all(d["targets"] == {"AAPL": 0.5, "MSFT": 0.5} for d in decisions)


def test_a_model_that_cannot_load_is_refused_too(tmp_path: Path) -> None:
    job = _job(tmp_path)
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD)
    watcher.poll({}, _status("baseline:no-such-strategy", 3))
    out = run(job, _runtime(5, watcher))
    assert out.snapshot is not None
    model = out.snapshot.status()["trading"]["model"]
    assert model["artifactUri"] == HOLD
    assert model["refused"]["artifactUri"] == "baseline:no-such-strategy"


def test_a_challenger_shadows_without_orders_or_side_effects(tmp_path: Path) -> None:
    plain = run(_job(tmp_path / "a"), local_runtime(80, watcher=None))
    job = _job(tmp_path / "b")
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD)
    watcher.poll({}, _status(HOLD, 1, challenger=CROSS))
    shadowed = run(job, _runtime(80, watcher))
    with trade_store(tmp_path / "a") as a, trade_store(tmp_path / "b") as b:
        orders_a = [(o.client_order_id, o.quantity) for o in a.orders(job.session_id)]
        orders_b = [(o.client_order_id, o.quantity) for o in b.orders(job.session_id)]
    assert orders_a == orders_b and orders_a  # the same orders, none from the challenger
    assert plain.snapshot is not None and shadowed.snapshot is not None
    assert shadowed.snapshot.equity == plain.snapshot.equity
    report = shadowed.snapshot.status()["trading"]["shadow"]
    assert report["artifactUri"] == CROSS and report["version"] == 2
    assert report["bars"] == 79  # paired returns: every bar decided, marked at the next close
    assert report["error"] is None and 0.0 <= report["pValue"] <= 1.0
    assert report["sharpeDiff"] == pytest.approx(
        report["sharpe"] - report["championSharpe"], abs=2e-4
    )


def test_a_challenger_equal_to_the_champion_scores_equal(tmp_path: Path) -> None:
    job = _job(tmp_path)
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD)
    watcher.poll({}, _status(HOLD, 1, challenger="baseline:buy-and-hold?"))
    out = run(job, _runtime(40, watcher))
    assert out.snapshot is not None
    report = out.snapshot.status()["trading"]["shadow"]
    assert report["bars"] == 39 and report["sharpeDiff"] == 0.0 and report["pValue"] == 0.5


def test_a_challenger_on_other_symbols_reports_why_and_never_decides(tmp_path: Path) -> None:
    job = _job(tmp_path)

    def load(uri: str) -> LoadedModel:
        if uri == "file:///models/crypto":
            return LoadedModel(baseline("buy-and-hold"), ("BTC/USDT",))
        return load_model(uri)

    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD, load=load)
    watcher.poll({}, _status(HOLD, 1, challenger="file:///models/crypto"))
    out = run(job, _runtime(15, watcher))
    assert out.snapshot is not None
    report = out.snapshot.status()["trading"]["shadow"]
    assert report["bars"] == 0 and "BTC/USDT" in report["error"]
    assert report["pValue"] is None and report["sharpe"] is None


def test_withdrawing_the_challenger_clears_its_report(tmp_path: Path) -> None:
    job = _job(tmp_path)
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD)
    watcher.poll({}, _status(HOLD, 1, challenger=CROSS))
    metrics = AfterBars(10, lambda: watcher.poll({}, _status(HOLD, 1)))
    out = run(job, _runtime(20, watcher, metrics=metrics))
    assert out.snapshot is not None and out.snapshot.status()["trading"]["shadow"] is None


def test_promoting_the_challenger_reuses_it_and_starts_a_fresh_count(tmp_path: Path) -> None:
    job = _job(tmp_path)
    loads: list[str] = []

    def load(uri: str) -> LoadedModel:
        loads.append(uri)
        return load_model(uri)

    watcher = SpecWatcher(job.owner, job.trading.risk, every=0, champion=HOLD, load=load)
    watcher.poll({}, _status(HOLD, 1, challenger=CROSS))
    metrics = AfterBars(25, lambda: watcher.poll({}, _status(CROSS, 2)))
    out = run(job, _runtime(40, watcher, metrics=metrics))
    assert loads == [CROSS]  # loaded once, to shadow; promoted, it was not loaded again
    assert out.snapshot is not None
    status = out.snapshot.status()["trading"]
    assert status["shadow"] is None and status["model"]["bars"] == 15


def test_a_restarted_trader_trades_the_operators_champion(tmp_path: Path) -> None:
    job = _job(tmp_path)

    class Client:
        """The owner as the API server returns it: the operator promoted version 4."""

        def __enter__(self) -> Client:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, *args: object, **kwargs: object) -> dict[str, Any]:
            return {"spec": {}, "status": _status(CROSS, 4)}

    owner = job.owner.model_copy(update={"api_version": "kubetrade.io/v1alpha1"})
    watcher = SpecWatcher(owner, job.trading.risk, every=30, make_client=Client)
    out = run(job, _runtime(12, watcher))  # the job's config still names buy-and-hold
    assert out.snapshot is not None
    model = out.snapshot.status()["trading"]["model"]
    assert (model["artifactUri"], model["version"], model["bars"]) == (CROSS, 4, 12)
    with trade_store(tmp_path) as store:
        decisions = store.decisions(job.session_id)
    assert any(d["targets"] != {"AAPL": 0.5, "MSFT": 0.5} for d in decisions)


def test_a_restart_carries_on_counting_bars_on_the_same_model(tmp_path: Path) -> None:
    """The operator's rollback window counts bars on a model: a restart 300 bars after a
    promotion must not make the promotion look 0 bars old (a later breach would roll back)."""
    job = _job(tmp_path)
    earlier = {"artifactUri": CROSS, "version": 4, "since": "2026-01-02T03:04:05Z", "bars": 300}

    class Client:
        def __enter__(self) -> Client:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, *args: object, **kwargs: object) -> dict[str, Any]:
            return {"spec": {}, "status": _status(CROSS, 4) | {"trading": {"model": earlier}}}

    owner = job.owner.model_copy(update={"api_version": "kubetrade.io/v1alpha1"})
    watcher = SpecWatcher(owner, job.trading.risk, every=30, make_client=Client)
    out = run(job, _runtime(12, watcher))
    assert out.snapshot is not None
    model = out.snapshot.status()["trading"]["model"]
    assert (model["bars"], model["since"]) == (312, "2026-01-02T03:04:05Z")


def test_a_paper_book_earns_its_weights_and_pays_for_turnover() -> None:
    book = PaperBook(2, cost_rate=0.001)
    book.rebalance(np.array([0.5, 0.5]))
    book.mark(np.array([0.02, -0.01]))  # 0.5*2% - 0.5*1% = 0.5%, less 1.0 turnover * 0.1%
    assert book.returns.values() == pytest.approx([0.005 - 0.001])
    drifted = book.weights.copy()
    assert drifted == pytest.approx([0.5 * 1.02 / 1.005, 0.5 * 0.99 / 1.005])
    book.mark(np.array([0.01, 0.01]))  # no rebalance since: nothing recorded
    assert len(book.returns) == 1
    book.rebalance(np.array([1.0, 0.0]))  # turnover from the drifted weights
    book.mark(np.array([0.0, 0.0]))
    turnover = abs(1.0 - drifted[0] * 1.01 / 1.01) + drifted[1] * 1.01 / 1.01
    assert book.returns.values()[-1] == pytest.approx(-turnover * 0.001)


def test_a_model_reading_features_gets_them_made_its_way_from_the_kept_bars() -> None:
    history = History.from_frame(bars(("A", "B"), start="2021-01-04", end="2022-12-30"))
    plain = [Bar(b.time, b.values) for b in (bars_of(history, i, 0.0) for i in range(len(history)))]
    running = BarBuffer(history.symbols, capacity=256)  # a price-only champion's
    running.extend(plain)
    hold = baseline("buy-and-hold")
    assert fit(LoadedModel(hold, None), running, ()) is running  # nothing to make: shared
    maker = LiveFeatures.of(("rsi_14", "ema_50"), FeatureConfig(), None)
    swapped = fit(LoadedModel(hold, ("B", "A"), maker.names, maker), running, ())
    fresh = BarBuffer(history.symbols, capacity=swapped.capacity, features=maker.names, maker=maker)
    fresh.extend(plain[-len(running) :])
    for name in maker.names:  # the same rows a trader started on the model would hold
        np.testing.assert_allclose(
            swapped.window(20).features[name], fresh.window(20).features[name], rtol=1e-9
        )
    assert np.isfinite(swapped.window(20).features["ema_50"]).all()
    running.append(Bar(plain[-1].time + dt.timedelta(days=1), plain[-1].values))
    assert len(swapped) == len(running) - 1  # a copy: the champion's buffer goes on alone
    with pytest.raises(ModelError, match="does not carry"):
        fit(LoadedModel(hold, None, maker.names, None), running, ())
