"""Spec factories and a table of invalid specs, shared by the pydantic tests and
the API-server tests so both sides are held to the same cases.

Each invalid case names the field the API server's message must name; the
unit tests check that pydantic rejects the same spec, so a CEL rule and its
Python twin cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubetrade_operator.api import API_VERSION, DATASET, MODEL, TRADING_SESSION, TRAINING_RUN
from kubetrade_operator.api.kinds import Kind

Spec = dict[str, Any]

# The fields each kind cannot do without; everything else has a default.
_REQUIRED: dict[str, Spec] = {
    DATASET.kind: {},
    TRAINING_RUN.kind: {"datasetRef": {"name": "bars"}},
    MODEL.kind: {"artifactUri": "file:///artifacts/ppo", "datasetRef": {"name": "bars"}},
    TRADING_SESSION.kind: {"modelRef": {"name": "ppo"}},
}

_LIVE = {
    "mode": "live",
    "confirmLive": True,
    "credentialsSecretRef": {"name": "alpaca-keys"},
    "broker": {"type": "alpaca"},
}


def minimal_spec(kind: Kind) -> Spec:
    """The smallest valid spec of ``kind``."""
    return copy.deepcopy(_REQUIRED[kind.kind])


def spec(kind: Kind, *, drop: tuple[str, ...] = (), **fields: Any) -> Spec:
    """A minimal spec of ``kind`` with top-level ``fields`` set and ``drop`` removed."""
    result = {**minimal_spec(kind), **copy.deepcopy(fields)}
    for name in drop:
        result.pop(name, None)
    return result


def manifest(kind: Kind, name: str, body: Spec) -> dict[str, Any]:
    """A whole custom resource of ``kind`` with ``body`` as its spec."""
    return {"apiVersion": API_VERSION, "kind": kind.kind, "metadata": {"name": name}, "spec": body}


@dataclass(frozen=True)
class Case:
    """A spec one kind must reject, and what the rejection must say."""

    id: str
    kind: Kind
    spec: Spec
    field: str
    """The field path the API server's message names, e.g. `spec.splits`."""
    status: int = 422
    """422 Invalid for schema and CEL failures; 400 BadRequest for unknown fields
    under fieldValidation=Strict (a decoding error, not a validation one)."""


def _live(**overrides: Any) -> Spec:
    return spec(TRADING_SESSION, **{**_LIVE, **overrides})


def _without(fields: Spec, name: str) -> Spec:
    return {k: v for k, v in fields.items() if k != name}


