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


def _refused(
    api: k8s.CustomObjectsApi, namespace: str, name: str, body: Any, field: str, says: str
) -> None:
    """The API server refuses `body` with a 422 naming `field`; a local run refuses it too."""
    with pytest.raises(k8s.ApiException) as info:
        _create(api, namespace, name, body)
    status = json.loads(info.value.body or "{}")
    assert info.value.status == 422, status["message"]
    assert field in status["message"] and says in status["message"], status["message"]
    with pytest.raises(ValidationError):
        TRAINING_RUN.spec.model_validate(body)


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
    _refused(api, namespace, f"bad-{case}", body, field, says)


FORECASTER = [{"name": "hiddenSize", "type": "categorical", "choices": [32, 64]}]
HYBRID: dict[str, Any] = {
    "hybrid": {"rlAlgorithm": "SAC"},
    "environment": {"actionSpace": "continuous"},
}
MODELS = [
    ("hybrid-unqualified", "HYBRID", {"space": GOOD},
     "spec.search.space", "HYBRID (rlAlgorithm SAC) hyperparameters"),
    ("hybrid-other-agent", "HYBRID",
     {"space": [{"name": "ppo.gamma", "low": 0.9, "high": 0.99}]},
     "spec.search.space", "sac.tau"),
    ("forecaster-unknown", "CNN_LSTM",
     {"space": [{"name": "gamma", "low": 0.9, "high": 0.99}], "pruner": "none"},
     "spec.search.space", "CNN_LSTM hyperparameters"),
    ("forecaster-pruned-on-sharpe", "CNN_LSTM", {"space": FORECASTER},
     "spec.search.pruner", "objective validationLoss"),
    ("forecaster-loss-maximised", "CNN_LSTM", {"space": FORECASTER, "objective": "validationLoss"},
     "spec.search.direction", "direction minimize"),
    ("agent-on-loss", "PPO",
     {"space": GOOD, "objective": "validationLoss", "direction": "minimize", "pruner": "none"},
     "spec.search.objective", "CNN_LSTM forecaster"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "algorithm", "search", "field", "says"), MODELS, ids=[m[0] for m in MODELS]
)
def test_forecaster_and_hybrid_spaces_are_checked_against_their_own_blocks(
    api: k8s.CustomObjectsApi,
    namespace: str,
    case: str,
    algorithm: str,
    search: dict[str, Any],
    field: str,
    says: str,
) -> None:
    extra = HYBRID if algorithm == "HYBRID" else {}
    body = spec(TRAINING_RUN, algorithm=algorithm, search=search, **extra)
    _refused(api, namespace, f"bad-{case}", body, field, says)


def test_forecaster_and_hybrid_searches_are_accepted(
    api: k8s.CustomObjectsApi, namespace: str
) -> None:
    forecaster = {"space": FORECASTER, "objective": "validationLoss", "direction": "minimize"}
    hybrid = {"space": [{"name": "cnnLstm.dropout", "low": 0.0, "high": 0.4},
                        {"name": "sac.tau", "low": 0.001, "high": 0.02, "log": True},
                        {"name": "hybrid.cnnWeight", "low": 0.1, "high": 0.6}]}  # fmt: skip
    made = _create(api, namespace, "cnn-sweep", spec(TRAINING_RUN, algorithm="CNN_LSTM",
                                                     search=forecaster))  # fmt: skip
    assert made["spec"]["search"]["objective"] == "validationLoss"
    made = _create(api, namespace, "hybrid-sweep", spec(TRAINING_RUN, algorithm="HYBRID",
                                                        search=hybrid, **HYBRID))  # fmt: skip
    assert [p["name"] for p in made["spec"]["search"]["space"]][-1] == "hybrid.cnnWeight"


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
