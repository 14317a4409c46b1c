"""Tuning benchmark: trials per hour of `kubetrade_workloads.tuning` at parallelism
1, 2 and 4 against Optuna in one process, on the same objective.

    .venv/bin/python benchmarks/tune_bench.py             # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/tune_bench.py --quick     # a smoke run

The objective is one real trial: PPO with a random sampler (no pruning, so every
trial does the same work) for `--steps` steps on a synthetic dataset, its policy
and card published. The peer is `optuna.create_study()` (in-memory storage) and
`study.optimize(objective, n_trials)` in this process, the way a notebook runs
it; kubetrade runs `--parallel` worker processes (`trading-cli optimize`'s code)
on a journal-file study. Each worker process pays its own imports and dataset
load, which the peer pays once outside the timing (one warm-up trial, too): that
start-up is counted for kubetrade at parallelism 2 and 4, because a pod pays it
too; at parallelism 1 the worker runs in this (warm) process.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kubetrade_operator.cli.optimize import run_workers  # noqa: E402
from kubetrade_testing import markets, training  # noqa: E402
from kubetrade_workloads.config import TrainJob  # noqa: E402
from kubetrade_workloads.tuning.objective import Objective  # noqa: E402
from kubetrade_workloads.tuning.study import study_storage  # noqa: E402

SPACE = [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}]


def _job(root: Path, dataset: str, trials: int, parallel: int, steps: int) -> TrainJob:
    search = {"space": SPACE, "sampler": "random", "pruner": "none", "maxTrials": trials,
              "parallelism": parallel, "trialTimesteps": steps, "seed": 0}  # fmt: skip
    return training.job(root, "PPO", dataset=dataset, search=search)


def peer(root: Path, dataset: str, trials: int, steps: int, journal: bool = False) -> float:
    """Seconds for `trials` trials in one process, on an in-memory study (or, to
    tell the storage's cost from the workers', on the journal file ours uses)."""
    job = _job(root, dataset, trials, 1, steps)
    assert job.training.search is not None
    objective = Objective(job, job.training.search, 0)
    storage = study_storage(f"file://{root}/peer-study") if journal else None
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(0),
        pruner=optuna.pruners.NopPruner(),  # Optuna's default (median) would prune the peer's
        storage=storage,
    )
    study.optimize(objective, n_trials=1)  # warm: torch's first calls are not the peer's cost
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - start


def ours(root: Path, dataset: str, trials: int, parallel: int, steps: int) -> float:
    """Seconds for `trials` trials from `parallel` worker processes on a journal study."""
    job = _job(root, dataset, trials, parallel, steps)
    start = time.perf_counter()
    run_workers(job, parallel)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1024)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.steps, args.parallel = 4, 128, [1, 2]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    cores = os.cpu_count()
    print(f"# {platform.processor() or platform.machine()}, {cores} cores, python "
          f"{platform.python_version()}, optuna {optuna.__version__}, torch {torch.__version__}")  # fmt: skip
    print(f"# {args.trials} PPO trials of {args.steps} steps, random sampler, no pruning")
    root = Path(tempfile.mkdtemp(prefix="tune-bench-"))
    try:
        dataset = markets.dataset(root / "dataset", n=400)
        base = peer(root / "peer", dataset, args.trials, args.steps)
        print(f"| optuna, one process, in-memory | 1 | {args.trials / base * 3600:,.0f} | 1.00 |")
        journal = peer(root / "peer-journal", dataset, args.trials, args.steps, journal=True)
        rate = args.trials / journal * 3600
        print(f"| optuna, one process, journal file | 1 | {rate:,.0f} | {base / journal:.2f} |")
        for parallel in args.parallel:
            took = ours(root / f"p{parallel}", dataset, args.trials, parallel, args.steps)
            rate = args.trials / took * 3600
            print(f"| kubetrade workers, journal file | {parallel} | {rate:,.0f} | "
                  f"{base / took:.2f} |")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