INVALID: tuple[Case, ...] = (
    Case(
        "splits-not-summing-to-one",
        DATASET,
        spec(DATASET, splits={"train": 0.5, "validation": 0.2, "test": 0.2}),
        "spec.splits",
    ),
    Case(
        "negative-commission",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"costs": {"commissionBps": -1}}),
        "spec.environment.costs.commissionBps",
    ),
    Case(
        "negative-commission-in-evaluation",
        MODEL,
        spec(MODEL, costs={"commissionBps": -0.5}),
        "spec.costs.commissionBps",
    ),
    Case("unknown-algorithm", TRAINING_RUN, spec(TRAINING_RUN, algorithm="DQN"), "spec.algorithm"),
    Case(
        "risk-max-drawdown-above-one",
        TRADING_SESSION,
        spec(TRADING_SESSION, risk={"limits": {"maxDrawdown": 1.5}}),
        "spec.risk.limits.maxDrawdown",
    ),
    Case(
        "live-without-credentials",
        TRADING_SESSION,
        spec(TRADING_SESSION, **_without(_LIVE, "credentialsSecretRef")),
        "spec.credentialsSecretRef",
    ),
    Case(
        "live-without-confirm",
        TRADING_SESSION,
        spec(TRADING_SESSION, **_without(_LIVE, "confirmLive")),
        "spec.confirmLive",
    ),
    Case(
        "live-with-sim-broker", TRADING_SESSION, _live(broker={"type": "sim"}), "spec.broker.type"
    ),
    Case(
        "file-source-without-uri",
        DATASET,
        spec(DATASET, source={"type": "file"}),
        "spec.source.uri",
    ),
    Case(
        "ccxt-source-without-exchange",
        DATASET,
        spec(DATASET, source={"type": "ccxt", "symbols": ["BTC/USDT"]}),
        "spec.source.exchange",
    ),
    Case(
        "ccxt-broker-without-exchange",
        TRADING_SESSION,
        spec(TRADING_SESSION, broker={"type": "ccxt"}),
        "spec.broker.exchange",
    ),
    Case(
        "end-before-start",
        DATASET,
        spec(DATASET, source={"start": "2024-01-01", "end": "2023-06-30"}),
        "spec.source.end",
    ),
    Case(
        "bad-symbol",
        DATASET,
        spec(DATASET, source={"symbols": ["AAPL", "no spaces!"]}),
        "spec.source.symbols[1]",
    ),
    Case("empty-symbols", DATASET, spec(DATASET, source={"symbols": []}), "spec.source.symbols"),
    Case(
        "corporate-action-of-both-kinds",
        DATASET,
        spec(
            DATASET,
            cleaning={
                "corporateActions": [
                    {"symbol": "AAPL", "date": "2020-08-31", "ratio": 4.0, "dividend": 0.2}
                ]
            },
        ),
        "spec.cleaning.corporateActions[0].ratio",
    ),
    Case(
        "split-ratio-of-one",
        DATASET,
        spec(
            DATASET,
            cleaning={"corporateActions": [{"symbol": "AAPL", "date": "2020-08-31", "ratio": 1}]},
        ),
        "spec.cleaning.corporateActions[0].ratio",
    ),
    Case(
        "hybrid-weights-not-summing-to-one",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="HYBRID", hybrid={"cnnWeight": 0.5, "rlWeight": 0.6}),
        "spec.hybrid",
    ),
    Case(
        "hybrid-rl-algorithm-not-rl",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="HYBRID", hybrid={"rlAlgorithm": "CNN_LSTM"}),
        "spec.hybrid.rlAlgorithm",
    ),
    Case(
        "hybrid-without-params", TRAINING_RUN, spec(TRAINING_RUN, algorithm="HYBRID"), "spec.hybrid"
    ),
    Case(
        "sac-params-on-ppo", TRAINING_RUN, spec(TRAINING_RUN, algorithm="PPO", sac={}), "spec.sac"
    ),
    Case(
        "a2c-params-on-td3", TRAINING_RUN, spec(TRAINING_RUN, algorithm="TD3", a2c={}), "spec.a2c"
    ),
    Case(
        "distributed-ppo",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="PPO", distributed={"replicas": 2}),
        "spec.distributed",
    ),
    Case(
        "distributed-one-replica",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="CNN_LSTM", distributed={"replicas": 1}),
        "spec.distributed.replicas",
    ),
    Case(
        "sac-with-discrete-actions",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="SAC", environment={"actionSpace": "discrete"}),
        "spec.environment.actionSpace",
    ),
    Case(
        "hybrid-td3-with-discrete-actions",
        TRAINING_RUN,
        spec(
            TRAINING_RUN,
            algorithm="HYBRID",
            hybrid={"rlAlgorithm": "TD3"},
            environment={"actionSpace": "discrete"},
        ),
        "spec.environment.actionSpace",
    ),
    Case(
        "unknown-hyperparameter",
        TRAINING_RUN,
        spec(TRAINING_RUN, ppo={"learningRate": 0.001, "learningRat": 0.01}),
        "spec.ppo.learningRat",
        status=400,
    ),
    Case(
        "learning-rate-zero",
        TRAINING_RUN,
        spec(TRAINING_RUN, ppo={"learningRate": 0}),
        "spec.ppo.learningRate",
    ),
    Case(
        "negative-gpu",
        TRAINING_RUN,
        spec(TRAINING_RUN, template={"resources": {"gpu": -1}}),
        "spec.template.resources.gpu",
    ),
    Case(
        "bad-quantity",
        DATASET,
        spec(DATASET, template={"resources": {"requests": {"memory": "2 GB"}}}),
        "spec.template.resources.requests.memory",
    ),
    Case(
        "training-run-without-dataset-ref",
        TRAINING_RUN,
        spec(TRAINING_RUN, drop=("datasetRef",)),
        "spec.datasetRef",
    ),
    Case(
        "trading-session-without-model-ref",
        TRADING_SESSION,
        spec(TRADING_SESSION, drop=("modelRef",)),
        "spec.modelRef",
    ),
    Case(
        "model-without-artifact-uri", MODEL, spec(MODEL, drop=("artifactUri",)), "spec.artifactUri"
    ),
    Case(
        "bad-object-name-in-ref",
        TRADING_SESSION,
        spec(TRADING_SESSION, modelRef={"name": "Not_A_Name"}),
        "spec.modelRef.name",
    ),
    Case(
        "gate-max-drawdown-zero",
        MODEL,
        spec(MODEL, gates={"maxDrawdown": 0}),
        "spec.gates.maxDrawdown",
    ),
    Case(
        "gate-probabilistic-sharpe-above-one",
        MODEL,
        spec(MODEL, gates={"minProbabilisticSharpe": 1.5}),
        "spec.gates.minProbabilisticSharpe",
    ),
    Case(
        "gate-test-bars-zero",
        MODEL,
        spec(MODEL, gates={"minTestBars": 0}),
        "spec.gates.minTestBars",
    ),
    Case(
        "var-confidence-too-low",
        TRADING_SESSION,
        spec(TRADING_SESSION, risk={"limits": {"varConfidence": 0.5}}),
        "spec.risk.limits.varConfidence",
    ),
    Case(
        "risk-daily-loss-above-drawdown",
        TRADING_SESSION,
        spec(TRADING_SESSION, risk={"limits": {"maxDailyLoss": 0.3, "maxDrawdown": 0.2}}),
        "spec.risk.limits.maxDailyLoss",
    ),
    Case(
        "risk-position-weight-above-gross-exposure",
        TRADING_SESSION,
        spec(TRADING_SESSION, risk={"limits": {"maxPositionWeight": 0.8, "maxGrossExposure": 0.5}}),
        "spec.risk.limits.maxPositionWeight",
    ),
    Case(
        "negative-backoff-limit",
        DATASET,
        spec(DATASET, job={"backoffLimit": -1}),
        "spec.job.backoffLimit",
    ),
    Case(
        "negative-initial-cash",
        TRADING_SESSION,
        spec(TRADING_SESSION, initialCash=-1000),
        "spec.initialCash",
    ),
    Case(
        "unknown-reward",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"reward": "sortino"}),
        "spec.environment.reward",
    ),
    Case(
        "unknown-interval",
        DATASET,
        spec(DATASET, source={"interval": "2h"}),
        "spec.source.interval",
    ),
    Case(
        "split-dates-out-of-order",
        DATASET,
        spec(DATASET, splits={"trainEnd": "2023-06-30", "validationEnd": "2023-01-31"}),
        "spec.splits.validationEnd",
    ),
    Case(
        "split-train-end-alone",
        DATASET,
        spec(DATASET, splits={"trainEnd": "2023-06-30"}),
        "spec.splits.validationEnd",
    ),
    Case(
        "unknown-feature-group",
        DATASET,
        spec(DATASET, features={"groups": ["trend", "astrology"]}),
        "spec.features.groups[1]",
    ),
    Case(
        "unknown-mode",
        TRADING_SESSION,
        spec(TRADING_SESSION, mode="yolo"),
        "spec.mode",
    ),
    Case(
        "more-env-processes-than-envs",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"numEnvs": 2, "envProcesses": 3}),
        "spec.environment.envProcesses",
    ),
    Case(
        "env-processes-with-default-num-envs",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"envProcesses": 2}),
        "spec.environment.envProcesses",
    ),
)

