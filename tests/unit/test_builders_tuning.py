"""A TrainingRun with a search renders an Indexed Job of tuning workers."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from kubetrade_operator.api import TrainingRunSpec
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.training_run import (
    build_training_children,
    job_name,
    new_run_reset,
    output_uri,
)
from kubetrade_operator.settings import OperatorSettings
from kubetrade_workloads.config.training import search_names

RUN = Owner("TrainingRun", "sweep", "research", "uid-s", 1)
SETTINGS = OperatorSettings()
SPACE = [
    {"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True},
    {"name": "nSteps", "type": "int", "low": 32, "high": 256, "step": 32},
    {"name": "gamma", "type": "categorical", "choices": [0.95, 0.99]},
]


FORECASTER = [{"name": "hiddenSize", "type": "categorical", "choices": [32, 64]}]


def _run(search: dict[str, object] | None = None, **spec: object) -> TrainingRunSpec:
    body: dict[str, object] = {"datasetRef": {"name": "prices"}, "algorithm": "PPO", **spec}
    if spec.get("algorithm") == "HYBRID":
        body["hybrid"] = {}
    if search is not None:
        body["search"] = search
    return TrainingRunSpec.model_validate(body)


def test_a_search_becomes_an_indexed_job_of_tune_workers() -> None:
    spec = _run({"space": SPACE, "maxTrials": 12, "parallelism": 3, "pruner": "hyperband"})
    cm, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS)
    assert job["metadata"]["name"] == job_name(RUN, spec) == cm["metadata"]["name"]
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 3
    pod = job["spec"]["template"]["spec"]
    command = pod["containers"][0]["command"]
    assert command[:4] == ["python", "-m", "kubetrade_workloads", "tune"]
    config = json.loads(cm["data"]["config.json"])
    assert config["outputUri"] == output_uri(RUN, spec, SETTINGS)
    assert config["training"]["search"]["maxTrials"] == 12
    assert config["training"]["search"]["pruner"] == "hyperband"
    assert not any(v.get("secret") for v in pod["volumes"])  # journal file: no Secret


def test_a_postgres_secret_is_mounted_into_every_worker() -> None:
    spec = _run({"space": SPACE, "storageSecretRef": {"name": "optuna-db"}})
    _, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS)
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert {"name": "credentials", "secret": {"secretName": "optuna-db"}} in volumes


def test_a_run_without_search_stays_a_single_train_pod() -> None:
    _, job = build_training_children(RUN, _run(), "file:///d/manifest.json", SETTINGS)
    assert "completionMode" not in job["spec"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][3] == "train"


def test_search_names_are_the_algorithms_own_hyperparameters() -> None:
    assert {"learningRate", "nSteps", "clipRange", "entCoef"} <= set(search_names("PPO"))
    assert "bufferSize" in search_names("SAC") and "bufferSize" not in search_names("PPO")
    assert "mixedPrecision" not in search_names("CNN_LSTM")  # booleans are not searched
    # HYBRID's name their block: the forecaster and the agent share `learningRate`.
    hybrid = search_names("HYBRID", "SAC")
    assert {"cnnLstm.learningRate", "sac.learningRate", "sac.tau", "hybrid.cnnWeight"} <= set(
        hybrid
    )
    assert "learningRate" not in hybrid and "ppo.learningRate" not in hybrid
    assert "hybrid.rlWeight" not in hybrid  # it follows cnnWeight: they sum to 1


@pytest.mark.parametrize(
    ("algorithm", "search"),
    [
        ("CNN_LSTM", {"space": FORECASTER, "objective": "validationLoss", "direction": "minimize"}),
        ("CNN_LSTM", {"space": FORECASTER, "pruner": "none"}),
        ("HYBRID", {"space": [{"name": "cnnLstm.dropout", "low": 0.0, "high": 0.4},
                              {"name": "ppo.gamma", "low": 0.9, "high": 0.999},
                              {"name": "hybrid.cnnWeight", "low": 0.1, "high": 0.6}]}),
    ],
)  # fmt: skip
def test_forecaster_and_hybrid_searches_are_accepted(
    algorithm: str, search: dict[str, object]
) -> None:
    assert _run(search, algorithm=algorithm).search is not None


@pytest.mark.parametrize(
    ("search", "algorithm", "message"),
    [
        ({"space": [{"name": "bufferSize", "low": 1, "high": 2}]}, "PPO", "PPO hyperparameters"),
        ({"space": [{"name": "gamma", "low": 0.99, "high": 0.9}]}, "PPO", "low < high"),
        ({"space": [{"name": "gamma", "type": "categorical"}]}, "PPO", "needs choices"),
        ({"space": [{"name": "entCoef", "low": 0, "high": 0.1, "log": True}]}, "PPO", "low > 0"),
        ({"space": []}, "PPO", "at least 1"),
        ({"space": SPACE, "sampler": "grid"}, "PPO", "grid sampler"),
        ({"space": SPACE, "objective": "validationMaxDrawdown"}, "PPO", "needs objective"),
        ({"space": SPACE[:1] * 2, "pruner": "none"}, "PPO", "twice"),
        ({"space": SPACE[1:2], "pruner": "none"}, "CNN_LSTM", "CNN_LSTM hyperparameters"),
        ({"space": FORECASTER}, "CNN_LSTM", "pruning needs objective validationLoss"),
        ({"space": FORECASTER, "objective": "validationLoss"}, "CNN_LSTM", "direction minimize"),
        ({"space": FORECASTER, "pruner": "none", "trialTimesteps": 9}, "CNN_LSTM", "epochs"),
        ({"space": SPACE, "objective": "validationLoss", "direction": "minimize"}, "PPO",
         "validationLoss is the CNN_LSTM"),
        ({"space": SPACE[:1]}, "HYBRID", r"HYBRID \(rlAlgorithm PPO\) hyperparameters"),
        ({"space": [{"name": "sac.tau", "low": 0.001, "high": 0.01}]}, "HYBRID", "ppo.gamma"),
        ({"space": [{"name": "hybrid.rlWeight", "low": 0.1, "high": 0.5}]}, "HYBRID",
         "hybrid.cnnWeight"),
        ({"space": SPACE[:1], "maxTrials": 0}, "PPO", "maxTrials"),
    ],
)  # fmt: skip
def test_bad_searches_are_refused_naming_the_problem(
    search: dict[str, object], algorithm: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _run(search, algorithm=algorithm)


def test_the_example_sweep_is_a_valid_run() -> None:
    import yaml

    example = Path(__file__).parents[2] / "examples" / "tuning" / "trainingrun-search.yaml"
    spec = TrainingRunSpec.model_validate(yaml.safe_load(example.read_text())["spec"])
    assert spec.search is not None and spec.search.parallelism == 3
    assert spec.evaluation is not None and spec.evaluation.gates.min_deflated_sharpe == 0.9


@pytest.mark.parametrize(
    ("name", "algorithm"), [("forecaster-search", "CNN_LSTM"), ("hybrid-search", "HYBRID")]
)
def test_the_forecaster_and_hybrid_example_sweeps_are_valid_runs(name: str, algorithm: str) -> None:
    import yaml

    example = Path(__file__).parents[2] / "examples" / "tuning" / f"{name}.yaml"
    spec = TrainingRunSpec.model_validate(yaml.safe_load(example.read_text())["spec"])
    assert spec.algorithm == algorithm and spec.search is not None
    _, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS)
    assert job["spec"]["completions"] == spec.search.parallelism  # one tuning worker each


def test_a_new_revision_clears_the_last_studys_search_status() -> None:
    old = job_name(RUN, _run({"space": SPACE, "maxTrials": 12}))
    new = job_name(RUN, _run({"space": SPACE[:1], "maxTrials": 4}))
    assert old != new
    shown = {
        "jobName": old,
        "phase": "Running",
        "search": {"trials": 12, "bestParams": {"gamma": 0.99}},
        "progress": {"steps": 900, "percent": 90.0},
    }
    # merge-patch null: removed; the operator's own fields stay
    assert new_run_reset(shown, new) == {"search": None, "progress": None}
    assert new_run_reset(shown, old) == {}  # the workers' reports stand
    assert new_run_reset({}, new) == {}  # a first Job has nothing to clear
