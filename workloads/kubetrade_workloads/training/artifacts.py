"""A trained model's artifacts: where each file lives, and the model card that describes them.

Under a run's output URI (a Model's `artifactUri`):

    model_card.json     what the model is: algorithm, hyperparameters, symbols,
                        features and their normalisation, dataset lineage, metrics
    policy.zip          the stable-baselines3 agent (PPO, A2C, SAC, TD3, HYBRID)
    forecaster.pt       the CNN-LSTM forecaster's weights (CNN_LSTM, HYBRID)
    checkpoints/rl/step-<n>/, checkpoints/forecaster/step-<n>/
    tensorboard/        TensorBoard event files
    progress.jsonl      every progress reading the run reported (steps, mean reward,
                        loss, time), rewritten as it trains; the console's curves

The model files are written first and the card last, each whole
(`storage.write_whole`): a folder with a card is a complete model.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec

from .. import storage
from ..config.base import Frozen
from ..config.jobs import TrainJob
from ..config.training import Algorithm, CnnLstmParams, TrainingConfig
from ..envs.dataset import Dataset
from ..monitoring.reference import DriftReference, capture
from .splits import Splits

CARD = "model_card.json"
POLICY = "policy.zip"
FORECASTER = "forecaster.pt"
TENSORBOARD = "tensorboard"
HISTORY = "progress.jsonl"
FORECASTER_HISTORY = "forecaster-progress.jsonl"
"""HYBRID's first phase: the forecaster's epochs, before the agent's steps."""
CARD_VERSION = 1


def kubetrade_version() -> str:
    """The installed kubetrade distribution's version."""
    try:
        return importlib.metadata.version("kubetrade")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def history_uri(output_uri: str, name: str = HISTORY) -> str:
    """Where a run's progress history (`progress.History`) is written."""
    return f"{output_uri.rstrip('/')}/{name}"


def checkpoints_uri(output_uri: str, part: str) -> str:
    """Where the checkpoints of one part (`rl` or `forecaster`) of a run live."""
    return f"{output_uri.rstrip('/')}/checkpoints/{part}"


class DatasetLineage(Frozen):
    """The dataset a model was trained on, pinned by checksum."""

    uri: str
    checksum: str
    """sha256 of the dataset's manifest (which lists each split's sha256)."""
    splits: dict[str, str]
    """sha256 of each split file."""
    normalization: dict[str, Any] | None = None
    """The dataset's own feature normalisation, as its manifest records it."""
    feature_config: dict[str, Any] | None = None
    """How the dataset made its features (its `features` config): a trader on a
    live feed makes them the same way."""

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetLineage:
        """The lineage entry of an opened dataset."""
        splits = {
            name: str(entry.get("sha256", ""))
            for name, entry in dataset.manifest.get("splits", {}).items()
        }
        norm = dataset.manifest.get("normalization")
        made = (dataset.manifest.get("config") or {}).get("features")
        return cls(
            uri=dataset.uri,
            checksum=dataset.checksum,
            splits=splits,
            normalization=norm if isinstance(norm, dict) else None,
            feature_config=made if isinstance(made, dict) else None,
        )


class TrainedSpan(Frozen):
    """First and last bar a model learned from or was selected on (ISO 8601)."""

    start: str
    end: str

    @classmethod
    def of(cls, dataset: Dataset) -> TrainedSpan | None:
        """The span of the dataset's train and validation splits: validation picks the
        published policy (early stopping, `saveBest`), so it is not out-of-sample either."""
        entries = dataset.manifest.get("splits", {})
        used = [entries[s] for s in ("train", "validation") if s in entries]
        starts = [str(e["start"]) for e in used if e.get("start")]
        ends = [str(e["end"]) for e in used if e.get("end")]
        if not starts or not ends:
            return None
        return cls(start=min(starts, key=_instant), end=max(ends, key=_instant))


