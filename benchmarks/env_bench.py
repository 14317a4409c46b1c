"""Environment benchmark: kubetrade's TradingEnv (single) and VecTradingEnv (batched) in env
steps per second for 1, 10 and 30 assets at episode lengths of 1,000 and 10,000 steps, with
gym-anytrading's stocks environment (1 asset) and FinRL's StockTradingEnv (30 assets) on the
same data in the same run, then PPO end to end on the CPU.

    .venv/bin/python benchmarks/env_bench.py            # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/env_bench.py --quick    # a smoke run

Every environment steps with pre-drawn random actions (drawing them is not
timed) through whole episodes, resets included. Rates are given on CPU time
(`time.process_time`: the code itself) and on the wall clock (which, on a
shared machine, also counts other processes' turns on our core). For the
10,000-step episodes the rate over the first and the last 1,000 steps of an
episode is reported too: a rate that falls as an episode grows is FinRL's
O(T^2) episode (it calls `df.loc[day]` and `len(df.index.unique())` in every
step). The process is pinned to one CPU and math libraries to one thread.

Peers: gym-anytrading 2.0.0 (`StocksEnv`); FinRL 0.3.7 (`StockTradingEnv`).
FinRL declares no dependencies and its package `__init__` imports
`alpaca_trade_api` (for paper trading), which is not installed here (it would
pin PyYAML, urllib3 and websockets below this project's pins), so the
benchmark loads the unmodified `finrl/meta/env_stock_trading/env_stocktrading.py`
module by its file path.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

WINDOW = 30
ASSETS = (1, 10, 30)
EPISODES = (1_000, 10_000)
BATCH = 16
TARGET_VS_FINRL = 20.0


@dataclass
class Rate:
    """One measurement: steps per second on CPU time and on the wall clock."""

    env: str
    assets: int
    episode: int
    steps: int
    cpu_rate: float
    wall_rate: float
    first_1000: float | None = None
    """CPU-time rate over the first 1,000 steps of an episode (10,000-step episodes)."""
    last_1000: float | None = None


def pin() -> None:
    """One CPU for the whole process (where the OS lets us)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def bars(assets: int, n: int, seed: int = 0) -> pd.DataFrame:
    """Seeded random-walk OHLCV bars, long form, one row per (day, symbol)."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, (n, assets)), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.003, (n, assets)))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, (n, assets)))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, (n, assets)))
    times = pd.date_range("1990-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame(
        {
            "timestamp": np.repeat(times, assets),
            "symbol": np.tile([f"S{j:02d}" for j in range(assets)], n),
            "open": open_.reshape(-1),
            "high": high.reshape(-1),
            "low": low.reshape(-1),
            "close": close.reshape(-1),
            "volume": rng.uniform(1e5, 2e5, n * assets),
        }
    )


def timed(run: Callable[[], int]) -> tuple[int, float, float]:
    """Steps run, CPU seconds, wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    steps = run()
    return steps, time.process_time() - cpu, time.perf_counter() - wall


