"""`make demo` waits here until the main job has run end to end.

Dataset built -> TrainingRun trained -> Model evaluated and Ready -> TradingSession
trading (Running, its trader reporting equity, a heartbeat and a first decision).
A line is printed whenever the chain moves; the end is a short summary, or the
first resource that did not get there with its phase, conditions and (for a
Model) its gates.

`python -m kubetrade_dev.demo_watch -n NS --dataset D --training-run R --model M
--session S [--timeout SECONDS]` reads the resources with `kubectl` (the
demo's PATH and KUBECONFIG) and exits 0 once the session trades, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RESOURCES = ",".join(
    f"{plural}.kubetrade.io" for plural in ("datasets", "trainingruns", "models", "tradingsessions")
)
# A trader that reports an error restarts and clears it once it trades: only an
# error that lasts this long ends the wait early.
SESSION_FAILED_GRACE_SECONDS = 60.0

Objects = Mapping[tuple[str, str], Mapping[str, Any]]


@dataclass(frozen=True)
class Chain:
    """The names of the demo's four resources, in the order they run."""

    dataset: str
    training_run: str
    model: str
    session: str

    def stages(self) -> list[tuple[str, str]]:
        return [
            ("Dataset", self.dataset),
            ("TrainingRun", self.training_run),
            ("Model", self.model),
            ("TradingSession", self.session),
        ]


@dataclass(frozen=True)
class Verdict:
    """Where the chain stands: `done`, or `failed` (why it cannot get there), and one line."""

    done: bool
    failed: str | None
    progress: str
    session_failed: bool = False


# The phase each kind must reach, and the phases it never leaves by itself.
GOALS = {"Dataset": "Succeeded", "TrainingRun": "Succeeded", "Model": "Ready"}
DEAD_ENDS = {"Dataset": {"Failed"}, "TrainingRun": {"Failed"}, "Model": {"Rejected", "Failed"}}