def _instant(iso: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(iso)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class ForecasterCard(Frozen):
    """How to rebuild the forecaster: its architecture and the scale of its targets."""

    params: CnnLstmParams
    features: int
    """Model features per symbol (the last axis of its input)."""
    target_scale: float
    """Forecasts are next-bar log returns divided by this (their training-split std)."""


class ModelCard(Frozen):
    """What a trained model is, and everything needed to run it exactly as trained."""

    # Cards outlive the code that wrote them: a newer card's extra fields are ignored.
    model_config = Frozen.model_config | {"extra": "ignore"}

    card_version: int = CARD_VERSION
    kubetrade_version: str
    algorithm: Algorithm
    created_at: str
    symbols: list[str]
    features: list[str]
    """Per-symbol inputs the policy reads (a Policy's `features`)."""
    lookback: int
    """Bars the policy reads (a Policy's `lookback`)."""
    normalisation: dict[str, Any]
    """The fitted feature transform (`envs.features.FeatureTransform.to_card`)."""
    dataset: DatasetLineage
    hyperparameters: dict[str, Any]
    training: TrainingConfig
    metrics: dict[str, float]
    steps: int
    files: dict[str, str]
    forecaster: ForecasterCard | None = None
    trained_span: TrainedSpan | None = None
    """What the model saw in training: a walk-forward fold tested inside it is
    in-sample. Cards written before this field count every fold as in-sample."""
    drift_reference: DriftReference | None = None
    """Each model feature's distribution on the training split, which the trader's
    drift monitor compares live values with. Cards written before it are not watched
    for drift (decay still is, once the evaluation wrote `expectation.json`)."""

    def to_json(self) -> bytes:
        """The card as the JSON file it is stored as."""
        return self.model_dump_json(by_alias=True, exclude_none=True, indent=2).encode()


def now() -> str:
    """A card's timestamp: UTC, ISO 8601, seconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def publish(output_uri: str, files: Mapping[str, bytes], card: ModelCard) -> str:
    """Write the model files, then the card; return the card's URI."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(output_uri.rstrip("/")))
    fs.makedirs(root, exist_ok=True)
    for name, data in files.items():
        storage.write_whole(fs, f"{root}/{name}", data)
    storage.write_whole(fs, f"{root}/{CARD}", card.to_json())
    return f"{output_uri.rstrip('/')}/{CARD}"


def read_card(model_uri: str) -> ModelCard:
    """The model card in a model folder (or at its own URI)."""
    uri = storage.resolve(model_uri.rstrip("/"))
    if not uri.endswith(CARD):
        uri = f"{uri}/{CARD}"
    with fsspec.open(uri, "rb") as fh:
        return ModelCard.model_validate(json.loads(fh.read()))


def read_file(model_uri: str, name: str) -> bytes:
    """One file of a model folder."""
    root = storage.resolve(model_uri.rstrip("/"))
    if root.endswith(CARD):
        root = root[: -len(CARD) - 1]
    with fsspec.open(f"{root}/{name}", "rb") as fh:
        data: bytes = fh.read()
    return data


@dataclass(frozen=True)
class TrainResult:
    """A finished run: its card, where the model is, the last checkpoint."""

    card: ModelCard
    model_uri: str
    """The model card's URI; its folder is the Model's `artifactUri`."""
    checkpoint_uri: str | None
    stopped_early: bool = False


def card(
    job: TrainJob,
    data: Splits,
    hyperparameters: dict[str, Any],
    metrics: Mapping[str, float],
    steps: int,
    files: dict[str, str],
    forecaster: ForecasterCard | None = None,
) -> ModelCard:
    """The model card of a run that trained on `data`."""
    transform = data.transform
    return ModelCard(
        kubetrade_version=kubetrade_version(),
        algorithm=job.training.algorithm,
        created_at=now(),
        symbols=list(data.train.symbols),
        features=list(transform.inputs),
        lookback=job.training.environment.window + transform.warmup,
        normalisation=transform.to_card(),
        dataset=DatasetLineage.of(data.dataset),
        hyperparameters=hyperparameters,
        training=job.training,
        metrics={k: float(v) for k, v in metrics.items() if _finite(v)},
        steps=steps,
        files=files,
        forecaster=forecaster,
        trained_span=TrainedSpan.of(data.dataset),
        drift_reference=capture(data.dataset.history("train"), transform),
    )


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def tensorboard_dir(output_uri: str) -> str:
    """A local folder for TensorBoard: under the output when it is a local path, else a temp one."""
    resolved = storage.resolve(output_uri.rstrip("/"))
    if "://" not in resolved or resolved.startswith("file://"):
        return f"{resolved.removeprefix('file://')}/{TENSORBOARD}"
    return tempfile.mkdtemp(prefix="kubetrade-tensorboard-")


def upload_tensorboard(local: str, output_uri: str) -> None:
    """Copy TensorBoard files written to a temp folder up to a remote output (no-op when local)."""
    target = f"{storage.resolve(output_uri.rstrip('/'))}/{TENSORBOARD}"
    if target.removeprefix("file://") == local:
        return
    fs, root = fsspec.core.url_to_fs(target)
    fs.put(local, root, recursive=True)