def ours(frame: pd.DataFrame, assets: int, episode: int, steps: int, batch: int) -> Rate:
    """kubetrade's environment: single (batch 1) or batched VecTradingEnv."""
    from kubetrade_workloads.config.training import EnvironmentConfig
    from kubetrade_workloads.envs.arrays import prepare
    from kubetrade_workloads.envs.features import FeatureTransform
    from kubetrade_workloads.envs.trading_env import TradingEnv
    from kubetrade_workloads.envs.vec_env import VecTradingEnv
    from kubetrade_workloads.market.history import History

    history = History.from_frame(frame)
    data = prepare(history, FeatureTransform.fit(history), WINDOW)
    config = EnvironmentConfig(window=WINDOW, episode_length=episode)
    rng = np.random.default_rng(1)
    if batch == 1:
        env = TradingEnv(data, config)
        env.reset(seed=0)
        actions = rng.uniform(-1, 1, (min(steps, 20_000), assets)).astype(np.float32)
        marks: list[float] = []

        def run() -> int:
            for i in range(steps):
                if i % 1000 == 0:
                    marks.append(time.process_time())
                _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
                if terminated or truncated:
                    env.reset()
            marks.append(time.process_time())
            return steps

        n, cpu, wall = timed(run)
        first = last = None
        if episode >= 10_000 and len(marks) > 10:
            first, last = 1000 / (marks[1] - marks[0]), 1000 / (marks[10] - marks[9])
        return Rate("kubetrade TradingEnv", assets, episode, n, n / cpu, n / wall, first, last)
    vec = VecTradingEnv(data, config, batch)
    vec.seed(0)
    vec.reset()
    rounds = max(steps // batch, 1)
    batches = rng.uniform(-1, 1, (min(rounds, 2000), batch, assets)).astype(np.float32)

    def run_batched() -> int:
        for i in range(rounds):
            vec.step(batches[i % len(batches)])
        return rounds * batch

    n, cpu, wall = timed(run_batched)
    return Rate(f"kubetrade VecTradingEnv x{batch}", assets, episode, n, n / cpu, n / wall)


def anytrading(frame: pd.DataFrame, episode: int, steps: int) -> Rate:
    """gym-anytrading's StocksEnv on the same single-asset bars."""
    from gym_anytrading.envs import StocksEnv  # type: ignore[import-untyped]

    df = frame.rename(columns=str.capitalize).set_index("Timestamp")
    env = StocksEnv(df=df, window_size=WINDOW, frame_bound=(WINDOW, WINDOW + episode))
    env.reset(seed=0)
    actions = np.random.default_rng(1).integers(0, 2, 20_000)

    def run() -> int:
        for i in range(steps):
            _, _, terminated, truncated, _ = env.step(int(actions[i % len(actions)]))
            if terminated or truncated:
                env.reset()
        return steps

    n, cpu, wall = timed(run)
    return Rate("gym-anytrading StocksEnv", 1, episode, n, n / cpu, n / wall)


def _finrl_env_class() -> Any:
    spec = importlib.util.find_spec("finrl")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("finrl is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    path = root / "meta" / "env_stock_trading" / "env_stocktrading.py"
    module_spec = importlib.util.spec_from_file_location("finrl_env_stocktrading", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.StockTradingEnv


def finrl(frame: pd.DataFrame, assets: int, episode: int, budget_s: float) -> Rate:
    """FinRL's StockTradingEnv on the same bars, for at most `budget_s` CPU seconds."""
    env_class = _finrl_env_class()
    days = frame["timestamp"].rank(method="dense").astype(int) - 1
    df = frame.assign(date=days, tic=frame["symbol"], f1=0.0, f2=0.0).set_index(days)
    df = df[df.index < episode + 1]
    env = env_class(
        df=df,
        stock_dim=assets,
        hmax=100,
        initial_amount=1_000_000,
        num_stock_shares=[0] * assets,
        buy_cost_pct=[1e-3] * assets,
        sell_cost_pct=[1e-3] * assets,
        reward_scaling=1e-4,
        state_space=1 + 2 * assets + 2 * assets,
        action_space=assets,
        tech_indicator_list=["f1", "f2"],
        print_verbosity=10**9,
    )
    env.reset(seed=0)
    actions = np.random.default_rng(1).uniform(-1, 1, (2000, assets))

    def run() -> int:
        start, i = time.process_time(), 0
        while time.process_time() - start < budget_s and i < episode - 1:
            env.step(actions[i % len(actions)])
            i += 1
        return i

    n, cpu, wall = timed(run)
    return Rate("FinRL StockTradingEnv", assets, episode, n, n / cpu, n / wall)


def ppo(frame: pd.DataFrame, assets: int, steps: int, batch: int, batched: bool) -> Rate:
    """PPO (MlpPolicy, CPU) learning on the environment: env steps per second end to end."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    from kubetrade_workloads.config.training import EnvironmentConfig
    from kubetrade_workloads.envs.arrays import prepare
    from kubetrade_workloads.envs.features import FeatureTransform
    from kubetrade_workloads.envs.trading_env import TradingEnv
    from kubetrade_workloads.envs.vec_env import VecTradingEnv
    from kubetrade_workloads.market.history import History

    torch.set_num_threads(1)
    history = History.from_frame(frame)
    data = prepare(history, FeatureTransform.fit(history), WINDOW)
    config = EnvironmentConfig(window=WINDOW, episode_length=1000)
    if batched:
        env: Any = VecMonitor(VecTradingEnv(data, config, batch))
        name = f"PPO on VecTradingEnv x{batch}"
    else:
        env = VecMonitor(DummyVecEnv([lambda: TradingEnv(data, config)] * batch))
        name = f"PPO on DummyVecEnv x{batch} TradingEnv"
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, n_epochs=4, seed=0, device="cpu")
    model.learn(256 * batch)  # warm-up: imports, first allocations

    def run() -> int:
        model.learn(steps, reset_num_timesteps=False)
        return steps

    n, cpu, wall = timed(run)
    return Rate(name, assets, 1000, n, n / cpu, n / wall)


def table(rates: list[Rate]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| environment | assets | episode | steps | steps/s (CPU) | steps/s (wall) | first 1k / last 1k of an episode (CPU) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rates:
        drift = f"{r.first_1000:,.0f} / {r.last_1000:,.0f}" if r.first_1000 and r.last_1000 else ""
        lines.append(
            f"| {r.env} | {r.assets} | {r.episode:,} | {r.steps:,} | {r.cpu_rate:,.0f} | {r.wall_rate:,.0f} | {drift} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every case, print the tables, write the JSON next to them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small step counts: a smoke run")
    parser.add_argument("--out", type=Path, default=Path(".kubetrade/bench/env_bench.json"))
    args = parser.parse_args(argv)
    pin()
    steps = 2_000 if args.quick else 20_000
    rates: list[Rate] = []
    notes: list[str] = []
    frames = {k: bars(k, max(EPISODES) + WINDOW + 2) for k in ASSETS}
    for k in ASSETS:
        for episode in EPISODES:
            run = max(steps, 2 * episode) if not args.quick else steps
            rates.append(ours(frames[k], k, episode, run, 1))
            rates.append(ours(frames[k], k, episode, run, BATCH))
            print(table(rates[-2:]).splitlines()[-2:], file=sys.stderr)
    for episode in EPISODES:
        rates.append(
            anytrading(frames[1], episode, max(steps, 2 * episode) if not args.quick else steps)
        )
    try:
        for episode in EPISODES:
            rates.append(finrl(frames[30], 30, episode, 5.0 if args.quick else 30.0))
    except ImportError as err:
        notes.append(f"FinRL not run: {type(err).__name__}: {err}")
    ppo_steps = 2_048 if args.quick else 16_384
    rates.append(ppo(frames[10], 10, ppo_steps, 8, batched=True))
    rates.append(ppo(frames[10], 10, ppo_steps, 8, batched=False))

    finrl_rates = {r.episode: r for r in rates if r.env.startswith("FinRL")}
    for r in rates:
        peer = finrl_rates.get(r.episode)
        if peer and r.assets == 30 and r.env.startswith("kubetrade"):
            ratio = r.cpu_rate / peer.cpu_rate
            met = "met" if ratio >= TARGET_VS_FINRL else "not met"
            notes.append(
                f"{r.env}, 30 assets, {r.episode:,}-step episodes: {ratio:,.0f}x FinRL (CPU); target {TARGET_VS_FINRL:.0f}x {met}"
            )
    print(table(rates))
    print()
    for note in notes:
        print(f"- {note}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg": load,
        "quick": args.quick,
    }
    print(
        f"- load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"meta": meta, "rates": [asdict(r) for r in rates], "notes": notes}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
