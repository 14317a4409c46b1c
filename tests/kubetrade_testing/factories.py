"""Small factories for kubetrade test objects, and helpers to read them back."""

from __future__ import annotations

import copy
from typing import Any

from lightkube import Client, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.types import PatchType

from kubetrade_operator.api import GROUP, KINDS, VERSION

RESOURCES = {k.kind: create_namespaced_resource(GROUP, VERSION, k.kind, k.plural) for k in KINDS}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def manifest(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A kubetrade resource of `kind` with `spec`."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def dataset(name: str = "ds", **spec: Any) -> dict[str, Any]:
    """A small synthetic Dataset; keyword arguments merge into the spec."""
    base = {
        "source": {
            "type": "synthetic",
            "symbols": ["AAA", "BBB"],
            "start": "2021-01-01",
            "end": "2021-06-01",
        }
    }
    return manifest("Dataset", name, _merge(base, spec))


def training_run(name: str = "tr", dataset_name: str = "ds", **spec: Any) -> dict[str, Any]:
    """A PPO TrainingRun on `dataset_name`."""
    return manifest(
        "TrainingRun",
        name,
        _merge({"datasetRef": {"name": dataset_name}, "algorithm": "PPO"}, spec),
    )


def model(name: str = "m", dataset_name: str = "ds", **spec: Any) -> dict[str, Any]:
    """A Model evaluated on `dataset_name`."""
    base = {"artifactUri": "file:///tmp/model", "datasetRef": {"name": dataset_name}}
    return manifest("Model", name, _merge(base, spec))


def trading_session(name: str = "ts", model_name: str = "m", **spec: Any) -> dict[str, Any]:
    """A paper TradingSession on `model_name`."""
    return manifest("TradingSession", name, _merge({"modelRef": {"name": model_name}}, spec))


def quick_training_run(name: str, dataset_name: str, **spec: Any) -> dict[str, Any]:
    """A PPO run of 256 steps whose Model is `name` and passes any Sharpe: the
    lifecycle in a minute or two of CPU, for end-to-end tests."""
    base = {
        "modelName": name,
        "totalTimesteps": 256,
        "ppo": {"nSteps": 64, "batchSize": 32, "nEpochs": 1},
        "environment": {"window": 10},
        "evaluation": {"gates": {"minSharpe": -10.0}},
    }
    return training_run(name, dataset_name, **_merge(base, spec))


def create(client: Client, obj: dict[str, Any], namespace: str) -> None:
    """Create `obj` in `namespace`."""
    client.create(codecs.from_dict(_merge(obj, {"metadata": {"namespace": namespace}})))


def get(client: Client, kind: str, name: str, namespace: str) -> dict[str, Any]:
    """A kubetrade resource as a plain dict."""
    obj: dict[str, Any] = client.get(RESOURCES[kind], name, namespace=namespace).to_dict()  # type: ignore[no-untyped-call]
    return obj


def in_phase(
    client: Client, kind: str, name: str, namespace: str, *done: str
) -> dict[str, Any] | None:
    """The resource once its status phase is one of `done`; None before (for wait_until)."""
    obj = get(client, kind, name, namespace)
    return obj if (obj.get("status") or {}).get("phase") in done else None


def status(client: Client, kind: str, name: str, namespace: str) -> dict[str, Any]:
    """A kubetrade resource's status (empty before the first report)."""
    return dict(get(client, kind, name, namespace).get("status") or {})


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    """The status condition of `type_`, if any."""
    conds = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conds if c.get("type") == type_), None)


def mark_evaluated(client: Client, name: str, namespace: str) -> dict[str, Any] | None:
    """Make Model `name` Ready as if evaluated elsewhere (its Job long gone), so a
    TradingSession can start its trader without training; the Model once Ready.

    The operator's own first write (Pending, while it waits for the Dataset) can
    land after this patch: call it until it returns the Model (`wait_until`). Once
    a `jobName` is there the operator leaves the Model as it is.
    """
    found = status(client, "Model", name, namespace)
    if found.get("phase") == "Ready" and found.get("jobName"):
        return found
    evaluated = {"phase": "Ready", "jobName": f"{name}-evaluate-0", "observedGeneration": 1}
    client.patch(
        RESOURCES["Model"].Status,
        name,
        {"status": evaluated},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    return None