#: Specs at the edges of the rules that both sides must accept.
VALID: tuple[tuple[str, Kind, Spec], ...] = (
    ("dataset-minimal", DATASET, minimal_spec(DATASET)),
    ("training-run-minimal", TRAINING_RUN, minimal_spec(TRAINING_RUN)),
    ("model-minimal", MODEL, minimal_spec(MODEL)),
    ("trading-session-minimal", TRADING_SESSION, minimal_spec(TRADING_SESSION)),
    (
        "training-run-distributed-forecaster",
        TRAINING_RUN,
        spec(TRAINING_RUN, algorithm="CNN_LSTM", distributed={"replicas": 4, "backend": "NCCL"}),
    ),
    (
        "training-run-ppo-discrete-batched",
        TRAINING_RUN,
        spec(
            TRAINING_RUN,
            algorithm="PPO",
            environment={"actionSpace": "discrete", "numEnvs": 8, "episodeLength": 1000},
            saveBest=True,
            evalEvery=5000,
        ),
    ),
    (
        "training-run-env-processes-at-the-edges",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"numEnvs": 4, "envProcesses": 4}),
    ),
    (
        "training-run-env-processes-auto",
        TRAINING_RUN,
        spec(TRAINING_RUN, environment={"numEnvs": 2, "envProcesses": 0}),
    ),
    (
        "dataset-integer-splits-file-source",
        DATASET,
        spec(
            DATASET,
            splits={"train": 1, "validation": 0, "test": 0},
            source={"type": "file", "uri": "file:///data/bars.csv", "end": "2024-01-01"},
            template={"resources": {"requests": {"cpu": "500m", "memory": 2147483648}}},
        ),
    ),
    (
        "training-run-hybrid",
        TRAINING_RUN,
        spec(
            TRAINING_RUN,
            algorithm="HYBRID",
            hybrid={"cnnWeight": 0.25, "rlWeight": 0.75, "rlAlgorithm": "SAC"},
            sac={"bufferSize": 10000},
            cnnLstm={"hiddenSize": 32},
        ),
    ),
    (
        "dataset-split-by-date-walk-forward",
        DATASET,
        spec(
            DATASET,
            splits={
                "trainEnd": "2022-12-31",
                "validationEnd": "2023-06-30",
                "embargo": 5,
                "walkForward": {"folds": 4, "mode": "rolling"},
            },
            features={"groups": ["trend", "regime"], "indicators": ["rsi_14"]},
        ),
    ),
    ("training-run-a2c", TRAINING_RUN, spec(TRAINING_RUN, algorithm="A2C", a2c={"nSteps": 16})),
    ("trading-session-live", TRADING_SESSION, _live()),
    (
        "model-gates",
        MODEL,
        spec(
            MODEL,
            gates={
                "minSharpe": 0.5,
                "maxDrawdown": 1,
                "minTestBars": 250,
                "minProbabilisticSharpe": 0.95,
            },
            benchmark="equal_weight",
        ),
    ),
)
