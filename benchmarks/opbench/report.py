"""Figures of a benchmark run: records, percentiles, targets, and tables that read
the same in a terminal and pasted into Markdown."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from .load import LoadResult
from .probes import MIB, WRITE_VERBS

# The targets.
TARGET_RATIO = 0.5
TARGET_P99_S = 2.0
TARGET_RSS_MIB = 200e6 / MIB  # "200 MB", read as decimal megabytes: the stricter reading
TARGET_N = 1000
# Above this many cores used by processes the benchmark did not start, say so.
SHARED_CORES = 0.3

OPERATOR = "operator"
CEILING_JOB = "ceiling: Job"
CEILING_CHILDREN = "ceiling: ConfigMap+Job"
CEILING_FULL = "ceiling: full write path"
WRITES = {OPERATOR: 4, CEILING_JOB: 1, CEILING_CHILDREN: 2, CEILING_FULL: 4}
"""API writes per item: an operator item is the Dataset, its ConfigMap, its Job and
a status patch (later status patches, when the Job's pod appears, fall after the
item's Job is seen)."""

BENCH = "bench client"
OPERATOR_PROCESS = "kubetrade-operator"
CPU_COLUMNS = (OPERATOR_PROCESS, "kube-apiserver", "etcd", "kube-controller-manager", BENCH)


WRITE_RESOURCES = (
    "datasets",
    "datasets/status",
    "configmaps",
    "jobs",
    "jobs/status",
    "pods",
    "events",
)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation, as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class ScenarioRecord:
    """One workload at one size, as reported and written to JSON."""

    scenario: str
    n: int
    max_workers: int | None
    seen: int
    errors: int
    timed_out: bool
    elapsed_s: float
    submit_s: float
    throughput: float
    latency_p50_s: float
    latency_p99_s: float
    latency_max_s: float
    cpu_cores: dict[str, float]
    cpu_wall_s: float
    machine_cores: float
    operator_rss_peak_mib: float | None
    namespace_delete_s: float | None
    api_requests: dict[str, float] = field(default_factory=dict)
    """Requests the API server served in the window, by ``"VERB resource code"``."""
    first_errors: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        scenario: str,
        result: LoadResult,
        *,
        max_workers: int | None,
        rss_peak: int | None,
        delete_s: float | None,
    ) -> ScenarioRecord:
        """Summarise a load result."""
        lat = result.latencies_s
        return cls(
            scenario=scenario,
            n=result.n,
            max_workers=max_workers,
            seen=result.seen,
            errors=len(result.errors),
            timed_out=result.timed_out,
            elapsed_s=result.elapsed_s,
            submit_s=result.submit_s,
            throughput=result.throughput,
            latency_p50_s=percentile(lat, 0.5),
            latency_p99_s=percentile(lat, 0.99),
            latency_max_s=max(lat, default=float("nan")),
            cpu_cores=result.cpu.cores,
            cpu_wall_s=result.cpu.wall_s,
            machine_cores=result.cpu.machine_cores,
            operator_rss_peak_mib=rss_peak / MIB if rss_peak is not None else None,
            namespace_delete_s=delete_s,
            api_requests=result.api_requests,
            first_errors=result.errors[:5],
        )

    @property
    def others_cores(self) -> float:
        """Cores used by processes the benchmark did not start, over the window."""
        return self.machine_cores - sum(self.cpu_cores.values())

    def cpu_ms_per_item(self, process: str) -> float | None:
        """CPU milliseconds ``process`` spent per item seen, over the window."""
        if process not in self.cpu_cores or not self.seen:
            return None
        return self.cpu_cores[process] * self.cpu_wall_s / self.seen * 1000

    def cpu_bound(self, cores: int) -> float:
        """Items/s this work would reach if CPU were the only limit: ``cores`` shared by
        all our processes, and at most one core for the operator (one Python thread)."""
        total = sum(self.cpu_ms_per_item(p) or 0.0 for p in self.cpu_cores) / 1000
        bound = cores / total if total > 0 else float("inf")
        op = self.cpu_ms_per_item(OPERATOR_PROCESS)
        if op:
            bound = min(bound, 1000 / op)
        return bound

    @property
    def label(self) -> str:
        """The scenario's name in tables."""
        if self.max_workers is None:
            return self.scenario
        return f"{self.scenario} (workers={self.max_workers})"


@dataclass
class OperatorRecord:
    """One operator process: its start, memory and log."""

    max_workers: int
    cold_start_s: float
    """Process start → the warm-up Dataset's Job seen."""
    rss_idle_mib: float
    rss_peak_mib: float
    profiled: bool = False
    """Run under cProfile: its figures are slower than the operator's own."""
    trouble: dict[str, int] = field(default_factory=dict)
    """Warnings and errors in its log, by message."""


