"""Run a TrainJob the way a distributed TrainingRun's pods do: one torchrun per "pod",
each with the operator's own command line, meeting at a c10d rendezvous on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kubetrade_dev.controlplane import free_ports
from kubetrade_operator.builders.distributed import torchrun_command
from kubetrade_workloads.config import TrainJob

WORKLOAD = ["python", "-m", "kubetrade_workloads", "train", "--config"]


def run_pods(work: TrainJob, folder: Path, pods: int, timeout: float = 240.0) -> list[str]:
    """Start `pods` torchrun processes for `work`; their logs, once all exited 0."""
    config = folder / f"config-{time.monotonic_ns()}.json"
    config.write_text(json.dumps(work.to_wire()))
    port = free_ports(1)[0]
    argv = torchrun_command(
        pods, f"127.0.0.1:{port}", f"test-{port}", [*WORKLOAD, str(config)], restarts=0
    )
    argv = [sys.executable, *argv[1:]]
    env = {**os.environ, "POD_IP": "127.0.0.1", "OMP_NUM_THREADS": "1"}
    argv = [part.replace("$(POD_IP)", env["POD_IP"]) for part in argv]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(pods)
    ]
    logs = [p.communicate(timeout=timeout)[0] for p in procs]
    failed = [
        (p.returncode, log[-3000:]) for p, log in zip(procs, logs, strict=True) if p.returncode
    ]
    if failed:
        raise AssertionError(f"torchrun pods failed: {failed}")
    return logs
