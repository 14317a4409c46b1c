"""What the trader reports about drift and decay (`status.trading.drift`), and the
operator's record of the retrain it asked for (`status.lastRetrainRequest`)."""

from __future__ import annotations

from kubetrade_workloads.config.base import Frozen


class FeatureDriftReport(Frozen):
    """One model feature over the trader's window, against its training reference."""

    psi: float
    """Population stability index over the reference's decile bins."""
    ks_p_value: float
    """Two-sample Kolmogorov-Smirnov p-value against the reference's sample."""


class DecayReport(Frozen):
    """Realised per-bar returns against the model's out-of-sample backtest."""

    bars: int
    realised_mean: float
    expected_mean: float
    t_stat: float
    p_value: float
    """One-sided Welch test that the realised mean is below the expected one."""


class DriftReport(Frozen):
    """The trader's drift monitor, for the model it trades now."""

    bars: int
    """Bars observed on this model (the window holds the newest of them)."""
    features: dict[str, FeatureDriftReport] | None = None
    """Features with a verdict (too few values, or a card without a reference: none)."""
    max_psi: float | None = None
    max_psi_feature: str | None = None
    decay: DecayReport | None = None
    """Absent until enough bars, or when the model has no `expectation.json`."""


class RetrainRequestRecord(Frozen):
    """The last run the operator requested because the session drifted."""

    time: str
    """RFC 3339: the `kubetrade.io/run-requested-at` stamp it set."""
    training_run: str
    reason: str