@dataclass
class Target:
    """One of the issue's targets and whether this run met it."""

    what: str
    value: str
    met: bool | None
    """None: not measured in this run (no ceiling to compare with)."""


@dataclass
class Report:
    """Everything one run measured."""

    command: str
    machine: dict[str, str]
    concurrency: int
    sizes: list[int]
    scenarios: list[ScenarioRecord] = field(default_factory=list)
    operators: list[OperatorRecord] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    runtime_s: float = 0.0

    def ceiling(self, scenario: str, n: int) -> ScenarioRecord | None:
        """The ceiling record of ``scenario`` at size ``n``."""
        return next((s for s in self.scenarios if s.scenario == scenario and s.n == n), None)

    def ratio(self, op: ScenarioRecord, ceiling: str) -> float | None:
        """The operator's throughput as a fraction of a ceiling's at the same size."""
        ref = self.ceiling(ceiling, op.n)
        return op.throughput / ref.throughput if ref and ref.throughput > 0 else None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return asdict(self)


def machine_info(bin_dir: Path) -> dict[str, str]:
    """CPU model, cores, memory, Python and the control plane's versions."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(binary: str) -> str:
        out = subprocess.run(
            [str(bin_dir / binary), "--version"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"

    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "kube-apiserver": version("kube-apiserver"),
        "etcd": version("etcd"),
    }


def evaluate_targets(report: Report) -> list[Target]:
    """The issue's three targets, judged at the largest size run (1000 by default)."""
    targets: list[Target] = []
    top = max(report.sizes)
    note = "" if top >= TARGET_N else f" (only N={top} run)"
    for op in (s for s in report.scenarios if s.scenario == OPERATOR and s.n == top):
        ratio = report.ratio(op, CEILING_JOB)
        workers = f"workers={op.max_workers}, N={op.n}{note}"
        targets.append(
            Target(
                f"throughput >= {TARGET_RATIO:.0%} of the Job ceiling ({workers})",
                f"{ratio:.0%}" if ratio is not None else "n/a",
                None if ratio is None else ratio >= TARGET_RATIO and not op.timed_out,
            )
        )
        targets.append(
            Target(
                f"p99 latency < {TARGET_P99_S:.0f} s ({workers})",
                f"{op.latency_p99_s:.2f} s",
                op.latency_p99_s < TARGET_P99_S and not op.timed_out,
            )
        )
    for proc in report.operators:
        targets.append(
            Target(
                f"operator peak RSS < 200 MB = {TARGET_RSS_MIB:.1f} MiB "
                f"(workers={proc.max_workers})",
                f"{proc.rss_peak_mib:.1f} MiB",
                proc.rss_peak_mib < TARGET_RSS_MIB,
            )
        )
    return targets


# --- tables --------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A padded pipe table: aligned in a terminal, valid Markdown in a file."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.0f}"  # NaN: nothing seen


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def throughput_table(report: Report) -> str:
    """Throughput and latency of every scenario, with the operator's ratios."""
    headers = [
        "scenario",
        "N",
        "writes/item",
        "seen",
        "window s",
        "items/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "vs Job ceiling",
        "vs CM+Job ceiling",
        "vs full path",
    ]
    rows = []
    for s in report.scenarios:
        is_op = s.scenario == OPERATOR
        seen = f"{s.seen}/{s.n}" + (" TIMEOUT" if s.timed_out else "")
        seen += f" ({s.errors} errors)" if s.errors else ""
        rows.append(
            [
                s.label,
                str(s.n),
                str(WRITES[s.scenario]),
                seen,
                f"{s.elapsed_s:.2f}",
                f"{s.throughput:.1f}",
                _ms(s.latency_p50_s) if is_op else "-",
                _ms(s.latency_p99_s) if is_op else "-",
                _ms(s.latency_max_s) if is_op else "-",
                _pct(report.ratio(s, CEILING_JOB)) if is_op else "-",
                _pct(report.ratio(s, CEILING_CHILDREN)) if is_op else "-",
                _pct(report.ratio(s, CEILING_FULL)) if is_op else "-",
            ]
        )
    return table(headers, rows)


def cpu_table(report: Report) -> str:
    """Average cores used by each process over each scenario's window."""
    headers = ["scenario", "N", *CPU_COLUMNS, "others", "machine", "op RSS peak MiB"]
    rows = []
    for s in report.scenarios:
        cores = [f"{s.cpu_cores[c]:.2f}" if c in s.cpu_cores else "-" for c in CPU_COLUMNS]
        # Whatever else ran on the host meanwhile: a shared machine shows up here.
        others = s.others_cores
        rss = f"{s.operator_rss_peak_mib:.1f}" if s.operator_rss_peak_mib is not None else "-"
        rows.append([s.label, str(s.n), *cores, f"{others:.2f}", f"{s.machine_cores:.2f}", rss])
    return table(headers, rows)


