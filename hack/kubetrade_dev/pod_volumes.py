"""Pod volumes as local folders, and container paths rewritten to them.

A process cannot see ``/etc/kubetrade`` the way a container does, so every
volume becomes a folder on this machine and every occurrence of a mount path
in the container's command, args, env values and workingDir is rewritten to
that folder. Where the folders live:

* ``configMap``, ``secret``, ``downwardAPI``, ``projected``: files written into
  ``<workdir>/pods/<namespace>_<pod>_<uid>/volumes/<volume>`` (``items`` honoured),
  rewritten at every container start;
* ``emptyDir`` and generic ``ephemeral``: the same per-pod folder, kept across
  container restarts and removed with the pod;
* ``persistentVolumeClaim``: ``<workdir>/volumes/<namespace>/<claimName>``, stable,
  so data outlives the pod exactly as a claim's volume would;
* ``hostPath``: the host path itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from lightkube.models.core_v1 import (
    Container,
    DownwardAPIVolumeFile,
    HostPathVolumeSource,
    KeyToPath,
    Volume,
    VolumeProjection,
)
from lightkube.resources.core_v1 import Pod

from kubetrade_dev.pod_env import (
    MissingReference,
    ObjectSource,
    PodFacts,
    PodSpecError,
    field_value,
)

# A mount path counts only as a whole leading path: "/data" matches "/data",
# "/data/x", "--out=/data/x" and "file:///data/x", never "/database" or "/srv/data".
_PATH_CHAR = r"[\w.\-]"


class PathMapper:
    """Rewrites container paths (mount paths) to local folders in one pass."""

    def __init__(self, mounts: Mapping[str, Path]) -> None:
        self.mounts = {_clean(path): local for path, local in mounts.items() if _clean(path) != "/"}
        # Longest first, so "/etc/kubetrade/data" wins over "/etc/kubetrade".
        ordered = sorted(self.mounts, key=len, reverse=True)
        alternatives = "|".join(re.escape(path) for path in ordered)
        self._pattern = (
            re.compile(rf"(?<!{_PATH_CHAR})({alternatives})(?=/|$|[^\w.\-])") if ordered else None
        )

    def rewrite(self, text: str) -> str:
        """``text`` with every mount path prefix replaced by its local folder."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: str(self.mounts[m[1]]), text)


def _clean(path: str) -> str:
    return str(PurePosixPath(path)) if path else path


def _safe_join(base: Path, relative: str) -> Path:
    # The API server already rejects ".." and absolute paths in items; this
    # keeps a hand-made pod from writing outside its own folder anyway.
    target = (base / relative).resolve()
    if not target.is_relative_to(base.resolve()):
        raise PodSpecError("InvalidVolumePath", f"path {relative!r} leaves the volume")
    return target


def _write_files(folder: Path, files: Iterable[tuple[str, bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for relative, content in files:
        target = _safe_join(folder, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _select(
    data: Mapping[str, bytes] | None,
    items: list[KeyToPath] | None,
    what: str,
    optional: bool,
) -> list[tuple[str, bytes]]:
    if data is None:
        if optional:
            return []
        raise MissingReference(f"{what} not found")
    if not items:
        return list(data.items())
    chosen = []
    for item in items:
        if item.key in data:
            chosen.append((item.path, data[item.key]))
        elif not optional:
            raise MissingReference(f"key {item.key!r} in {what} not found")
    return chosen


class VolumeBuilder:
    """Materialises the volumes of one pod into local folders."""

    def __init__(
        self, pod: Pod, pod_dir: Path, claims_dir: Path, objects: ObjectSource, facts: PodFacts
    ) -> None:
        self.pod = pod
        self.namespace = (pod.metadata.namespace if pod.metadata else None) or "default"
        self.pod_dir = pod_dir
        self.claims_dir = claims_dir
        self.objects = objects
        self.facts = facts

    def build_all(self) -> dict[str, Path]:
        """Local folder (or file) of every volume, by volume name."""
        volumes = (self.pod.spec.volumes if self.pod.spec else None) or []
        return {volume.name: self.build(volume) for volume in volumes}

    def build(self, volume: Volume) -> Path:
        """Create (and fill) the local folder of one volume."""
        own = self.pod_dir / "volumes" / volume.name
        if volume.emptyDir is not None or volume.ephemeral is not None:
            return _mkdir(own)
        if volume.persistentVolumeClaim is not None:
            claim = volume.persistentVolumeClaim.claimName
            return _mkdir(_safe_join(self.claims_dir, f"{self.namespace}/{claim}"))
        if volume.hostPath is not None:
            return _host_path(volume.hostPath)
        files = self._files(volume)
        if files is None:
            raise PodSpecError(
                "UnsupportedVolume",
                f"volume {volume.name!r}: its type is not supported by the local node",
            )
        _write_files(own, files)
        return own

    def _files(self, volume: Volume) -> list[tuple[str, bytes]] | None:
        if volume.configMap is not None:
            cm = volume.configMap
            data = self.objects.config_map(self.namespace, cm.name or "")
            return _select(data, cm.items, f"configmap {cm.name!r}", bool(cm.optional))
        if volume.secret is not None:
            sec = volume.secret
            data = self.objects.secret(self.namespace, sec.secretName or "")
            return _select(data, sec.items, f"secret {sec.secretName!r}", bool(sec.optional))
        if volume.downwardAPI is not None:
            return self._downward(volume.downwardAPI.items)
        if volume.projected is not None:
            parts = volume.projected.sources or []
            return [file for part in parts for file in self._projection(part)]
        return None

    def _downward(self, items: list[DownwardAPIVolumeFile] | None) -> list[tuple[str, bytes]]:
        return [
            (item.path, field_value(self.pod, item.fieldRef.fieldPath, self.facts).encode())
            for item in items or []
            if item.fieldRef is not None
        ]

    def _projection(self, part: VolumeProjection) -> list[tuple[str, bytes]]:
        if part.configMap is not None:
            cm = part.configMap
            data = self.objects.config_map(self.namespace, cm.name or "")
            return _select(data, cm.items, f"configmap {cm.name!r}", bool(cm.optional))
        if part.secret is not None:
            sec = part.secret
            data = self.objects.secret(self.namespace, sec.name or "")
            return _select(data, sec.items, f"secret {sec.name!r}", bool(sec.optional))
        if part.downwardAPI is not None:
            return self._downward(part.downwardAPI.items)
        # Service account tokens and trust bundles have no local meaning: a
        # workload reaches the API server through KUBETRADE_KUBECONFIG instead.
        return []


def _host_path(host: HostPathVolumeSource) -> Path:
    path = Path(host.path)
    if host.type == "FileOrCreate":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    elif host.type in (None, "", "DirectoryOrCreate") and not path.exists():
        path.mkdir(parents=True, exist_ok=True)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def container_mounts(container: Container, volumes: Mapping[str, Path]) -> dict[str, Path]:
    """Local path of each of the container's mount paths (``subPath`` honoured)."""
    mounts: dict[str, Path] = {}
    for mount in container.volumeMounts or []:
        if mount.name not in volumes:
            raise PodSpecError("UnknownVolume", f"volumeMount {mount.name!r} names no volume")
        local = volumes[mount.name]
        if mount.subPath:
            local = _safe_join(local, mount.subPath)
            if not local.exists():
                # The kubelet creates a missing subPath as a directory.
                local.mkdir(parents=True, exist_ok=True)
        mounts[mount.mountPath] = local
    return mounts
