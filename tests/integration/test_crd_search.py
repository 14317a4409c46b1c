"""The API server rejects a bad hyperparameter search, naming the field, and keeps
the search status the tuning workers write (printer columns Trials and Best)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from pydantic import ValidationError

from kubetrade_operator.api import GROUP, TRAINING_RUN, VERSION
from kubetrade_testing.specs import manifest, spec

pytestmark = pytest.mark.integration

GOOD = [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}]


@pytest.fixture(scope="module")
def api(kubeconfig: Path, crds: list[str]) -> Iterator[k8s.CustomObjectsApi]:
    client = k8s_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        yield k8s.CustomObjectsApi(client)
    finally:
        client.close()


def _create(api: k8s.CustomObjectsApi, namespace: str, name: str, body: dict[str, Any]) -> Any:
    return api.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        TRAINING_RUN.plural,
        manifest(TRAINING_RUN, name, body),
        field_validation="Strict",
    )


BAD = [
    ("unknown-hyperparameter", {"space": [{"name": "bufferSize", "low": 1000, "high": 5000}]},
     "spec.search.space", "PPO hyperparameters"),
    ("empty-range", {"space": [{"name": "gamma", "low": 0.99, "high": 0.99}]},
     "spec.search.space[0].low", "low < high"),
    ("categorical-without-choices", {"space": [{"name": "gamma", "type": "categorical"}]},
     "spec.search.space[0].choices", "needs choices"),
    ("log-from-zero", {"space": [{"name": "entCoef", "low": 0, "high": 0.1, "log": True}]},
     "spec.search.space[0].low", "low > 0"),
    ("unknown-sampler", {"space": GOOD, "sampler": "bayes"}, "spec.search.sampler", "bayes"),
    ("no-space", {"space": []}, "spec.search.space", "1 item"),
    ("grid-of-ranges", {"space": GOOD, "sampler": "grid"}, "spec.search.sampler", "grid"),
    ("twice", {"space": GOOD * 2, "pruner": "none"}, "spec.search.space", "twice"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "search", "field", "says"), BAD, ids=[b[0] for b in BAD])
def test_the_api_server_rejects_a_bad_search_naming_the_field(
    api: k8s.CustomObjectsApi,
    namespace: str,
    case: str,
    search: dict[str, Any],
    field: str,
    says: str,
) -> None:
    body = spec(TRAINING_RUN, algorithm="PPO", search=search)
    with pytest.raises(k8s.ApiException) as info:
        _create(api, namespace, f"bad-{case}", body)
    status = json.loads(info.value.body or "{}")
    assert info.value.status == 422, status["message"]
    assert field in status["message"] and says in status["message"], status["message"]
    with pytest.raises(ValidationError):  # a local run refuses it too
        TRAINING_RUN.spec.model_validate(body)


def test_a_good_search_is_accepted_defaulted_and_its_status_kept(
    api: k8s.CustomObjectsApi, namespace: str
) -> None:
    body = spec(TRAINING_RUN, algorithm="PPO", search={"space": GOOD, "parallelism": 3})
    created = _create(api, namespace, "sweep", body)
    search = created["spec"]["search"]
    assert (search["sampler"], search["pruner"], search["maxTrials"]) == ("tpe", "median", 20)
    status = {"search": {"trials": 5, "completed": 3, "pruned": 2, "bestValue": 1.5,
                         "bestParams": {"learningRate": 0.001}}}  # fmt: skip
    patched = api.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, TRAINING_RUN.plural, "sweep", {"status": status}
    )
    assert patched["status"]["search"] == status["search"]
