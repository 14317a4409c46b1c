"""A container's environment, resolved the way the kubelet resolves it.

Order and precedence follow the kubelet (``makeEnvironmentVariables``): every
``envFrom`` source in turn (a later source wins a duplicate key), then every
``env`` entry in turn (an entry wins over ``envFrom``). Only literal ``value``
strings are ``$(VAR)``-expanded, against the variables defined before them;
values read from ConfigMaps, Secrets and fields are taken verbatim.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from lightkube.models.core_v1 import (
    ConfigMapKeySelector,
    Container,
    EnvVar,
    EnvVarSource,
    SecretKeySelector,
)
from lightkube.resources.core_v1 import Pod

# The kubelet skips envFrom keys that are not valid variable names; with relaxed
# validation (the default in current Kubernetes) that is any name without "=".
_ENV_KEY = re.compile(r"^[^=]+$")


Rewrite = Callable[[str], str]


class MissingReference(Exception):
    """A ConfigMap, Secret or key the pod needs does not exist (yet).

    The kubelet keeps such a pod waiting (``CreateContainerConfigError``) and
    retries, because the object is often created moments after the pod.
    """


class PodSpecError(Exception):
    """The pod cannot be run by the local node at all; ``reason`` is CamelCase."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ObjectSource(Protocol):
    """Reads the data of ConfigMaps and Secrets; None when the object is absent."""

    def config_map(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        """Data and binaryData of a ConfigMap, as bytes."""

    def secret(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        """Decoded data of a Secret."""


@dataclass(frozen=True)
class PodFacts:
    """Facts the downward API exposes that are not in the Pod object itself."""

    node_name: str
    pod_ip: str
    host_ip: str


def decode_config_map(
    data: Mapping[str, str] | None, binary: Mapping[str, str] | None
) -> dict[str, bytes]:
    """ConfigMap ``data`` and base64 ``binaryData`` as one bytes mapping."""
    out = {key: value.encode() for key, value in (data or {}).items()}
    out.update({key: base64.b64decode(value) for key, value in (binary or {}).items()})
    return out


def decode_secret(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """Secret ``data`` (base64 on the wire) as bytes."""
    return {key: base64.b64decode(value) for key, value in (data or {}).items()}


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` references exactly as Kubernetes does.

    ``$$`` becomes ``$``; an unknown ``$(VAR)`` and an unterminated ``$(`` are
    kept as written; a ``$`` before any other character is kept.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            end = text.find(")", i + 2) if nxt == "(" else -1
            if end != -1:
                name = text[i + 2 : end]
                out.append(env.get(name, text[i : end + 1]))
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def field_value(pod: Pod, path: str, facts: PodFacts) -> str:
    """The downward-API value of ``fieldRef.fieldPath`` for this pod."""
    meta = pod.metadata
    simple: dict[str, Callable[[], str | None]] = {
        "metadata.name": lambda: meta.name if meta else None,
        "metadata.namespace": lambda: meta.namespace if meta else None,
        "metadata.uid": lambda: meta.uid if meta else None,
        "spec.nodeName": lambda: facts.node_name,
        "spec.serviceAccountName": lambda: pod.spec.serviceAccountName if pod.spec else None,
        "status.podIP": lambda: facts.pod_ip,
        "status.podIPs": lambda: facts.pod_ip,
        "status.hostIP": lambda: facts.host_ip,
        "status.hostIPs": lambda: facts.host_ip,
    }
    if path in simple:
        return simple[path]() or ""
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        source = (meta.labels if match[1] == "labels" else meta.annotations) if meta else None
        return str((source or {}).get(match[2], ""))
    if path in ("metadata.labels", "metadata.annotations"):
        source = (meta.labels if path.endswith("labels") else meta.annotations) if meta else None
        return "\n".join(f'{k}="{v}"' for k, v in sorted((source or {}).items()))
    raise PodSpecError("UnsupportedFieldRef", f"fieldRef {path!r} is not supported")


def _key_ref(
    objects: ObjectSource, namespace: str, ref: ConfigMapKeySelector | SecretKeySelector
) -> str | None:
    kind = "ConfigMap" if isinstance(ref, ConfigMapKeySelector) else "Secret"
    read = objects.config_map if kind == "ConfigMap" else objects.secret
    data = read(namespace, ref.name or "")
    if data is None or ref.key not in data:
        if ref.optional:
            return None
        name, key = ref.name, ref.key
        what = f"{kind.lower()} {name!r}" if data is None else f"key {key!r} in {kind} {name!r}"
        raise MissingReference(f"{what} not found")
    return data[ref.key].decode(errors="replace")


def _value_from(
    source: EnvVarSource, pod: Pod, container: Container, objects: ObjectSource, facts: PodFacts
) -> str | None:
    namespace = (pod.metadata.namespace if pod.metadata else None) or "default"
    if source.fieldRef is not None:
        return field_value(pod, source.fieldRef.fieldPath, facts)
    if source.configMapKeyRef is not None:
        return _key_ref(objects, namespace, source.configMapKeyRef)
    if source.secretKeyRef is not None:
        return _key_ref(objects, namespace, source.secretKeyRef)
    if source.resourceFieldRef is not None:
        # Approximation: the raw quantity of limits.X or requests.X as the
        # container states it, no divisor arithmetic. Nothing in kubetrade uses it.
        resource = source.resourceFieldRef.resource
        kind, _, name = resource.partition(".")
        res = container.resources
        table = (res.limits if kind == "limits" else res.requests) if res else None
        return str((table or {}).get(name, ""))
    raise PodSpecError("UnsupportedEnvSource", "env valueFrom has no supported source")


def _from_sources(
    pod: Pod, container: Container, objects: ObjectSource, rewrite: Rewrite
) -> dict[str, str]:
    namespace = (pod.metadata.namespace if pod.metadata else None) or "default"
    env: dict[str, str] = {}
    for source in container.envFrom or []:
        if source.configMapRef is not None:
            ref = source.configMapRef
            data = objects.config_map(namespace, ref.name or "")
            kind, name, optional = "configmap", ref.name, bool(ref.optional)
        elif source.secretRef is not None:
            ref2 = source.secretRef
            data = objects.secret(namespace, ref2.name or "")
            kind, name, optional = "secret", ref2.name, bool(ref2.optional)
        else:
            continue
        if data is None:
            if optional:
                continue
            raise MissingReference(f"{kind} {name!r} not found")
        for key, value in data.items():
            full = (source.prefix or "") + key
            if _ENV_KEY.match(full):
                env[full] = rewrite(value.decode(errors="replace"))
    return env


def resolve_env(
    pod: Pod,
    container: Container,
    objects: ObjectSource,
    facts: PodFacts,
    rewrite: Rewrite = str,
) -> dict[str, str]:
    """The container's environment from ``envFrom`` and ``env``, as the kubelet builds it.

    ``rewrite`` maps container paths to local ones; it is applied to every value
    once, before ``$(VAR)`` expansion, so expanded text is never rewritten twice.
    Raises MissingReference for an absent non-optional ConfigMap/Secret/key and
    PodSpecError for a source the local node cannot provide.
    """
    env = _from_sources(pod, container, objects, rewrite)
    for var in container.env or []:
        value = _one_var(var, env, pod, container, objects, facts, rewrite)
        if value is not None:
            env[var.name] = value
    return env


def _one_var(
    var: EnvVar,
    env: Mapping[str, str],
    pod: Pod,
    container: Container,
    objects: ObjectSource,
    facts: PodFacts,
    rewrite: Rewrite,
) -> str | None:
    if var.valueFrom is not None:
        raw = _value_from(var.valueFrom, pod, container, objects, facts)
        return None if raw is None else rewrite(raw)
    return expand(rewrite(var.value or ""), env)
