"""The typed configs on the Python side: defaults are valid, every cross-field
rule rejects here as the API server's CEL rule does there, and the models are
frozen and strict."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from kubetrade_operator.api import KINDS
from kubetrade_operator.api.kinds import Kind
from kubetrade_testing.specs import INVALID, VALID, Case, Spec, minimal_spec
from kubetrade_workloads.config import (
    CostConfig,
    DataConfig,
    EvaluationConfig,
    RiskConfig,
    SplitConfig,
    TradingConfig,
    TrainingConfig,
)
from kubetrade_workloads.config.base import to_camel
from kubetrade_workloads.config.data import SourceConfig
from kubetrade_workloads.config.trading import BrokerConfig
from kubetrade_workloads.config.training import HybridParams

CONFIGS: tuple[type[BaseModel], ...] = (
    CostConfig,
    DataConfig,
    EvaluationConfig,
    RiskConfig,
    TradingConfig,
    TrainingConfig,
)


@pytest.mark.parametrize("model", CONFIGS, ids=lambda m: m.__name__)
def test_workload_config_defaults_are_valid(model: type[BaseModel]) -> None:
    config = model()
    wire = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert model.model_validate(wire) == config


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_minimal_spec_round_trips(kind: Kind) -> None:
    parsed = kind.spec.model_validate(minimal_spec(kind))
    wire = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert kind.spec.model_validate(wire) == parsed


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_empty_status_is_valid(kind: Kind) -> None:
    assert kind.status.model_validate({}).model_dump(exclude_none=True) == {}


@pytest.mark.parametrize(
    ("kind", "body"), [(k, s) for _, k, s in VALID], ids=[i for i, _, _ in VALID]
)
def test_edge_specs_are_accepted(kind: Kind, body: Spec) -> None:
    kind.spec.model_validate(body)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_invalid_spec_is_rejected_in_python(case: Case) -> None:
    # The same table drives tests/integration/test_crd_validation.py against
    # the API server, so each CEL rule has a Python twin that agrees with it.
    with pytest.raises(ValidationError):
        case.kind.spec.model_validate(case.spec)


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (SplitConfig, {"train": 0.6, "validation": 0.2, "test": 0.1}, "must sum to 1"),
        (SourceConfig, {"type": "file"}, "source.uri is required"),
        (SourceConfig, {"type": "ccxt"}, "source.exchange is required"),
        (SourceConfig, {"start": "2024-01-01", "end": "2024-01-01"}, "end must be after"),
        (BrokerConfig, {"type": "ccxt"}, "broker.exchange is required"),
        (HybridParams, {"cnnWeight": 0.9, "rlWeight": 0.2}, "must sum to 1"),
        (HybridParams, {"rlAlgorithm": "HYBRID"}, "must be an RL algorithm"),
        (TradingConfig, {"mode": "live", "confirmLive": True}, "credentialsSecretRef is required"),
        (
            TradingConfig,
            {"mode": "live", "credentialsSecretRef": {"name": "k"}, "broker": {"type": "alpaca"}},
            "confirmLive must be true",
        ),
        (
            TradingConfig,
            {"mode": "live", "confirmLive": True, "credentialsSecretRef": {"name": "k"}},
            "sim cannot trade live",
        ),
        (TrainingConfig, {"algorithm": "HYBRID"}, "hybrid is required"),
        (TrainingConfig, {"algorithm": "SAC", "ppo": {}}, "ppo may only be set"),
        (TrainingConfig, {"algorithm": "PPO", "a2c": {}}, "a2c may only be set"),
        (TrainingConfig, {"algorithm": "PPO", "sac": {}}, "sac may only be set"),
        (TrainingConfig, {"algorithm": "PPO", "td3": {}}, "td3 may only be set"),
        (TrainingConfig, {"algorithm": "PPO", "cnnLstm": {}}, "cnnLstm may only be set"),
        (TrainingConfig, {"algorithm": "PPO", "hybrid": {}}, "hybrid may only be set"),
    ],
)
def test_cross_field_rule_rejects(model: type[BaseModel], data: Spec, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(data)


def test_hybrid_takes_every_block() -> None:
    blocks: dict[str, Spec] = {
        "ppo": {},
        "a2c": {},
        "sac": {},
        "td3": {},
        "cnnLstm": {},
        "hybrid": {},
    }
    TrainingConfig.model_validate({"algorithm": "HYBRID", **blocks})


def test_splits_tolerate_float_rounding() -> None:
    SplitConfig(train=0.7, validation=0.2, test=0.1)  # 0.7 + 0.2 + 0.1 != 1.0 in binary


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="learningRat"):
        TrainingConfig.model_validate({"ppo": {"learningRat": 0.1}})


def test_configs_are_frozen() -> None:
    config = CostConfig()
    with pytest.raises(ValidationError):
        config.commission_bps = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("a2c", "a2c"),
        ("td3", "td3"),
        ("cnn_lstm", "cnnLstm"),
        ("credentials_secret_ref", "credentialsSecretRef"),
    ],
)
def test_aliases_are_kubernetes_camel_case(name: str, alias: str) -> None:
    # pydantic's own to_camel turns a2c into a2C, which the CEL rules would not find.
    assert to_camel(name) == alias


def test_snake_case_names_are_accepted_too() -> None:
    assert CostConfig(commission_bps=3.0) == CostConfig.model_validate({"commissionBps": 3.0})
