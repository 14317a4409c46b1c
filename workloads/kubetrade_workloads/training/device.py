"""Where training runs: the GPU when there is one and it helps, the CPU otherwise."""

from __future__ import annotations

import torch

from ..config.training import Algorithm, Device

# stable-baselines3's PPO and A2C with an MLP policy run faster on the CPU:
# their networks are tiny and each step is a batch of one rollout row, so a
# GPU spends its time on transfers. `auto` keeps them there.
_CPU_FIRST = (Algorithm.PPO, Algorithm.A2C)


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""


def pick(device: Device | str, algorithm: Algorithm | str) -> torch.device:
    """The torch device for one model: `cuda` when asked or useful and present, else `cpu`.

    Raises DeviceError when `cuda` is asked for explicitly and no GPU is visible,
    so a TrainingRun that requested a GPU fails loudly instead of crawling on a CPU.
    """
    wanted = Device(device)
    cuda = torch.cuda.is_available()
    if wanted == Device.CUDA and not cuda:
        raise DeviceError("device cuda was requested but no GPU is visible to torch")
    if wanted == Device.CPU or not cuda:
        return torch.device("cpu")
    if wanted == Device.AUTO and Algorithm(algorithm) in _CPU_FIRST:
        return torch.device("cpu")
    return torch.device("cuda")
