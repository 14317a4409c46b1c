"""The trader's drift report (`status.trading.drift`), as tests write it for the operator."""

from __future__ import annotations

from typing import Any


def drift_report(
    bars: int, features: dict[str, dict[str, float]], decay: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A report over `bars` with per-feature `{psi, ksPValue}`; the worst PSI named as the
    monitor names it; `decay` as the monitor reports it (None: no verdict yet)."""
    worst = max(features, key=lambda name: features[name]["psi"])
    return {
        "bars": bars,
        "features": features,
        "maxPsi": features[worst]["psi"],
        "maxPsiFeature": worst,
        "decay": decay,
    }
