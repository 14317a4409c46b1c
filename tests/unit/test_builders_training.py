import json

from kubetrade_operator.api import ModelSpec, TrainingRunSpec
from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.job_status import dataset_blocker
from kubetrade_operator.builders.model import build_evaluation_children, promotion
from kubetrade_operator.builders.training_run import (
    build_model,
    build_training_children,
    output_uri,
)
from kubetrade_operator.settings import OperatorSettings
from kubetrade_workloads.config.evaluation import Gates
from kubetrade_workloads.evaluation.gates import evaluate

RUN = Owner("TrainingRun", "ppo", "research", "uid-r", 1)
MODEL = Owner("Model", "ppo", "research", "uid-m", 1)
SETTINGS = OperatorSettings()


def _run(**spec: object) -> TrainingRunSpec:
    return TrainingRunSpec.model_validate({"datasetRef": {"name": "prices"}, **spec})


def test_training_job_carries_the_config_gpu_and_dataset() -> None:
    spec = _run(
        algorithm="SAC",
        sac={"batchSize": 128},
        template={"resources": {"gpu": 1}},
        resumeFrom="latest",
    )
    cm, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS)
    config = json.loads(cm["data"]["config.json"])
    assert config["datasetUri"] == "file:///d/manifest.json"
    assert config["resumeFrom"] == "latest"
    assert (
        config["training"]["algorithm"] == "SAC" and config["training"]["sac"]["batchSize"] == 128
    )
    assert config["outputUri"] == output_uri(RUN, spec, SETTINGS)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][3] == "train"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["image"] == SETTINGS.workload_gpu_image


def test_model_from_a_run_has_lineage_and_the_runs_gates_but_no_owner() -> None:
    spec = _run(modelName="ppo-v2", evaluation={"gates": {"minSharpe": 1.0}})
    model = build_model(RUN, spec, SETTINGS, "sha-1")
    assert model["metadata"]["name"] == "ppo-v2"
    assert "ownerReferences" not in model["metadata"]
    assert model["metadata"]["labels"]["kubetrade.io/trainingrun"] == "ppo"
    assert model["metadata"]["labels"]["kubetrade.io/dataset"] == "prices"
    assert model["metadata"]["annotations"]["kubetrade.io/dataset-checksum"] == "sha-1"
    assert model["spec"]["gates"]["minSharpe"] == 1.0
    assert model["spec"]["artifactUri"] == output_uri(RUN, spec, SETTINGS)
    ModelSpec.model_validate(model["spec"])  # what the operator applies is a valid Model


def test_evaluation_job_reads_the_model_and_dataset() -> None:
    spec = ModelSpec.model_validate({"artifactUri": "file:///m", "datasetRef": {"name": "prices"}})
    cm, job = build_evaluation_children(MODEL, spec, "file:///d/manifest.json", SETTINGS)
    config = json.loads(cm["data"]["config.json"])
    assert (config["modelUri"], config["datasetUri"]) == ("file:///m", "file:///d/manifest.json")
    assert config["outputUri"].startswith("file:///m/evaluation/")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][3] == "evaluate"


def test_gates_promote_or_reject_with_reasons() -> None:
    spec = ModelSpec.model_validate(
        {
            "artifactUri": "file:///m",
            "datasetRef": {"name": "p"},
            "gates": {"minSharpe": 1.0, "maxDrawdown": 0.2, "mustBeatBenchmark": True},
        }
    )
    good = {
        "metrics": {"sharpe": 1.5, "maxDrawdown": 0.1, "totalReturn": 0.3},
        "benchmarkMetrics": {"totalReturn": 0.2},
    }
    phase, ready, gates = promotion(spec, good)
    assert (phase, ready.status, ready.reason) == (Phase.READY, "True", "GatesPassed")
    assert [g["passed"] for g in gates] == [True, True, True]
    bad = {
        "metrics": {"sharpe": 0.5, "maxDrawdown": 0.3, "totalReturn": 0.1},
        "benchmarkMetrics": {"totalReturn": 0.2},
    }
    phase, ready, gates = promotion(spec, bad)
    assert (phase, ready.reason) == (Phase.REJECTED, "GatesFailed")
    assert "sharpe 0.5 vs minimum 1" in ready.message and "vs benchmark 0.2" in ready.message
    assert promotion(spec, {})[1].reason == "NoMetrics"


def test_a_short_lucky_window_cannot_promote() -> None:
    """Seen on the demo: Sharpe 1.28 over 99 test bars, behind buy-and-hold, went live.
    Test length, the Probabilistic Sharpe Ratio and the benchmark each stop it."""
    gates = Gates(min_sharpe=1.0, must_beat_benchmark=True, min_test_bars=250)
    lucky = {"sharpe": 1.28, "totalReturn": 0.04, "bars": 99, "probabilisticSharpe": 0.83}
    results = evaluate(
        gates.model_copy(update={"min_probabilistic_sharpe": 0.95}), lucky, {"totalReturn": 0.09}
    )
    verdicts = {r.name: (r.passed, r.message) for r in results}
    assert verdicts["minSharpe"][0] is True
    assert verdicts["mustBeatBenchmark"] == (False, "total return 0.04 vs benchmark 0.09")
    assert verdicts["minTestBars"] == (False, "test window 99 bars vs minimum 250")
    assert verdicts["minProbabilisticSharpe"] == (
        False,
        "probabilistic sharpe 0.83 vs minimum 0.95",
    )
    steady = {**lucky, "bars": 1500, "probabilisticSharpe": 0.999, "totalReturn": 0.4}
    results = evaluate(
        gates.model_copy(update={"min_probabilistic_sharpe": 0.95}), steady, {"totalReturn": 0.09}
    )
    assert all(r.passed for r in results)


def test_an_undefined_metric_fails_its_gate() -> None:
    results = evaluate(Gates(min_sharpe=0.0), {"sharpe": float("nan")}, {})
    assert [(r.passed, r.message) for r in results] == [(False, "sharpe undefined vs minimum 0")]


def test_dataset_blockers() -> None:
    assert dataset_blocker(None, "d").reason == "DatasetNotFound"  # type: ignore[union-attr]
    assert dataset_blocker({"status": {"phase": "Running"}}, "d").reason == "WaitingForDataset"  # type: ignore[union-attr]
    assert dataset_blocker({"status": {"phase": "Failed"}}, "d").reason == "DatasetFailed"  # type: ignore[union-attr]
    assert dataset_blocker({"status": {"phase": "Succeeded"}}, "d") is None