def cost_table(report: Report) -> str:
    """CPU milliseconds per item by process, and the throughput CPU alone would allow.

    Less sensitive to a shared machine than wall-clock figures: a starved process
    is slower but spends about the same CPU per item.
    """
    cores = int(report.machine.get("cores", "1"))
    headers = ["scenario", "N", *CPU_COLUMNS, "total", f"CPU-bound items/s ({cores} cores)"]
    rows = []
    for s in report.scenarios:
        per = [s.cpu_ms_per_item(c) for c in CPU_COLUMNS]
        total = sum(p for p in per if p is not None)
        cells = ["-" if p is None else f"{p:.1f}" for p in per]
        rows.append([s.label, str(s.n), *cells, f"{total:.1f}", f"{s.cpu_bound(cores):.0f}"])
    return table(headers, rows)


def _per_item(s: ScenarioRecord, match: Callable[[str, str, int], bool]) -> str:
    total = 0.0
    for key, count in s.api_requests.items():
        verb, resource, code = key.split(" ")
        if match(verb, resource, int(code) if code.isdigit() else 0):
            total += count
    return f"{total / s.n:.2f}"


def _writes_to(resource: str) -> Callable[[str, str, int], bool]:
    def match(verb: str, res: str, _code: int) -> bool:
        return verb in WRITE_VERBS and res == resource

    return match


def requests_table(report: Report) -> str:
    """API writes per item submitted, by resource, and failed requests, as the API
    server counted them in each window (from every client: benchmark, operator,
    controllers)."""
    columns = [(res, _writes_to(res)) for res in WRITE_RESOURCES]
    columns += [
        ("other writes", lambda v, r, _c: v in WRITE_VERBS and r not in WRITE_RESOURCES),
        ("reads", lambda v, _r, _c: v not in WRITE_VERBS and v != "WATCH"),
        ("409", lambda _v, _r, c: c == 409),
        ("other 4xx/5xx", lambda _v, _r, c: c >= 400 and c != 409),
    ]
    headers = ["scenario", "N", *(name for name, _ in columns)]
    rows = [[s.label, str(s.n), *(_per_item(s, m) for _, m in columns)] for s in report.scenarios]
    return table(headers, rows)


def operator_table(report: Report) -> str:
    """Start-up and memory of each operator process."""
    headers = [
        "workers",
        "cold start → first Job s",
        "idle RSS MiB",
        "peak RSS MiB",
        "log warnings+errors",
    ]
    rows = [
        [
            str(o.max_workers),
            f"{o.cold_start_s:.2f}",
            f"{o.rss_idle_mib:.1f}",
            f"{o.rss_peak_mib:.1f}",
            str(sum(o.trouble.values())),
        ]
        for o in report.operators
    ]
    lines = [table(headers, rows)]
    for o in report.operators:
        for message, count in list(o.trouble.items())[:5]:
            lines.append(f"  workers={o.max_workers}: {count} x {message}")
    return "\n".join(lines)


def targets_table(report: Report) -> str:
    """Each target, the measured value, and whether it was met."""
    verdict = {True: "met", False: "MISSED", None: "not measured"}
    rows = [[t.what, t.value, verdict[t.met]] for t in report.targets]
    return table(["target", "measured", "result"], rows)


def render(report: Report) -> str:
    """The whole report as text."""
    machine = ", ".join(f"{k}: {v}" for k, v in report.machine.items())
    parts = [
        f"command: {report.command}",
        f"machine: {machine}",
        f"concurrency: {report.concurrency} writers; runtime {report.runtime_s:.0f} s",
        "",
        "Throughput (items/s = items whose Job was seen / window; latency = the item's "
        "writes acknowledged -> its Job seen):",
        throughput_table(report),
        "",
        "CPU over each window, in cores (machine = all processes on the host):",
        cpu_table(report),
        "",
        "CPU milliseconds per item (the Job controller's Pods and, for the operator, "
        "its later status patches partly fall outside the window):",
        cost_table(report),
        "",
        "API requests per item, as the API server counted them in the window (all "
        "clients; writes by resource, reads, and failures; 409 = already exists):",
        requests_table(report),
        "",
        "Operator processes:",
        operator_table(report),
        "",
        "Targets:",
        targets_table(report),
    ]
    busy = max((s.others_cores for s in report.scenarios), default=0.0)
    if busy > SHARED_CORES:
        parts.append(
            f"WARNING: other processes used up to {busy:.2f} cores during the measured "
            "windows; the figures are disturbed (see the 'others' column)."
        )
    if any(o.profiled for o in report.operators):
        parts.append("NOTE: the operator ran under cProfile; its figures are slowed down.")
    return "\n".join(parts)
