import json

from kubetrade_operator.api import DatasetSpec
from kubetrade_operator.builders.common import MAX_NAME, Owner, child_name, revision
from kubetrade_operator.builders.dataset import build_dataset_children
from kubetrade_operator.settings import OperatorSettings

OWNER = Owner("Dataset", "prices", "research", "uid-1", 1)


def _children(spec: DatasetSpec, settings: OperatorSettings | None = None) -> tuple[dict, dict]:  # type: ignore[type-arg]
    cm, job = build_dataset_children(OWNER, spec, settings or OperatorSettings())
    return cm, job


def test_job_and_configmap_share_a_deterministic_name_and_owner() -> None:
    spec = DatasetSpec.model_validate({"source": {"symbols": ["AAPL", "MSFT"]}})
    cm, job = _children(spec)
    again_cm, again_job = _children(
        DatasetSpec.model_validate({"source": {"symbols": ["AAPL", "MSFT"]}})
    )
    assert job == again_job and cm == again_cm
    assert job["metadata"]["name"] == cm["metadata"]["name"] == f"prices-data-{revision(spec)}"
    ref = job["metadata"]["ownerReferences"][0]
    assert ref == {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "Dataset",
        "name": "prices",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubetrade"
    assert job["spec"]["template"]["metadata"]["labels"]["kubetrade.io/dataset"] == "prices"


def test_configmap_carries_the_typed_workload_config() -> None:
    cm, job = _children(DatasetSpec.model_validate({"source": {"symbols": ["AAPL"], "seed": 5}}))
    config = json.loads(cm["data"]["config.json"])
    assert config["owner"] == {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "Dataset",
        "name": "prices",
        "namespace": "research",
        "uid": "uid-1",
    }
    assert config["data"]["source"]["seed"] == 5
    assert config["outputUri"].startswith(
        "file:///var/lib/kubetrade/artifacts/research/datasets/prices/"
    )
    pod = job["spec"]["template"]["spec"]
    assert pod["volumes"][0] == {"name": "config", "configMap": {"name": cm["metadata"]["name"]}}
    assert pod["containers"][0]["command"][-2:] == ["--config", "/etc/kubetrade/config.json"]


def test_suspend_keeps_the_revision_other_edits_change_it() -> None:
    base = DatasetSpec.model_validate({})
    assert revision(base) == revision(DatasetSpec.model_validate({"suspend": True}))
    assert revision(base) != revision(DatasetSpec.model_validate({"source": {"seed": 1}}))
    _, job = _children(DatasetSpec.model_validate({"suspend": True}))
    assert job["spec"]["suspend"] is True


def test_resources_placement_and_job_policy_reach_the_job() -> None:
    spec = DatasetSpec.model_validate(
        {
            "template": {
                "resources": {
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"memory": 2},
                    "gpu": 1,
                },
                "nodeSelector": {"pool": "gpu"},
                "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
            },
            "job": {"backoffLimit": 0, "activeDeadlineSeconds": 60, "ttlSecondsAfterFinished": 30},
        }
    )
    _, job = _children(spec, OperatorSettings(workload_gpu_image="gpu:1"))
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "2", "nvidia.com/gpu": "1"},
    }
    assert container["image"] == "gpu:1"
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert (
        job["spec"]["backoffLimit"],
        job["spec"]["activeDeadlineSeconds"],
        job["spec"]["ttlSecondsAfterFinished"],
    ) == (0, 60, 30)


def test_no_resources_are_requested_by_default_and_pods_are_restricted() -> None:
    _, job = _children(DatasetSpec())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_long_names_are_shortened_within_label_limits() -> None:
    owner = Owner("Dataset", "x" * 200, "ns", "u", 1)
    name = child_name(owner, "data", "abcd1234")
    assert len(name) <= MAX_NAME
    assert name != child_name(Owner("Dataset", "x" * 199 + "y", "ns", "u", 1), "data", "abcd1234")
    _, job = build_dataset_children(owner, DatasetSpec(), OperatorSettings())
    assert all(len(v) <= 63 for v in job["metadata"]["labels"].values())
