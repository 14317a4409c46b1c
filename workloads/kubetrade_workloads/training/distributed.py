"""Data-parallel training across processes (and pods): who this process is, and the
few collective steps the forecaster's loop needs.

torchrun starts one process per pod and sets RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT after its rendezvous; a process started any other way is a world of
one, and every function here is then a no-op, so the single-pod path stays the
same code.

Every rank walks the same shuffled global batches (seeded per epoch) and takes an
equal slice of each. Its loss is the slice's summed error divided by the global
batch size times the world size; DDP averages gradients over the world, so each
step applies exactly the gradient one process would take on the whole batch.
That is why N pods reach the single pod's loss (up to float summation order).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

BACKEND_ENV = "KUBETRADE_DDP_BACKEND"
"""`gloo`, `nccl` or `auto` (NCCL on a GPU, gloo on a CPU); set by the operator."""

TIMEOUT_ENV = "KUBETRADE_DDP_TIMEOUT_SECONDS"
"""How long a collective waits for a lost peer before the group fails and restarts."""


@dataclass(frozen=True)
class World:
    """This process's place in the training group."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """The rank that checkpoints, reports progress and publishes."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process trains."""
        return self.size > 1

    @classmethod
    def from_env(cls) -> World:
        """The world torchrun describes in the environment (one process if none)."""
        size = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), size) if size > 1 else SOLO


SOLO = World()
"""A process that trains alone: every collective below is a no-op for it."""


def backend_for(on: torch.device) -> str:
    """NCCL between GPUs, gloo between CPUs, unless the operator named one."""
    wanted = os.environ.get(BACKEND_ENV, "auto").lower()
    if wanted != "auto":
        return wanted
    return "nccl" if on.type == "cuda" else "gloo"


def join(world: World, on: torch.device) -> None:
    """Join the process group (torchrun's env:// rendezvous already happened)."""
    if not world.distributed or dist.is_initialized():
        return
    timeout = dt.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, "300")))
    dist.init_process_group(backend_for(on), timeout=timeout)


def leave(world: World) -> None:
    """Leave the process group once training is over."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def device_for(world: World, on: torch.device) -> torch.device:
    """One GPU per process: the local rank's, when training on GPUs."""
    if on.type != "cuda" or not world.distributed:
        return on
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def share(world: World, batch: np.ndarray) -> np.ndarray:
    """This rank's slice of one global batch (every rank gets an equal share, +-1)."""
    return batch[world.rank :: world.size] if world.distributed else batch


def loss_weight(world: World, global_batch: int) -> float:
    """What a rank's summed loss is multiplied by so DDP's averaged gradient is the
    gradient of the global batch's mean loss."""
    return world.size / max(global_batch, 1)


def total(world: World, *values: float) -> tuple[float, ...]:
    """`values` summed over every rank (unchanged in a world of one)."""
    if not world.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return tuple(float(v) for v in t.tolist())


def same_everywhere(world: World, value: Any) -> Any:
    """The main rank's `value` on every rank (which checkpoint to resume, say)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
