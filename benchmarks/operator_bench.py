"""How fast the operator turns Datasets into Jobs, next to what the API server allows.

Starts its own local control plane (etcd, kube-apiserver, kube-controller-manager
in a temporary directory), installs the CRDs, then for each size N:

* ceilings, with no operator running: a plain client creates, in a fresh
  namespace and with the same concurrency, the N Jobs the builder would make;
  the N ConfigMap+Job pairs the operator writes; and the operator's whole write
  path (Dataset, ConfigMap, Job, status) without the watch in between;
* the operator, one warm process for the whole run: N Datasets created at once,
  each timed from its create call returning to its Job arriving on a watch
  opened before the first create.

Reports throughput, latency percentiles, the operator's peak memory and where
the CPU went, judges the issue's targets, and stops the cluster at the end.
See docs/BENCHMARKS.md. Usage::

    make bench
    .venv/bin/python benchmarks/operator_bench.py [--sizes 1,100,1000] [--quick] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, only benchmarks/ is on sys.path: add the repository (for the
# `benchmarks` package), the dev tooling (the control plane) and the test helpers
# (CRD install, factories), the same roots pytest and mypy use.
sys.path.append(str(Path(__file__).resolve().parents[1]))
sys.path.append(str(Path(__file__).resolve().parents[1] / "hack"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
from lightkube import AsyncClient, KubeConfig

from benchmarks.opbench.load import (
    JobWatch,
    Workload,
    children_workload,
    create_namespace,
    delete_namespace,
    full_path_workload,
    item_names,
    jobs_workload,
    operator_workload,
    run_load,
    wait_gone,
)
from benchmarks.opbench.probes import MIB, ApiCounters, CpuMeter, RssSampler
from benchmarks.opbench.process import OperatorProcess, profile_summary
from benchmarks.opbench.report import (
    BENCH,
    CEILING_CHILDREN,
    CEILING_FULL,
    CEILING_JOB,
    OPERATOR,
    OperatorRecord,
    Report,
    ScenarioRecord,
    evaluate_targets,
    machine_info,
    render,
)
from kubetrade_dev.controlplane import ControlPlane, find_bin_dir
from kubetrade_testing.cluster import new_client
from kubetrade_testing.crds import install_crds, load_crds

CEILINGS: list[tuple[str, Workload]] = [
    (CEILING_JOB, jobs_workload),
    (CEILING_CHILDREN, children_workload),
    (CEILING_FULL, full_path_workload),
]
QUICK_SIZES = [1, 20]
DELETE_TIMEOUT = 300.0
WAIT_DELETED_FROM = 100


@dataclass(frozen=True)
class Options:
    """What the command line chose."""

    sizes: list[int]
    concurrency: int
    max_workers: list[int]
    timeout: float
    wait_deleted: bool
    ceilings: bool
    json_path: Path | None
    keep: bool
    profile: Path | None


def _ints(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,100,1000: {text!r}")
    return values


def parse_args(argv: Sequence[str]) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(
        prog="operator_bench.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--sizes", type=_ints, default=[1, 100, 1000], help="default 1,100,1000")
    parser.add_argument(
        "--quick", action="store_true", help=f"sizes {QUICK_SIZES}: checks the script in < 60 s"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="writers at once (32)")
    parser.add_argument(
        "--max-workers",
        type=_ints,
        default=[100],
        help="KUBETRADE_MAX_WORKERS; a list (10,100) runs one operator process per value",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="per scenario, seconds (180)")
    parser.add_argument(
        "--wait-deleted",
        action="store_true",
        help=f"wait for every scenario's namespace to be gone before the next scenario "
        f"(by default only those of {WAIT_DELETED_FROM}+ items; for the others the next "
        "scenario waits until the cluster's CPU is idle again)",
    )
    parser.add_argument(
        "--no-ceilings", action="store_true", help="operator only (no ratios), e.g. for sweeps"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (cluster and logs)"
    )
    parser.add_argument(
        "--profile-operator",
        type=Path,
        default=None,
        metavar="FILE",
        help="run the operator under cProfile, write its stats to FILE (FILE.workers-N "
        "with several --max-workers) and a summary next to it; slows the operator down",
    )
    args = parser.parse_args(argv)
    return Options(
        sizes=sorted(set(QUICK_SIZES if args.quick else args.sizes)),
        concurrency=args.concurrency,
        max_workers=args.max_workers,
        timeout=args.timeout,
        wait_deleted=args.wait_deleted,
        ceilings=not args.no_ceilings,
        json_path=args.json,
        keep=args.keep,
        profile=args.profile_operator,
    )


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


async def quiesce(meter: CpuMeter, limit: float = 120.0, threshold: float = 0.25) -> float:
    """Wait until the cluster and the operator are nearly idle (under ``threshold``
    cores together for two half-second windows in a row), so one scenario's
    aftermath (the Job controller still making Pods, the namespace controller and
    the garbage collector deleting) is not billed to the next. Only our processes
    count: the machine may be shared. Returns the wait."""
    start = time.perf_counter()
    idle = 0
    while idle < 2 and time.perf_counter() - start < limit:
        before = meter.snapshot()
        await asyncio.sleep(0.5)
        usage = CpuMeter.usage(before, meter.snapshot())
        busy = sum(v for k, v in usage.cores.items() if k != BENCH)
        idle = idle + 1 if busy < threshold else 0
    return time.perf_counter() - start


class Bench:
    """Runs scenarios against one cluster with one client, metering as it goes."""

    def __init__(
        self, client: AsyncClient, opts: Options, meter: CpuMeter, api: ApiCounters
    ) -> None:
        self.client = client
        self.opts = opts
        self.meter = meter
        self.api = api
        self.sampler = RssSampler(interval=0.05)
        self.terminating: list[str] = []

    async def scenario(
        self, name: str, workload: Workload, n: int, operator: OperatorProcess | None = None
    ) -> ScenarioRecord:
        """One workload of ``n`` items in a fresh namespace, deleted afterwards."""
        slug = "op" if operator else name.split(": ")[1].lower().replace("+", "-").replace(" ", "-")
        namespace = await create_namespace(self.client, f"bench-{slug}-{n}")
        items = item_names(n)
        submit = workload(namespace, items)  # manifests built before the clock starts
        async with JobWatch(self.client, namespace) as watch:
            self.sampler.reset_window()
            result = await run_load(
                self.client,
                watch,
                submit,
                items,
                concurrency=self.opts.concurrency,
                timeout=self.opts.timeout,
                meter=self.meter,
                api=self.api,
            )
            rss = self.sampler.window_peak if operator else None
        if operator:
            operator.check_alive()
        # Deleting 100+ items is as much work as making them, and the namespace
        # controller works in bursts that an idle check can fall between: wait
        # for those to be gone. Smaller ones only need the cluster idle again.
        wait = self.opts.wait_deleted or n >= WAIT_DELETED_FROM
        deleted = await self.delete(namespace, wait=wait)
        settled = await quiesce(self.meter)
        record = ScenarioRecord.of(
            name,
            result,
            max_workers=operator.max_workers if operator else None,
            rss_peak=rss,
            delete_s=deleted,
        )
        gone = f"gone after {deleted:.0f} s" if deleted is not None else "deleting"
        say(
            f"  {record.label:<36} N={n:<5} {record.seen}/{n} Jobs in {record.elapsed_s:6.2f} s"
            f" = {record.throughput:7.1f}/s; namespace {gone}, idle after {settled:.1f} s"
        )
        for err in result.errors[:3]:
            say(f"    error: {err}")
        return record

    async def warm_up(self, operator: OperatorProcess, started: float) -> float:
        """One Dataset to a freshly started operator; seconds from its start to the Job."""
        namespace = await create_namespace(self.client, "bench-warmup")
        submit = operator_workload(namespace, ["warmup"])
        async with JobWatch(self.client, namespace) as watch:
            watch.expect(["warmup"])
            await submit(self.client, "warmup")
            while not await watch.wait(1.0):
                operator.check_alive()
                if time.perf_counter() - started > self.opts.timeout:
                    raise RuntimeError("the operator made no Job for the warm-up Dataset")
            cold = watch.seen["warmup"] - started
        await self.delete(namespace, wait=False)
        await quiesce(self.meter)
        return cold

    async def delete(self, namespace: str, *, wait: bool) -> float | None:
        """Delete a scenario's namespace; with ``wait``, the seconds until it was gone."""
        await delete_namespace(self.client, namespace)
        self.terminating.append(namespace)
        return await self.wait_all_gone() if wait else None

    async def wait_all_gone(self) -> float | None:
        """Wait for every namespace deleted so far to be gone (None: timed out)."""
        took = await wait_gone(self.client, self.terminating, DELETE_TIMEOUT)
        if took is None:
            say(f"  warning: namespaces still terminating after {DELETE_TIMEOUT:.0f} s")
        self.terminating.clear()
        return took

    async def operator_runs(self, cp: ControlPlane, workdir: Path, report: Report) -> None:
        """For each worker limit: one operator process, warmed up, through every size."""
        for workers in self.opts.max_workers:
            log = workdir / f"operator-workers-{workers}.log"
            profile = self.opts.profile
            if profile is not None and len(self.opts.max_workers) > 1:
                profile = profile.with_name(f"{profile.name}.workers-{workers}")
            operator = OperatorProcess(cp, log, workers, profile)
            # A new operator lists every Job and Dataset at start: the previous
            # run's, still being deleted, would queue ahead of the warm-up.
            await self.wait_all_gone()
            await quiesce(self.meter)
            say(f"operator (KUBETRADE_MAX_WORKERS={workers}), log {operator.log}")
            started = time.perf_counter()
            operator.start()
            self.meter.track("kubetrade-operator", operator.pid)
            self.sampler.target(operator.pid)
            try:
                cold = await self.warm_up(operator, started)
                idle = self.sampler.current()
                for n in self.opts.sizes:
                    report.scenarios.append(
                        await self.scenario(OPERATOR, operator_workload, n, operator)
                    )
                report.operators.append(
                    OperatorRecord(
                        max_workers=workers,
                        cold_start_s=cold,
                        rss_idle_mib=idle / MIB,
                        rss_peak_mib=self.sampler.peak / MIB,
                        profiled=profile is not None,
                        trouble=operator.trouble(),
                    )
                )
            finally:
                self.sampler.target(None)
                self.meter.untrack("kubetrade-operator")
                operator.stop()
            if profile is not None and profile.exists():
                summary = profile.with_name(f"{profile.name}.txt")
                summary.write_text(profile_summary(profile))
                say(f"operator profile: {profile} (summary in {summary})")

    async def run(self, cp: ControlPlane, workdir: Path, report: Report) -> None:
        """Ceilings first (no operator process exists yet, so none of its watches
        adds load), then the operator."""
        self.sampler.start()
        try:
            if self.opts.ceilings:
                say("ceilings (plain client, no operator running)")
                for n in self.opts.sizes:
                    for name, workload in CEILINGS:
                        report.scenarios.append(await self.scenario(name, workload, n))
            await self.operator_runs(cp, workdir, report)
        finally:
            self.sampler.stop()


