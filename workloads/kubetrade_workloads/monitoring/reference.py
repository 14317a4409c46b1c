"""What a model was trained and tested on, recorded for the drift and decay monitor.

The features watched are the model's own features before scaling
(`FeatureTransform.apply(..., scale=False)`): the derived log return, range,
body and volume change of a model trained on prices, or the Dataset's feature
columns. These are what the policy reads and what the trader makes from its
bars every bar; raw prices are not watched, since a price level drifts by
nature without the model being any worse. Values are pooled over symbols.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import fsspec
import numpy as np

from .. import storage
from ..config.base import Frozen
from ..envs.features import FeatureTransform, stack_inputs
from ..market.history import FloatArray, History

BINS = 10
"""Deciles: PSI is computed over ten bins of the reference's own quantiles."""
SAMPLE = 500
"""Reference values kept for the KS test, evenly spaced through the sorted values."""
EXPECTATION = "expectation.json"


class FeatureReference(Frozen):
    """One feature's distribution on the training split."""

    model_config = Frozen.model_config | {"extra": "ignore"}

    count: int
    """Finite values the reference was taken from."""
    edges: list[float]
    """The BINS - 1 inner bin edges (deciles); a value equal to an edge falls right of it."""
    fractions: list[float]
    """Share of the reference values in each of the BINS bins."""
    sample: list[float]
    """At most SAMPLE values, sorted: every (count / SAMPLE)-th order statistic."""


class DriftReference(Frozen):
    """Every watched feature's reference: the model card's `driftReference`."""

    model_config = Frozen.model_config | {"extra": "ignore"}

    split: str = "train"
    features: dict[str, FeatureReference]


def bin_counts(edges: Sequence[float] | FloatArray, values: FloatArray) -> FloatArray:
    """How many of `values` fall in each of the len(edges) + 1 bins."""
    where = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
    counts: FloatArray = np.bincount(where, minlength=len(edges) + 1).astype(np.float64)
    return counts


def feature_reference(values: FloatArray) -> FeatureReference | None:
    """The reference of one feature's values (non-finite ones dropped); None when empty."""
    finite = np.sort(values[np.isfinite(values)])
    if finite.size == 0:
        return None
    edges = np.quantile(finite, np.arange(1, BINS) / BINS)
    fractions = bin_counts(edges, finite) / finite.size
    take = np.unique(np.linspace(0, finite.size - 1, min(SAMPLE, finite.size)).round().astype(int))
    return FeatureReference(
        count=int(finite.size),
        edges=[float(e) for e in edges],
        fractions=[float(f) for f in fractions],
        sample=[float(v) for v in finite[take]],
    )


def model_features(history: History, transform: FeatureTransform) -> FloatArray:
    """[bars, symbols, features]: the model's features before scaling, as the policy makes them."""
    return transform.apply(stack_inputs(history, transform.inputs), scale=False)


def capture(history: History, transform: FeatureTransform, split: str = "train") -> DriftReference:
    """The reference of every model feature over `history` (the training split)."""
    values = model_features(history, transform)[transform.warmup :]
    features = {}
    for j, name in enumerate(transform.names):
        ref = feature_reference(values[..., j].ravel())
        if ref is not None:
            features[name] = ref
    return DriftReference(split=split, features=features)


class Expectation(Frozen):
    """What the model earned per bar in its out-of-sample backtest (`expectation.json`)."""

    model_config = Frozen.model_config | {"extra": "ignore"}

    bars: int
    mean: float
    """Mean per-bar return of the strategy's equity, after costs."""
    std: float
    """Its standard deviation (ddof=1)."""
    source: str = "test"
    """The split (or report) it comes from."""

    @classmethod
    def of(cls, returns: FloatArray, source: str = "test") -> Expectation | None:
        """The expectation of per-bar `returns`; None with fewer than two finite ones."""
        finite = returns[np.isfinite(returns)]
        if finite.size < 2:
            return None
        return cls(
            bars=int(finite.size),
            mean=float(finite.mean()),
            std=float(finite.std(ddof=1)),
            source=source,
        )


def _model_file(model_uri: str, name: str) -> str:
    root = storage.resolve(model_uri.rstrip("/"))
    return f"{root}/{name}"


def write_expectation(model_uri: str, expectation: Expectation) -> str:
    """Store the expectation in the model folder (whole, so a reader never sees a part)."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(model_uri.rstrip("/")))
    fs.makedirs(root, exist_ok=True)
    storage.write_whole(
        fs, f"{root}/{EXPECTATION}", expectation.model_dump_json(by_alias=True).encode()
    )
    return f"{model_uri.rstrip('/')}/{EXPECTATION}"


def read_expectation(model_uri: str) -> Expectation | None:
    """The model folder's expectation, or None before its evaluation wrote one."""
    try:
        with fsspec.open(_model_file(model_uri, EXPECTATION), "rb") as fh:
            raw = json.loads(fh.read())
    except FileNotFoundError:
        return None
    expectation = Expectation.model_validate(raw)
    if not (math.isfinite(expectation.mean) and math.isfinite(expectation.std)):
        return None
    return expectation
