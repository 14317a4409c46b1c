"""`make demo` runs the main job end to end: examples/ that can pass their own gates,
and a wait (kubetrade_dev.demo_watch) that ends trading, or naming what got stuck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from kubetrade_dev.demo_watch import Chain, Objects, judge, watch
from kubetrade_operator.api import TrainingRunSpec
from kubetrade_workloads.config.data import DataConfig
from kubetrade_workloads.data import pipeline, sources

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
CHAIN = Chain("synthetic-daily", "ppo-synthetic", "ppo-synthetic", "paper-synthetic")


def _example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc


def test_the_example_test_split_is_longer_than_the_gate_asks() -> None:
    spec = _example("dataset.yaml")["spec"]
    config = DataConfig.model_validate({k: v for k, v in spec.items() if k != "job"})
    src = config.source
    bars = sources.get_source(src).fetch(src.symbols, src.interval, src.start, src.end)
    test = pipeline.build(bars, config).splits["test"]
    run = TrainingRunSpec.model_validate(_example("trainingrun.yaml")["spec"])
    assert run.evaluation is not None and run.evaluation.gates.min_test_bars is not None
    bars_tested = test["timestamp"].nunique()
    assert bars_tested >= run.evaluation.gates.min_test_bars + 25, bars_tested
    assert f"test split has {bars_tested}" in (EXAMPLES / "trainingrun.yaml").read_text()


def test_the_examples_chain_by_the_names_the_demo_waits_for() -> None:
    kinds = {d["kind"]: d for p in EXAMPLES.glob("*.yaml") if (d := yaml.safe_load(p.read_text()))}
    run, session = kinds["TrainingRun"]["spec"], kinds["TradingSession"]["spec"]
    assert kinds["Dataset"]["metadata"]["name"] == run["datasetRef"]["name"] == CHAIN.dataset
    assert run["modelName"] == session["modelRef"]["name"] == CHAIN.model
    # The run applies the Model's gates server-side: a Model beside it would be overridden.
    assert "Model" not in kinds
    script = (REPO / "hack" / "demo.sh").read_text()
    for flag, name in (
        ("--dataset", CHAIN.dataset),
        ("--training-run", CHAIN.training_run),
        ("--model", CHAIN.model),
        ("--session", CHAIN.session),
    ):
        assert f"{flag} {name}" in script


def _obj(kind: str, name: str, phase: str | None, **status: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name},
        "status": {"phase": phase, **status} if phase else {},
    }


def _chain(
    model_phase: str = "Ready",
    session_phase: str = "Running",
    trading: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    return [
        _obj("Dataset", "synthetic-daily", "Succeeded", rows=2835, symbols=["SYN-A"]),
        _obj("TrainingRun", "ppo-synthetic", "Succeeded", metrics={"steps": 20480.0}),
        _obj(
            "Model",
            "ppo-synthetic",
            model_phase,
            readyVersion=1,
            metrics={"bars": 137.0, "sharpe": 0.78, "maxDrawdown": -0.07, "totalReturn": 0.045},
            benchmarkMetrics={"totalReturn": 0.12},
            gates=[{"name": "minTestBars", "passed": True, "message": "test window 137 bars"}],
        ),
        _obj("TradingSession", "paper-synthetic", session_phase, trading=trading or {}),
    ]


def _keyed(items: list[dict[str, Any]]) -> Objects:
    return {(i["kind"], i["metadata"]["name"]): i for i in items}


TRADING: dict[str, Any] = {
    "equity": 100012.5,
    "heartbeat": "2026-12-06T16:00:00Z",
    "lastDecision": "2026-12-06T16:00:00Z: 3 orders; targets SYN-A 0.30",
    "ordersToday": 2,
    "model": {"version": 1},
}


def test_the_chain_is_done_only_once_the_trader_reports_equity_and_a_decision() -> None:
    assert judge(_keyed(_chain(trading=TRADING)), CHAIN).done
    started = {**TRADING, "lastDecision": ""}  # up, but no bar decided on yet
    assert not judge(_keyed(_chain(trading=started)), CHAIN).done
    assert not judge(_keyed(_chain(trading={"equity": 100000.0})), CHAIN).done  # no heartbeat
    assert not judge(_keyed(_chain(session_phase="Pending", trading=TRADING)), CHAIN).done
    verdict = judge(_keyed(_chain()[:2]), CHAIN)
    assert not verdict.done and verdict.failed is None
    assert verdict.progress.endswith("Model absent | TradingSession absent")


def test_a_rejected_model_ends_the_wait_with_its_gates() -> None:
    items = _chain(model_phase="Rejected")
    items[2]["status"]["gates"] = [
        {"name": "minTestBars", "passed": False, "message": "test window 99 bars vs minimum 100"}
    ]
    verdict = judge(_keyed(items), CHAIN)
    assert verdict.failed is not None and not verdict.done
    assert verdict.failed.startswith("Model ppo-synthetic is Rejected")
    assert "minTestBars: FAILED, test window 99 bars vs minimum 100" in verdict.failed


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _watch(states: list[list[dict[str, Any]]], timeout: float) -> tuple[bool, list[str]]:
    """`watch` over `states`, one per poll (the last repeats), on a fake clock."""
    clock, said = _Clock(), list[str]()
    polls = iter(states)
    last: list[dict[str, Any]] = []

    def fetch() -> Objects:
        nonlocal last
        last = next(polls, last)
        return _keyed(last)

    ok, _ = watch(CHAIN, fetch, timeout, 3.0, clock, clock.sleep, said.append)
    return ok, said


def test_a_timeout_names_the_first_resource_short_of_its_goal_with_its_conditions() -> None:
    training = _chain()[:2]
    training[1]["status"] = {
        "phase": "Running",
        "progress": {"percent": 47.5},
        "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}],
    }
    ok, said = _watch([training], timeout=30)
    assert not ok
    assert said[0] == "[   0s] Dataset Succeeded | TrainingRun Running 40% | Model absent | " + (
        "TradingSession absent"
    )
    assert len(said) == 2, "a line only when the chain moves"
    assert said[-1].startswith("error: not trading after 30s: TrainingRun ppo-synthetic is Running")
    assert "Succeeded=Unknown (Running)" in said[-1]


def test_a_trader_failing_briefly_is_waited_for_but_not_for_ever() -> None:
    failing = _chain(session_phase="Failed", trading={"error": "cannot load the model"})
    ok, said = _watch([failing, failing, _chain(trading=TRADING)], timeout=300)
    assert ok and said[-1].endswith("TradingSession Running, trading")
    ok, said = _watch([failing], timeout=300)
    assert not ok and said[-1].startswith("error: the trader keeps failing")


def test_the_command_reads_kubectl_and_prints_the_summary(tmp_path: Path) -> None:
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"items": _chain(trading=TRADING)}))
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\ncat {listing}\n')
    kubectl.chmod(0o755)
    args = ["--dataset", "synthetic-daily", "--training-run", "ppo-synthetic"]
    args += ["--model", "ppo-synthetic", "--session", "paper-synthetic"]
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "PYTHONPATH": str(REPO / "hack"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kubetrade_dev.demo_watch", "-n", "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "get datasets.kubetrade.io,trainingruns.kubetrade.io" in (tmp_path / "calls").read_text()
    assert "Model ppo-synthetic v1: Ready, over 137 test bars Sharpe 0.78" in done.stdout
    assert "max drawdown 7.0%, return 4.5% (buy and hold 12.0%)" in done.stdout
    assert "last decision 2026-12-06T16:00:00Z: 3 orders; targets SYN-A 0.30" in done.stdout
    assert "equity 100,012.50, 0 positions, 2 orders today, model v1" in done.stdout


def test_an_unreadable_api_is_said_once_and_waited_out() -> None:
    clock, said = _Clock(), list[str]()
    answers = iter([None, None, _chain(trading=TRADING)])

    def fetch() -> Objects:
        items = next(answers)
        if items is None:
            raise subprocess.CalledProcessError(1, "kubectl", stderr="error: connection refused\n")
        return _keyed(items)

    ok, _ = watch(CHAIN, fetch, 60, 3.0, clock, clock.sleep, said.append)
    assert ok
    assert said[0] == "[   0s] cannot read the resources: error: connection refused"
    assert len(said) == 2 and said[1].startswith("[   6s] Dataset Succeeded")
