"""What to execute for a pod: argv, environment and working folder.

The image is ignored: the container's ``command`` + ``args`` run on this
machine. ``python``/``python3``/``python3.N`` (bare or as an absolute path) run
the node's own interpreter, so ``python -m kubetrade_workloads ...`` runs the
code of the checkout; other bare names are looked up in that interpreter's
``bin`` folder first, then on ``PATH``.

Pods here share the machine's network, not one namespace each: a container
port named ``metrics`` is served on a free port instead, handed to the
process as ``KUBETRADE_METRICS_PORT`` (two traders would otherwise collide).
For the same reason cluster DNS names (``<name>.<ns>.svc[.cluster.local]``, such
as a distributed Job's rendezvous at ``<job>-0.<service>.<ns>.svc``) in command,
args and env values are rewritten to ``127.0.0.1``: every pod here is on it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lightkube.models.core_v1 import Container
from lightkube.resources.core_v1 import Pod

from kubetrade_dev.controlplane import free_ports
from kubetrade_dev.pod_env import ObjectSource, PodFacts, PodSpecError, expand, resolve_env
from kubetrade_dev.pod_volumes import PathMapper, VolumeBuilder, container_mounts

_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
# `<service>.<namespace>.svc` or longer (a pod's `<host>.<service>.<namespace>.svc`):
# at least two labels before `svc`, so a file named `x.svc` is left alone.
_CLUSTER_NAME = re.compile(
    rf"(?<![\w.-]){_LABEL}(?:\.{_LABEL})+\.svc(?:\.cluster\.local)?(?![\w-])"
)


def to_loopback(text: str) -> str:
    """``text`` with every cluster DNS name replaced by this machine's address."""
    return _CLUSTER_NAME.sub("127.0.0.1", text)


@dataclass(frozen=True)
class LaunchPlan:
    """Everything needed to start the container's process."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    mounts: dict[str, Path]


@dataclass(frozen=True)
class PlanContext:
    """Node-wide inputs to planning."""

    pod_dir: Path
    claims_dir: Path
    base_env: Mapping[str, str]
    facts: PodFacts
    default_command: Sequence[str] = ()


def first_container(pod: Pod) -> Container:
    """The container the local node runs (sidecars and others are not run)."""
    if pod.spec is None or not pod.spec.containers:
        raise PodSpecError("NoContainers", "the pod has no containers")
    return pod.spec.containers[0]


def resolve_executable(name: str, env: Mapping[str, str]) -> str:
    """Map a container's executable to one on this machine."""
    base = os.path.basename(name)
    if _PYTHON.match(base):
        return sys.executable
    if "/" in name and Path(name).exists():
        return name
    # The interpreter's bin folder first: console scripts of the checkout
    # (trading-cli) live there even when the venv is not activated.
    search = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    return shutil.which(base, path=search) or name


def build_plan(pod: Pod, objects: ObjectSource, ctx: PlanContext) -> LaunchPlan:
    """Materialise the pod's volumes and work out its process.

    Raises MissingReference while a referenced ConfigMap/Secret is absent and
    PodSpecError when the pod cannot run here at all.
    """
    container = first_container(pod)
    volumes = VolumeBuilder(pod, ctx.pod_dir, ctx.claims_dir, objects, ctx.facts).build_all()
    mounts = container_mounts(container, volumes)
    mapper = PathMapper(mounts)

    def rewrite(text: str) -> str:
        return to_loopback(mapper.rewrite(text))

    pod_env = resolve_env(pod, container, objects, ctx.facts, rewrite=rewrite)
    command = list(container.command or ctx.default_command)
    if not command:
        raise PodSpecError(
            "NoCommand",
            "the local node needs spec.containers[0].command: it cannot read an image's entrypoint",
        )
    # Paths are rewritten before $(VAR) expansion so an expanded value, which
    # is already local, is never rewritten a second time.
    argv = [expand(rewrite(part), pod_env) for part in command + list(container.args or [])]
    env = {**ctx.base_env, **_port_env(container), **pod_env}
    argv[0] = resolve_executable(argv[0], env)
    return LaunchPlan(argv=argv, env=env, cwd=_working_dir(container, mapper, ctx), mounts=mounts)


METRICS_PORT_ENV = "KUBETRADE_METRICS_PORT"


def _port_env(container: Container) -> dict[str, str]:
    """A free port for a declared `metrics` port (the pod's own env still wins)."""
    if any(p.name == "metrics" for p in container.ports or []):
        return {METRICS_PORT_ENV: str(free_ports(1)[0])}
    return {}


def _working_dir(container: Container, mapper: PathMapper, ctx: PlanContext) -> Path:
    fallback = ctx.pod_dir / "cwd"
    if container.workingDir:
        mapped = mapper.rewrite(container.workingDir)
        if mapped != container.workingDir or Path(mapped).is_dir():
            Path(mapped).mkdir(parents=True, exist_ok=True)
            return Path(mapped)
    # An image's default folder (or a workingDir that only exists inside the
    # image) has no local twin: use a private folder of the pod.
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback
