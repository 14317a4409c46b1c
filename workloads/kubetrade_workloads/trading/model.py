"""The strategy a session trades: a trained Model, or a built-in baseline.

`model_uri` is a Model's folder (its model card and policy file), loaded by
the training workload's loader and wrapped in `PolicyStrategy`, the adapter
the backtest uses too; or `baseline:<name>[?param=value&...]` for a baseline
strategy (`baseline:ma-crossover?fast=5&slow=20`), which needs no torch.

A model trained on Dataset features comes with the `LiveFeatures` that make
them from prices, the way its Dataset did (the card records how; cards older
than that record send us to the Dataset's manifest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ..config.data import FeatureConfig
from ..envs.dataset import DatasetError, open_dataset
from ..market.policy import PRICE_FEATURES, PolicyStrategy
from ..market.strategy import Strategy
from ..strategies import baseline

if TYPE_CHECKING:
    from ..data.features.live import LiveFeatures
    from ..training.artifacts import ModelCard

BASELINE = "baseline:"


class ModelError(ValueError):
    """The model cannot be traded; the message says why."""


@dataclass(frozen=True)
class LoadedModel:
    """A strategy and the symbols its model was trained on (None: any symbols)."""

    strategy: Strategy
    symbols: tuple[str, ...] | None
    features: tuple[str, ...] = ()
    """Dataset feature columns the model reads besides prices."""
    maker: LiveFeatures | None = None
    """Makes `features` from prices; None when the card cannot say how."""


@dataclass(frozen=True)
class ModelPick:
    """A model the operator picked for the trader (`status.model` or `status.challenger`)."""

    artifact_uri: str
    version: int | None = None
    since: str = ""

    @classmethod
    def of(cls, raw: Any) -> ModelPick | None:
        """The pick in a status field; None when unset or without an artifact."""
        if not isinstance(raw, dict) or not raw.get("artifactUri"):
            return None
        version = raw.get("version")
        return cls(
            str(raw["artifactUri"]),
            int(version) if isinstance(version, int) else None,
            str(raw.get("since") or ""),
        )


def _value(raw: str) -> int | bool:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return int(raw)


def load_model(model_uri: str) -> LoadedModel:
    """The strategy `model_uri` names."""
    if model_uri.startswith(BASELINE):
        parts = urlsplit(model_uri[len(BASELINE) :])
        try:
            params = {k: _value(v) for k, v in parse_qsl(parts.query)}
            return LoadedModel(baseline(parts.path, **params), None)
        except (ValueError, TypeError) as err:
            raise ModelError(f"{model_uri}: {err}") from err
    # Imported here: torch and stable-baselines3 load only for trained models.
    from ..training.policies import PolicyLoadError, load_policy

    try:
        policy = load_policy(model_uri)
    except (PolicyLoadError, FileNotFoundError, ValueError) as err:
        raise ModelError(f"cannot load the model at {model_uri}: {err}") from err
    features = tuple(f for f in policy.features if f not in PRICE_FEATURES)
    maker = _maker(policy.card, features) if features else None
    return LoadedModel(PolicyStrategy(policy), policy.symbols or None, features, maker)


def _maker(card: ModelCard, features: tuple[str, ...]) -> LiveFeatures | None:
    """How to make the card's features from prices, or None when nothing records it."""
    # Imported here: TA-Lib loads only for models that read features.
    from ..data.features import FeatureError
    from ..data.features.live import LiveFeatures
    from ..training.artifacts import DatasetLineage

    lineage = card.dataset
    if lineage.feature_config is None:  # a card older than the record: its Dataset says
        try:
            lineage = DatasetLineage.of(open_dataset(lineage.uri))
        except (DatasetError, OSError):
            return None
        if lineage.feature_config is None:
            return None
    try:
        config = FeatureConfig.model_validate(lineage.feature_config)
        return LiveFeatures.of(features, config, lineage.normalization)
    except (FeatureError, ValueError) as err:
        raise ModelError(f"the model's features cannot be made from prices: {err}") from err
