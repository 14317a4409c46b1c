"""Trained models behind the one `market.policy.Policy` interface the backtest and the trader use.

    policy = load_policy("file:///var/lib/kubetrade/artifacts/models/ppo")  # a Model's artifactUri
    strategy = PolicyStrategy(policy)                                      # backtest, paper or live

A loaded policy rebuilds exactly the observation its environment showed the
agent in training (the same feature transform, the same layout, built by the
same functions) and maps the agent's action to target weights with the same
functions, so a model trades in production as it was trained and evaluated.
Models run on the CPU here: one observation at a time gains nothing from a GPU.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from ..config.training import ActionSpace, Algorithm
from ..envs import actions
from ..envs.core import assemble
from ..envs.features import FeatureTransform
from ..market.history import FloatArray
from ..market.policy import MissingFeaturesError, Observation
from . import artifacts
from .forecaster import CnnLstm
from .train_rl import ALGORITHMS


class PolicyLoadError(ValueError):
    """A model folder that cannot be served; the message names the file or field."""


class TrainedPolicy:
    """A model card plus its agent and/or forecaster: implements `Policy`."""

    def __init__(
        self,
        card: artifacts.ModelCard,
        agent: BaseAlgorithm | None = None,
        forecaster: CnnLstm | None = None,
    ) -> None:
        if agent is None and forecaster is None:
            raise PolicyLoadError("a policy needs an agent, a forecaster or both")
        self.card, self.agent, self.forecaster = card, agent, forecaster
        self.transform = FeatureTransform.from_card(card.normalisation)
        self.symbols = tuple(card.symbols)
        env = card.training.environment
        self.window, self.max_weight = env.window, env.max_position_weight
        self.allow_short, self.discrete = (
            env.costs.allow_short,
            env.action_space == ActionSpace.DISCRETE,
        )
        hybrid = card.training.hybrid
        self.cnn_weight = hybrid.cnn_weight if hybrid and agent is not None and forecaster else 0.0

    @property
    def features(self) -> Sequence[str]:
        """Per-symbol inputs the model reads, by name."""
        return self.transform.inputs

    @property
    def lookback(self) -> int:
        """Bars the model reads: its window plus the transform's warm-up."""
        return self.window + self.transform.warmup

    def _columns(self, observation: Observation) -> tuple[np.ndarray, np.ndarray]:
        """Where the model's symbols and features sit in the observation."""
        wanted = self.symbols if self.agent is not None else observation.symbols
        where = {s: j for j, s in enumerate(observation.symbols)}
        absent = [s for s in wanted if s not in where]
        if absent:
            raise ValueError(f"the observation lacks symbols the model was trained on: {absent}")
        names = {f: j for j, f in enumerate(observation.features)}
        missing = [f for f in self.features if f not in names]
        if missing:
            raise MissingFeaturesError(missing)
        return np.array([where[s] for s in wanted]), np.array([names[f] for f in self.features])

    def features_window(self, observation: Observation) -> tuple[FloatArray, np.ndarray]:
        """The model's scaled feature window [window, symbols, features], and the symbol columns."""
        cols, feats = self._columns(observation)
        raw = np.asarray(observation.window, dtype=np.float64)
        if raw.shape[0] < self.lookback:
            raise ValueError(
                f"the model needs {self.lookback} bars, the observation has {raw.shape[0]}"
            )
        raw = raw[-self.lookback :][:, cols][:, :, feats]
        values = self.transform.apply(raw)[-self.window :]
        # As in training, where a symbol without bars yet reads as zeros.
        return np.where(np.isfinite(values), values, 0.0), cols

    def _forecast(self, values: FloatArray) -> FloatArray | None:
        if self.forecaster is None:
            return None
        x = torch.from_numpy(values.astype(np.float32)).transpose(
            0, 1
        )  # [symbols, window, features]
        self.forecaster.eval()
        with torch.no_grad():
            out: FloatArray = self.forecaster(x).double().numpy()
        return out

    def predict(self, observation: Observation) -> FloatArray:
        """Target weights for `observation.symbols` (symbols the model does not trade: 0)."""
        values, cols = self.features_window(observation)
        forecast = self._forecast(values)
        weights = np.asarray(observation.weights, dtype=np.float64)[cols][None]
        if self.agent is not None:
            window = values.astype(np.float32).reshape(1, -1)
            fc = None if forecast is None else forecast[None]
            obs = assemble(window, weights, np.array([observation.cash]), fc)
            action, _ = self.agent.predict(obs, deterministic=True)
            targets = self._targets(np.asarray(action), weights, forecast)
        elif forecast is not None:
            targets = actions.forecast_targets(forecast[None], self.max_weight, self.allow_short)
        else:
            raise PolicyLoadError("a policy needs an agent, a forecaster or both")
        out = np.zeros(len(observation.symbols))
        out[cols] = targets[0]
        return out

    def _targets(
        self, action: np.ndarray, weights: FloatArray, forecast: FloatArray | None
    ) -> FloatArray:
        """The environment's action mapping, for one observation."""
        if self.discrete:
            targets, _ = actions.discrete_targets(
                action.reshape(weights.shape), weights, self.max_weight, self.allow_short
            )
        else:
            raw = action.astype(np.float64).reshape(weights.shape)
            targets = actions.continuous_targets(raw, self.max_weight, self.allow_short)
        if self.cnn_weight > 0 and forecast is not None:
            cnn = actions.forecast_targets(forecast[None], self.max_weight, self.allow_short)
            targets = actions.blend(targets, cnn, self.cnn_weight)
        return targets


def _load_forecaster(model_uri: str, card: artifacts.ModelCard) -> CnnLstm:
    spec = card.forecaster
    if spec is None:
        raise PolicyLoadError(
            f"{model_uri}: the card of a {card.algorithm} model lacks `forecaster`"
        )
    model = CnnLstm(spec.features, spec.params)
    state = torch.load(
        io.BytesIO(artifacts.read_file(model_uri, card.files["forecaster"])),
        map_location="cpu",
        weights_only=True,
    )
    model.load_state_dict(state)
    return model.eval()


def load_policy(model_uri: str) -> TrainedPolicy:
    """The model at `model_uri` (its folder, or its model_card.json) as a `Policy`."""
    try:
        card = artifacts.read_card(model_uri)
    except FileNotFoundError as err:
        raise PolicyLoadError(f"no model at {model_uri}: {artifacts.CARD} not found") from err
    algorithm = Algorithm(card.algorithm)
    agent = forecaster = None
    if "policy" in card.files:
        rl = Algorithm(card.training.hybrid.rl_algorithm) if card.training.hybrid else algorithm
        data = artifacts.read_file(model_uri, card.files["policy"])
        agent = ALGORITHMS[rl].load(io.BytesIO(data), device="cpu")
    if algorithm in (Algorithm.CNN_LSTM, Algorithm.HYBRID):
        forecaster = _load_forecaster(model_uri, card)
    return TrainedPolicy(card, agent, forecaster)
