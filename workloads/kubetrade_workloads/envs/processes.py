"""`ProcessVecTradingEnv`: a pod's environments split across worker processes.

Each worker holds a contiguous share of the N environments as one batched
`VecTradingEnv`; a step sends every worker its rows of the actions, the workers
step at once, and their observations, rewards and infos are joined in order.
Worker k's environments start at index `start_k` and are seeded with
`seed + start_k + j`, exactly the seeds one `VecTradingEnv` of N would give
them, and every environment draws its episodes from its own generator, so the
split changes where the arithmetic runs, never the numbers (the tests compare
the two over whole episodes, automatic resets included).

Workers start from a `forkserver` (`spawn` where there is none): never a fork of
the trainer, whose torch threads may be running. The forkserver imports this
module once and the workers fork from it, so they share its imported torch and
stable-baselines3 pages instead of loading them each.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from ..config.training import EnvironmentConfig
from .arrays import MarketArrays
from .trading_env import make_spaces
from .vec_env import SharedVecEnv, VecTradingEnv

_JOIN_TIMEOUT_S = 5.0
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: its affinity, lowered to a cgroup v2 CPU limit (a
    pod's `resources.limits.cpu`, rounded down, at least 1) where one is set; the
    affinity alone would count every core of the node."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        limit = int(quota) / int(period)
    except (OSError, ValueError):  # no cgroup v2 file, or "max": no limit
        return cpus
    return max(1, min(cpus, math.floor(limit)))


def processes_for(config: EnvironmentConfig) -> int:
    """Worker processes for `config`: `envProcesses`, or with 0 one per available CPU,
    never more than `numEnvs`."""
    wanted = config.env_processes or available_cpus()
    return max(1, min(wanted, config.num_envs))


def make_vec_env(
    data: MarketArrays, config: EnvironmentConfig, *, cnn_weight: float = 0.0
) -> VecTradingEnv | ProcessVecTradingEnv:
    """The training VecEnv `config` asks for: in this process, or split across workers."""
    processes = processes_for(config)
    if processes == 1:
        return VecTradingEnv(data, config, config.num_envs, cnn_weight=cnn_weight)
    return ProcessVecTradingEnv(data, config, config.num_envs, processes, cnn_weight=cnn_weight)


def shares(n: int, processes: int) -> list[int]:
    """How many of `n` environments each worker steps: as even as can be, the first ones
    taking one more."""
    if not 1 <= processes <= n:
        raise ValueError(f"{n} environments cannot be split across {processes} processes")
    base, extra = divmod(n, processes)
    return [base + (1 if k < extra else 0) for k in range(processes)]


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # takes effect when the server first starts
    return context


def _serve(
    remote: Connection, data: MarketArrays, config: EnvironmentConfig, n: int, cnn_weight: float
) -> None:
    """A worker: step a `VecTradingEnv` of `n` environments on the trainer's commands."""
    # Ctrl-C reaches the whole process group: the trainer handles it and closes us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    env = VecTradingEnv(data, config, n, cnn_weight=cnn_weight)
    try:
        while True:
            try:
                command, argument = remote.recv()
            except EOFError:  # the trainer is gone: nothing left to step for
                return
            if command == "close":
                return
            try:
                remote.send(("ok", _answer(env, command, argument)))
            except Exception as err:  # the trainer raises it as its own
                remote.send(("error", err))
    finally:
        remote.close()


def _answer(env: VecTradingEnv, command: str, argument: Any) -> Any:
    if command == "reset":
        if argument is not None:
            # VecEnv.seed gives environment i `seed + i`: this share's seeds are
            # contiguous from the first, which is all that needs to cross.
            env.seed(argument)
        return env.reset(), env.reset_infos
    if command == "step":
        return (*env.step(argument), env.reset_infos)
    raise ValueError(f"unknown command {command!r}")


class ProcessVecTradingEnv(SharedVecEnv):
    """`n` environments stepped by `processes` workers, each a `VecTradingEnv` of its share."""

    def __init__(
        self,
        data: MarketArrays,
        config: EnvironmentConfig,
        n: int,
        processes: int,
        *,
        cnn_weight: float = 0.0,
    ) -> None:
        sizes = shares(n, processes)
        self.data, self.config = data, config
        self.starts = [sum(sizes[:k]) for k in range(processes)]
        self.render_mode = None
        self.closed = False
        self._remotes: list[Connection] = []
        self._workers: list[multiprocessing.process.BaseProcess] = []
        self._waiting = False
        context = _context()
        try:
            for k, size in enumerate(sizes):
                mine, theirs = context.Pipe()
                worker = context.Process(
                    target=_serve,
                    args=(theirs, data, config, size, cnn_weight),
                    name=f"kubetrade-env-{k}",
                    daemon=True,  # never outlives the trainer
                )
                worker.start()
                theirs.close()
                self._remotes.append(mine)
                self._workers.append(worker)
        except BaseException:
            self.close()
            raise
        observation, action = make_spaces(data, config)
        super().__init__(n, observation, action)

    def _gather(self) -> list[Any]:
        answers = []
        for k, remote in enumerate(self._remotes):
            try:
                status, value = remote.recv()
            except EOFError as err:
                raise RuntimeError(
                    f"environment worker {k} (pid {self._workers[k].pid}) died:"
                    f" exit code {self._workers[k].exitcode}"
                ) from err
            answers.append((status, value))
        for status, value in answers:
            if status == "error":
                raise value
        return [value for _, value in answers]

    def reset(self) -> VecEnvObs:
        """Start every environment on a new episode (with the seeds `seed()` set, once)."""
        for remote, start in zip(self._remotes, self.starts, strict=True):
            remote.send(("reset", self._seeds[start]))
        answers = self._gather()
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [info for _, infos in answers for info in infos]
        return np.concatenate([obs for obs, _ in answers])

    def step_async(self, actions: np.ndarray) -> None:
        """Send each worker its rows of the actions; they step while we wait."""
        ends = [*self.starts[1:], self.num_envs]
        for remote, start, end in zip(self._remotes, self.starts, ends, strict=True):
            remote.send(("step", actions[start:end]))
        self._waiting = True

    def step_wait(self) -> VecEnvStepReturn:
        """Join the workers' steps in environment order."""
        if not self._waiting:
            raise RuntimeError("step_wait() called without step_async()")
        self._waiting = False
        answers = self._gather()
        self.reset_infos = [info for *_, resets in answers for info in resets]
        obs = np.concatenate([a[0] for a in answers])
        rewards = np.concatenate([a[1] for a in answers])
        dones = np.concatenate([a[2] for a in answers])
        infos = [info for a in answers for info in a[3]]
        return obs, rewards, dones, infos

    def close(self) -> None:
        """Stop the workers: ask, wait a little, then terminate any that did not go."""
        if self.closed:
            return
        self.closed = True
        for remote in self._remotes:
            try:
                remote.send(("close", None))
            except OSError:  # that worker is already gone
                pass
        for worker in self._workers:
            worker.join(_JOIN_TIMEOUT_S)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for remote in self._remotes:
            remote.close()
