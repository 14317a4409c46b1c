"""The operator as the benchmark runs it: ``python -m kubetrade_operator --standalone``
in a subprocess, the way a Deployment runs it, not kopf's in-process test runner."""

from __future__ import annotations

import collections
import io
import pstats
import re
import sys
from pathlib import Path

from kubetrade_dev import processes
from kubetrade_dev.controlplane import ControlPlane
from kubetrade_dev.processes import Component

# A kopf log record at WARNING or above: "[time] logger [LEVEL] [ns/name] message".
# A failed handler is logged at ERROR with its traceback on the following lines.
TROUBLE = re.compile(
    r"^\[[^]]+\]\s+\S+\s+\[(?:WARNING|ERROR|CRITICAL)\s*\]\s+(?:\[[^]]*\]\s+)?(?P<msg>.*)$"
)

QUOTED = re.compile(r'"[^"]*"')

# `python -m cProfile` times functions by the wall clock, which on a busy machine
# bills a function for the time the process waited for a core; this counts CPU
# time instead. kopf stops gracefully on SIGTERM, so the stats get written.
PROFILED_MAIN = """
import cProfile, runpy, sys, time
out = sys.argv.pop(1)
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(runpy.run_module, "kubetrade_operator", run_name="__main__", alter_sys=True)
finally:
    profile.dump_stats(out)
"""


class OperatorProcess:
    """One operator process against the benchmark's control plane."""

    def __init__(
        self, cp: ControlPlane, log: Path, max_workers: int, profile: Path | None = None
    ) -> None:
        """``profile``: run under cProfile and write its stats there on exit."""
        self.cp = cp
        self.log = log
        self.max_workers = max_workers
        self.profile = profile
        self.component: Component | None = None

    @property
    def pid(self) -> int:
        """The operator's pid; only while it runs."""
        if self.component is None:
            raise RuntimeError("operator not started")
        return self.component.pid

    def env(self) -> dict[str, str]:
        """The environment the operator gets: this cluster, no metrics endpoint
        (nothing scrapes it, and a fixed port could clash), the worker limit."""
        env = self.cp.env()
        env.pop("KUBETRADE_NAMESPACE", None)  # every benchmark namespace is watched
        env.update(
            {
                "KUBETRADE_METRICS_PORT": "0",
                "KUBETRADE_MAX_WORKERS": str(self.max_workers),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def start(self) -> None:
        """Start the process; readiness is shown by its first Job (the warm-up)."""
        argv = [sys.executable, "-m", "kubetrade_operator", "--standalone"]
        if self.profile is not None:
            argv = [sys.executable, "-c", PROFILED_MAIN, str(self.profile), "--standalone"]
        # die_with_parent: a benchmark killed hard must not leave an operator behind.
        self.component = processes.spawn(
            "kubetrade-operator", argv, self.log, env=self.env(), die_with_parent=True
        )

    def check_alive(self) -> None:
        """Raise with the log's tail if the operator has exited."""
        if self.component is None:
            return
        code = self.component.exit_code()
        if code is not None:
            tail = processes.log_tail(self.log)
            raise RuntimeError(f"the operator exited with code {code}:\n{tail}")

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL after 15 s)."""
        if self.component is not None:
            processes.terminate([self.component], timeout=15.0)
            self.component = None

    def trouble(self) -> dict[str, int]:
        """Warnings and errors in the log, counted by message with the object's
        name left out, so a thousand timeouts read as one line."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return {}
        counts: dict[str, int] = collections.Counter()
        for line in lines:
            match = TROUBLE.match(line)
            if match:
                # One line per kind of trouble: the names of objects vary.
                counts[QUOTED.sub('"…"', match.group("msg"))[:200]] += 1
        return dict(sorted(counts.items(), key=lambda kv: kv[1], reverse=True))


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own CPU time summed per installed package (stdlib modules by file name),
    largest first: which layer of the stack the operator's CPU goes to."""
    totals: dict[str, float] = collections.defaultdict(float)
    # pstats keeps its table in an undocumented attribute; it has been stable for decades.
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, func), (_, _, own, _, _) in table.items():
        match = re.search(r"site-packages/([^/]+)", filename)
        if match:
            key = match.group(1)
        elif "kubetrade_" in filename:
            key = "kubetrade (our code)"
        elif filename == "~":  # C functions: name them, e.g. <method 'send' ...>
            key = func
        else:
            key = f"stdlib {Path(filename).name}"
        totals[key] += own
    return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)


def profile_summary(path: Path, limit: int = 30) -> str:
    """Where the operator's CPU went, from a cProfile stats file: per package,
    then the functions with the most own and cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    packages = by_package(stats)
    total = sum(t for _, t in packages) or 1.0
    out.write(f"--- own CPU time by package (total {total:.1f} s) ---\n")
    for key, own in packages[:limit]:
        out.write(f"{own:9.2f} s {own / total:6.1%}  {key}\n")
    stats.strip_dirs()
    for key in ("tottime", "cumulative"):
        out.write(f"--- top {limit} functions by {key} ---\n")
        stats.sort_stats(key).print_stats(limit)
    return out.getvalue()
