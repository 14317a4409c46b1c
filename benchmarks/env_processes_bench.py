"""Environments in one process or split across worker processes (`environment.envProcesses`):
env steps per second, stepping alone and PPO learning end to end, on the wall clock.

    .venv/bin/python benchmarks/env_processes_bench.py           # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/env_processes_bench.py --quick   # a smoke run

The same bars and settings as `env_bench.py`'s PPO case (10 assets, a 30-bar window,
1,000-step episodes, 8 environments; MlpPolicy, `n_steps` 256, batch 256, 4 epochs,
torch on one thread), once with the 8 environments as one `VecTradingEnv` in the
trainer's process and once split 4 + 4 across two worker processes. Unlike
`env_bench.py` nothing is pinned: the point is to use more than one core. Rates are
wall clock (a worker's CPU time is not the trainer's), and each case runs `--rounds`
times, interleaved, reporting the median, so the load of a shared machine falls on
both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Run as a script, only benchmarks/ is on sys.path: add the repository root for env_bench.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.env_bench import WINDOW, bars  # noqa: E402

ENVS = 8
ASSETS = 10


@dataclass
class Case:
    """One case: its wall-clock rates over the rounds, and their median."""

    name: str
    processes: int
    steps: int
    rates: list[float]

    @property
    def median(self) -> float:
        """The median rate, env steps per second."""
        return statistics.median(self.rates)


def _env(processes: int) -> Any:
    from kubetrade_workloads.config.training import EnvironmentConfig
    from kubetrade_workloads.envs.arrays import prepare
    from kubetrade_workloads.envs.features import FeatureTransform
    from kubetrade_workloads.envs.processes import make_vec_env
    from kubetrade_workloads.market.history import History

    history = History.from_frame(bars(ASSETS, 1000 + WINDOW + 200))
    data = prepare(history, FeatureTransform.fit(history), WINDOW)
    config = EnvironmentConfig(
        window=WINDOW, episode_length=1000, num_envs=ENVS, env_processes=processes
    )
    return make_vec_env(data, config)


def stepping(processes: int, steps: int) -> float:
    """Random actions through `steps` env steps (resets included): steps per wall second."""
    env = _env(processes)
    try:
        env.seed(0)
        env.reset()
        rounds = steps // ENVS
        actions = np.random.default_rng(1).uniform(-1, 1, (rounds, ENVS, ASSETS))
        env.step(actions[0].astype(np.float32))  # warm-up
        start = time.perf_counter()
        for i in range(rounds):
            env.step(actions[i].astype(np.float32))
        return rounds * ENVS / (time.perf_counter() - start)
    finally:
        env.close()


def ppo(processes: int, steps: int) -> float:
    """PPO learning `steps` env steps after a warm-up: steps per wall second."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    torch.set_num_threads(1)
    env = VecMonitor(_env(processes))
    try:
        model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, n_epochs=4, seed=0, device="cpu")
        model.learn(256 * ENVS)  # warm-up: imports, first allocations
        start = time.perf_counter()
        model.learn(steps, reset_num_timesteps=False)
        return steps / (time.perf_counter() - start)
    finally:
        env.close()


def main(argv: list[str] | None = None) -> int:
    """Run the cases round by round, print the table, write the JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small step counts: a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(".kubetrade/bench/env_processes.json"))
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    step_count = 4_096 if args.quick else 40_000
    ppo_count = 2_048 if args.quick else 16_384
    cases = [
        Case(f"VecTradingEnv x{ENVS} stepping, random actions", 1, step_count, []),
        Case(f"VecTradingEnv x{ENVS} stepping, random actions", 2, step_count, []),
        Case(f"PPO on VecTradingEnv x{ENVS}", 1, ppo_count, []),
        Case(f"PPO on VecTradingEnv x{ENVS}", 2, ppo_count, []),
    ]
    for _ in range(rounds):
        for case in cases:
            run = ppo if case.name.startswith("PPO") else stepping
            case.rates.append(run(case.processes, case.steps))
            print(
                f"{case.name}, {case.processes} process(es): {case.rates[-1]:,.0f}/s",
                file=sys.stderr,
            )
    print("| case | processes | steps | env steps/s (wall, median) | rounds |")
    print("|---|---:|---:|---:|---|")
    for case in cases:
        each = ", ".join(f"{r:,.0f}" for r in case.rates)
        print(f"| {case.name} | {case.processes} | {case.steps:,} | {case.median:,.0f} | {each} |")
    load = os.getloadavg()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"- {cpus} CPUs; load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    meta = {"python": platform.python_version(), "cpus": cpus, "loadavg": load, "quick": args.quick}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(c), "median": c.median} for c in cases]
    args.out.write_text(json.dumps({"meta": meta, "cases": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
