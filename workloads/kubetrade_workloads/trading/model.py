"""The strategy a session trades: a trained Model, or a built-in baseline.

`model_uri` is a Model's folder (its model card and policy file), loaded by
the training workload's loader and wrapped in `PolicyStrategy`, the adapter
the backtest uses too; or `baseline:<name>[?param=value&...]` for a baseline
strategy (`baseline:ma-crossover?fast=5&slow=20`), which needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from ..market.policy import PolicyStrategy
from ..market.strategy import Strategy
from ..strategies import baseline

BASELINE = "baseline:"


class ModelError(ValueError):
    """The model cannot be traded; the message says why."""


@dataclass(frozen=True)
class LoadedModel:
    """A strategy and the symbols its model was trained on (None: any symbols)."""

    strategy: Strategy
    symbols: tuple[str, ...] | None


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
    return LoadedModel(PolicyStrategy(policy), policy.symbols or None)
