"""A TrainingRun with `spec.distributed` renders a headless Service and an Indexed Job
of torchrun pods that meet at pod 0's DNS name."""

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from kubetrade_operator.api import TrainingRunSpec
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.distributed import RDZV_PORT, service_name
from kubetrade_operator.builders.training_run import build_training_children, job_name
from kubetrade_operator.settings import OperatorSettings

RUN = Owner("TrainingRun", "forecast", "research", "uid-f", 1)
SETTINGS = OperatorSettings()


def _spec(**spec: object) -> TrainingRunSpec:
    body = {"datasetRef": {"name": "prices"}, "algorithm": "CNN_LSTM", **spec}
    return TrainingRunSpec.model_validate(body)


def test_distributed_training_is_a_service_and_an_indexed_job_of_torchrun_pods() -> None:
    spec = _spec(distributed={"replicas": 3}, template={"resources": {"gpu": 1}})
    cm, svc, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS)
    name = job_name(RUN, spec)
    assert cm["metadata"]["name"] == job["metadata"]["name"] == name
    assert svc["kind"] == "Service" and svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["publishNotReadyAddresses"] is True
    assert svc["spec"]["selector"] == {"batch.kubernetes.io/job-name": name}
    assert svc["metadata"]["ownerReferences"][0]["uid"] == "uid-f"  # removed with the run
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 3
    pod = job["spec"]["template"]["spec"]
    assert pod["subdomain"] == svc["metadata"]["name"] == service_name(name)
    container = pod["containers"][0]
    command = container["command"]
    assert command[:3] == ["python", "-m", "torch.distributed.run"]
    assert "--nnodes=3" in command and "--nproc-per-node=1" in command
    endpoint = f"--rdzv-endpoint={name}-0.{service_name(name)}.research.svc:{RDZV_PORT}"
    assert endpoint in command and f"--rdzv-id={name}" in command
    assert "--local-addr=$(POD_IP)" in command
    assert command[-5:] == [
        "-m",
        "kubetrade_workloads",
        "train",
        "--config",
        "/etc/kubetrade/config.json",
    ]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["KUBETRADE_DDP_BACKEND"]["value"] == "auto"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"  # per pod
    assert json.loads(cm["data"]["config.json"])["training"]["algorithm"] == "CNN_LSTM"


def test_a_service_name_starts_with_a_letter() -> None:
    assert service_name("7day-train-abc") == "ddp-7day-train-abc"
    assert service_name("x" * 70)[:1] == "x" and len(service_name("x" * 70)) <= 63


def test_one_pod_when_distributed_is_unset() -> None:
    children = build_training_children(RUN, _spec(), "file:///d/manifest.json", SETTINGS)
    assert [c["kind"] for c in children] == ["ConfigMap", "Job"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"algorithm": "PPO", "distributed": {"replicas": 2}}, "available for CNN_LSTM"),
        ({"distributed": {"replicas": 1}}, "greater than or equal to 2"),
        ({"distributed": {"replicas": 2, "backend": "mpi"}}, "backend"),
    ],
)
def test_bad_distributed_specs_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _spec(**spec)


def test_the_example_is_a_valid_two_pod_run() -> None:
    example = Path(__file__).parents[2] / "examples" / "distributed" / "forecaster-ddp.yaml"
    body = yaml.safe_load(example.read_text())
    spec = TrainingRunSpec.model_validate(body["spec"])
    owner = Owner("TrainingRun", body["metadata"]["name"], "research", "uid", 1)
    _, svc, job = build_training_children(owner, spec, "file:///d/manifest.json", SETTINGS)
    assert job["spec"]["completions"] == 2 and svc["spec"]["clusterIP"] == "None"
