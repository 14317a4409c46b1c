"""Feature drift: live values against a feature's training reference.

Two measures, each `None` (no verdict) rather than a number when the window
is too small to mean anything:

- PSI (population stability index) over the reference's decile bins:
  sum((live - ref) * ln(live / ref)); a bin share is floored at EPSILON so an
  empty bin counts as rare, not infinite. The usual reading: < 0.1 stable,
  0.1-0.25 moderate, > 0.25 a shift.
- the two-sample Kolmogorov-Smirnov test against the reference's stored
  sample, as its p-value: small means the live values are unlikely to come
  from the training distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..market.history import FloatArray
from .reference import FeatureReference, bin_counts

MIN_VALUES = 30
"""Fewer finite live values than this give no verdict: a handful of bars always looks odd."""
EPSILON = 1e-4
"""Floor of a bin's share in PSI (an empty bin would make it infinite)."""


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift over a window."""

    psi: float
    ks_p_value: float

    def status(self) -> dict[str, float]:
        """The `status.trading.drift.features.<name>` entry."""
        return {"psi": round(self.psi, 6), "ksPValue": float(f"{self.ks_p_value:.6g}")}


def finite(values: FloatArray) -> FloatArray:
    """`values` flattened, without NaN and infinities."""
    flat = np.ravel(values)
    out: FloatArray = flat[np.isfinite(flat)]
    return out


def psi(reference: FeatureReference, values: FloatArray) -> float | None:
    """The population stability index of `values` against the reference's bins."""
    live = finite(values)
    if live.size < MIN_VALUES or reference.count == 0:
        return None
    actual = np.maximum(bin_counts(reference.edges, live) / live.size, EPSILON)
    expected = np.maximum(np.asarray(reference.fractions, dtype=np.float64), EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_p_value(reference: FeatureReference, values: FloatArray) -> float | None:
    """The two-sample KS test's p-value of `values` against the reference sample."""
    live = finite(values)
    if live.size < MIN_VALUES or len(reference.sample) < MIN_VALUES:
        return None
    # Imported here: scipy.stats adds half a second to every trader's start.
    from scipy import stats  # type: ignore[import-untyped]

    # The asymptotic p-value: exact is O(n*m) and a window of 1000s is common.
    result = stats.ks_2samp(reference.sample, live, method="asymp")
    return float(result.pvalue)


def feature_drift(reference: FeatureReference, values: FloatArray) -> FeatureDrift | None:
    """PSI and KS of one feature, or None when the window gives no verdict."""
    index, p_value = psi(reference, values), ks_p_value(reference, values)
    if index is None or p_value is None:
        return None
    return FeatureDrift(index, p_value)