async def bench(cp: ControlPlane, opts: Options, workdir: Path, report: Report) -> None:
    """All scenarios against a started control plane."""
    meter = CpuMeter()
    for component in cp.components:
        meter.track(component.name, component.pid)
    meter.track(BENCH, os.getpid(), tree=False)  # its children are metered on their own
    config = KubeConfig.from_file(cp.kubeconfig)
    # Creates can queue behind many others on 2 cores; lightkube's default 10 s is short.
    timeout = httpx2.Timeout(60.0)
    async with AsyncClient(config=config, field_manager="kubetrade-bench", timeout=timeout) as c:
        pki = cp.pki
        api = ApiCounters(cp.ports.apiserver, pki.ca_cert, pki.admin_cert, pki.admin_key)
        await Bench(c, opts, meter, api).run(cp, workdir, report)


def _finite(value: Any) -> Any:
    """NaN (no latency measured) as null, so the JSON is standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: start a cluster, run everything, print the report, stop the cluster."""
    args = list(sys.argv[1:] if argv is None else argv)
    opts = parse_args(args)
    began = time.perf_counter()
    bin_dir = find_bin_dir()
    workdir = Path(tempfile.mkdtemp(prefix="kubetrade-bench-"))
    report = Report(
        command=" ".join(["benchmarks/operator_bench.py", *args]),
        machine=machine_info(bin_dir),
        concurrency=opts.concurrency,
        sizes=opts.sizes,
    )
    cp = ControlPlane(workdir / "cluster", bin_dir)
    # `timeout`, CI cancellation and kill send SIGTERM: unwind like Ctrl-C, so the
    # cluster and the operator are stopped and the finished scenarios reported.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    ok = interrupted = False
    failed = ""
    try:
        say(f"starting a local control plane in {workdir}")
        cp.start()
        with new_client(cp.kubeconfig) as client:
            install_crds(client, load_crds())
        asyncio.run(bench(cp, opts, workdir, report))
        ok = True
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: reporting the scenarios that finished")
    except Exception as exc:  # reported with what finished, then the run fails
        failed = f"{type(exc).__name__}: {exc}"
        say(f"failed: {failed}\nreporting the scenarios that finished")
    finally:
        cp.stop()
        if ok and not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"logs and cluster state kept in {workdir}")
    report.runtime_s = time.perf_counter() - began
    report.targets = evaluate_targets(report)
    print(render(report))
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(_finite(report.to_json()), indent=2) + "\n")
    if failed:
        return 1
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
