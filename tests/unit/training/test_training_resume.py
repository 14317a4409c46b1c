"""A training process killed mid-run resumes from its latest complete checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kubetrade_testing import training
from kubetrade_workloads.training import job
from kubetrade_workloads.training.checkpoints import CheckpointStore
from kubetrade_workloads.training.progress import Progress


def _wait_for_checkpoints(
    store: CheckpointStore, count: int, proc: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        if len(store._steps()) >= count:
            return
        if proc.poll() is not None:
            raise AssertionError(
                f"training exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        time.sleep(0.05)
    raise AssertionError("no checkpoints within 150 s")


def test_killed_training_resumes_and_the_step_count_continues(tmp_path: Path) -> None:
    work = training.job(tmp_path, "PPO", totalTimesteps=1_000_000, checkpointEvery=64)
    config = tmp_path / "config.json"
    config.write_text(work.model_dump_json(by_alias=True))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    store = CheckpointStore(f"{work.output_uri}/checkpoints/rl")
    with subprocess.Popen(
        [sys.executable, "-m", "kubetrade_workloads", "train", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            _wait_for_checkpoints(store, 3, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "out" / "model_card.json").exists()

    newest = store.latest()
    assert newest is not None and newest.steps >= 192
    # The newest checkpoint is damaged too: resuming must fall back to the one before it.
    (
        tmp_path / "out" / "checkpoints" / "rl" / f"step-{newest.steps:012d}" / "policy.zip"
    ).write_bytes(b"")
    previous = store.latest()
    assert previous is not None and previous.steps == newest.steps - 64

    seen: list[Progress] = []
    resumed = work.model_copy(
        update={
            "resume_from": "latest",
            "training": training.config(
                "PPO", totalTimesteps=previous.steps + 64, checkpointEvery=64
            ),
        }
    )
    result = job.run(resumed, sink=seen.append)
    assert seen[0].steps > previous.steps  # counting on from the checkpoint, not from zero
    assert result.card.steps >= previous.steps + 64
    assert result.checkpoint_uri is not None and result.checkpoint_uri.endswith(
        f"{result.card.steps:012d}"
    )