def _status(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (obj or {}).get("status") or {}


def trading(session: Mapping[str, Any] | None) -> bool:
    """Running, and its trader has reported equity, a heartbeat and a decision on a bar."""
    status = _status(session)
    report = status.get("trading") or {}
    return (
        status.get("phase") == "Running"
        and report.get("equity") is not None
        and bool(report.get("heartbeat"))
        and bool(report.get("lastDecision"))
    )


def _phase(kind: str, obj: Mapping[str, Any] | None) -> str:
    if obj is None:
        return "absent"
    status = _status(obj)
    phase = str(status.get("phase") or "no status yet")
    percent = (status.get("progress") or {}).get("percent")
    if kind == "TrainingRun" and phase == "Running" and percent is not None:
        return f"{phase} {int(float(percent)) // 10 * 10}%"  # a line per tenth, not per report
    if kind == "TradingSession" and trading(obj):
        return f"{phase}, trading"
    return phase


def conditions(obj: Mapping[str, Any] | None) -> str:
    """Each condition as `Type=Status (Reason) message`, one per line."""
    rows = _status(obj).get("conditions") or []
    return "\n".join(
        f"    {c.get('type')}={c.get('status')} ({c.get('reason', '')}) {c.get('message', '')}"
        for c in rows
    )


def gates(model: Mapping[str, Any] | None) -> str:
    """The Model's gates as it judged them, one per line."""
    rows = _status(model).get("gates") or []
    return "\n".join(
        f"    {g.get('name')}: {'passed' if g.get('passed') else 'FAILED'}, {g.get('message', '')}"
        for g in rows
    )


def describe(kind: str, name: str, obj: Mapping[str, Any] | None) -> str:
    """What a stuck resource shows: its phase, conditions and (a Model's) gates."""
    if obj is None:
        return f"{kind} {name} does not exist"
    text = f"{kind} {name} is {_phase(kind, obj)}"
    for title, rows in (("conditions", conditions(obj)), ("gates", gates(obj))):
        if rows:
            text += f"\n  {title}:\n{rows}"
    return text


def judge(objects: Objects, chain: Chain) -> Verdict:
    """The chain's state from the objects read (keyed by kind and name)."""
    line = " | ".join(
        f"{kind} {_phase(kind, objects.get((kind, name)))}" for kind, name in chain.stages()
    )
    for kind, name in chain.stages()[:-1]:
        obj = objects.get((kind, name))
        if _status(obj).get("phase") in DEAD_ENDS[kind]:
            return Verdict(False, describe(kind, name, obj), line)
    session = objects.get(("TradingSession", chain.session))
    failed = _status(session).get("phase") == "Failed"
    return Verdict(trading(session), None, line, session_failed=failed)


def stuck(objects: Objects, chain: Chain) -> str:
    """The first resource of the chain short of its goal, described."""
    for kind, name in chain.stages()[:-1]:
        obj = objects.get((kind, name))
        if _status(obj).get("phase") != GOALS[kind]:
            return describe(kind, name, obj)
    return describe("TradingSession", chain.session, objects.get(("TradingSession", chain.session)))


def _count(value: Any) -> str:
    return f"{int(value)}" if isinstance(value, int | float) else "?"


def _number(value: Any) -> str:
    return f"{float(value):.2f}" if isinstance(value, int | float) else "?"


def _money(value: Any) -> str:
    return f"{float(value):,.2f}" if isinstance(value, int | float) else "?"


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "?"


def _loss(value: Any) -> str:
    """A drawdown, reported negative, as the positive loss it is."""
    return _pct(abs(value)) if isinstance(value, int | float) else "?"


def summary(objects: Objects, chain: Chain) -> str:
    """What the demo made: the Model's version, figures and gates, the session's equity."""
    ds = _status(objects.get(("Dataset", chain.dataset)))
    run = _status(objects.get(("TrainingRun", chain.training_run)))
    model_obj = objects.get(("Model", chain.model))
    model = _status(model_obj)
    session = _status(objects.get(("TradingSession", chain.session)))
    m, b = model.get("metrics") or {}, model.get("benchmarkMetrics") or {}
    report = session.get("trading") or {}
    traded = report.get("model") or {}
    steps = (run.get("metrics") or {}).get("steps")
    return "\n".join(
        [
            f"  Dataset {chain.dataset}: {ds.get('phase')}, {ds.get('rows')} rows of "
            f"{', '.join(ds.get('symbols') or [])}",
            f"  TrainingRun {chain.training_run}: {run.get('phase')}"
            + (f", {int(steps)} steps" if isinstance(steps, int | float) else ""),
            f"  Model {chain.model} v{model.get('readyVersion', '?')}: {model.get('phase')}, "
            f"over {_count(m.get('bars'))} test bars Sharpe {_number(m.get('sharpe'))}"
            + f", max drawdown {_loss(m.get('maxDrawdown'))}, return {_pct(m.get('totalReturn'))}"
            f" (buy and hold {_pct(b.get('totalReturn'))})",
            f"  gates:\n{gates(model_obj)}",
            f"  TradingSession {chain.session}: {session.get('phase')}, equity "
            f"{_money(report.get('equity'))}, {len(report.get('positions') or [])} positions, "
            f"{report.get('ordersToday', 0)} orders today, model v{traded.get('version', '?')}, "
            f"heartbeat {report.get('heartbeat')}",
            f"    last decision {report.get('lastDecision')}",
        ]
    )


def read(namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The namespace's kubetrade resources by (kind, name), read with kubectl."""
    out = subprocess.run(
        ["kubectl", "get", RESOURCES, "-n", namespace, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    items = json.loads(out).get("items") or []
    return {(i["kind"], i["metadata"]["name"]): i for i in items}


def watch(
    chain: Chain,
    fetch: Callable[[], Objects],
    timeout: float,
    interval: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = print,
) -> tuple[bool, Objects]:
    """Poll until the session trades (True), a resource fails, or `timeout` passes."""
    start, last, failing_since = clock(), "", None
    objects: Objects = {}
    while True:
        elapsed = clock() - start
        try:
            objects = fetch()
            verdict = judge(objects, chain)
            line = verdict.progress
        except (subprocess.SubprocessError, OSError, ValueError) as err:
            verdict = judge(objects, chain)  # the last objects read
            why = (getattr(err, "stderr", None) or str(err)).strip().splitlines() or ["?"]
            line = f"cannot read the resources: {why[-1]}"
        if line != last:
            say(f"[{elapsed:4.0f}s] {line}")
            last = line
        if verdict.done:
            return True, objects
        if verdict.failed:
            say(f"error: {verdict.failed}")
            return False, objects
        if not verdict.session_failed:
            failing_since = None
        elif failing_since is None:
            failing_since = elapsed
        if failing_since is not None and elapsed - failing_since >= SESSION_FAILED_GRACE_SECONDS:
            say(f"error: the trader keeps failing: {stuck(objects, chain)}")
            return False, objects
        if elapsed >= timeout:
            say(f"error: not trading after {timeout:.0f}s: {stuck(objects, chain)}")
            return False, objects
        sleep(interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--namespace", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--training-run", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--session", required=True)
    parser.add_argument("--timeout", type=float, default=360.0, help="seconds (default 360)")
    args = parser.parse_args(argv)
    chain = Chain(args.dataset, args.training_run, args.model, args.session)
    say = functools.partial(print, flush=True)  # progress must show as it comes, even piped
    ok, objects = watch(chain, lambda: read(args.namespace), args.timeout, say=say)
    if ok:
        print(summary(objects, chain))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
