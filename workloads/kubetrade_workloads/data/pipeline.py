"""The dataset pipeline, source bars to publishable splits:

clean -> validate -> features -> split -> select -> normalise (+ walk-forward folds).

Features are computed on each symbol's whole clean history before splitting:
they are causal, so a training row never sees later bars, and computing them
once avoids a second warm-up at every split boundary. Selection and
normalisation read the training split only.

Each published row keeps its bar's `adjustment` (raw price = price x
adjustment), and the manifest lists every corporate action applied and every
bar repaired, so a reader can tell the market's prints from cleaning's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..config.data import DataConfig
from ..market.bars import COLUMNS
from . import clean, features, splits, validate


@dataclass(frozen=True)
class Dataset:
    """Splits ready to publish and everything the manifest says about them."""

    splits: dict[str, pd.DataFrame]
    manifest: dict[str, Any]


def with_adjustment(made: pd.DataFrame, cleaned: pd.DataFrame) -> pd.DataFrame:
    """`made` (bars with features) with each bar's `adjustment` from `cleaned`."""
    keys = ["symbol", "timestamp"]
    factor = cleaned[[*keys, clean.ADJUSTMENT]]
    factor = factor.assign(timestamp=factor["timestamp"].dt.as_unit("ns"))
    out = made.merge(factor, on=keys, how="left", validate="one_to_one", sort=False)
    return out.assign(**{clean.ADJUSTMENT: out[clean.ADJUSTMENT].fillna(1.0)})


def lineage(cleaned: clean.Cleaned) -> dict[str, Any]:
    """What the manifest lists of cleaning: corporate actions and repaired bars."""
    return {
        "corporateActions": [a for r in cleaned.reports for a in r.actions],
        "repairs": [x for r in cleaned.reports for x in r.repairs],
    }


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def _folds(parts: dict[str, pd.DataFrame], config: DataConfig) -> list[dict[str, object]]:
    walk = config.splits.walk_forward
    if walk is None:
        return []
    seen = pd.concat(
        [parts[name]["timestamp"] for name in ("train", "validation") if name in parts]
    )
    return [fold.as_dict() for fold in splits.walk_forward(seen, walk, config.splits.embargo)]


@dataclass(frozen=True)
class Preprocessed:
    """Clean bars with every candidate feature, and what the manifest says of them."""

    frame: pd.DataFrame
    names: tuple[str, ...]
    meta: dict[str, Any]


def preprocess(
    bars: pd.DataFrame, config: DataConfig, now: pd.Timestamp | None = None
) -> Preprocessed:
    """The first half: clean, validate and make every candidate feature.

    `now` is what staleness is measured to; by default the source's end, or
    the current time when the source has no end.
    """
    source = config.source
    cleaned = clean.clean(bars, config.cleaning, source.interval)
    if now is None and source.end is not None:
        now = pd.Timestamp(source.end, tz="UTC")
    validate.check(cleaned.reports, config.validation, source.symbols, now)
    made = features.compute(cleaned.bars, config.features)
    meta: dict[str, Any] = {
        "interval": str(source.interval),
        "source": source.to_wire(),
        "features": list(made.names),
        "quality": cleaned.quality()
        | {"warmupRows": made.warmup_rows, "featureValuesFilled": made.filled_values},
        "qualityBySymbol": {r.symbol: r.as_dict() for r in cleaned.reports},
        "calendars": {r.symbol: r.calendar for r in cleaned.reports if r.calendar},
        **lineage(cleaned),
        "config": {
            "cleaning": config.cleaning.to_wire(),
            "features": config.features.to_wire(),
            "validation": config.validation.to_wire(),
        },
    }
    return Preprocessed(with_adjustment(made.frame, cleaned.bars), made.names, meta)


def finish(result: Preprocessed, config: DataConfig) -> Dataset:
    """The second half: split, select and normalise the features (+ walk-forward folds)."""
    parts = splits.split(result.frame, config.splits)
    selection = features.select(parts["train"], result.names, config.features)
    if not selection.chosen:
        raise features.FeatureError(
            "features: selection dropped every feature on the training split; "
            "lower features.varianceThreshold or raise features.correlationThreshold"
        )
    scaler = features.Normalizer.fit(
        parts["train"],
        selection.chosen,
        config.features.normalization,
        features.CATEGORICAL,
        config.features.clip,
    )
    # The bars and what travels with them (each bar's adjustment), then the chosen features.
    carried = [c for c in result.frame.columns if c not in COLUMNS and c not in result.names]
    columns = [*COLUMNS, *carried, *selection.chosen]
    ready = {name: _canonical(scaler.apply(part[columns])) for name, part in parts.items()}
    groups: dict[str, list[str]] = {}
    for name in selection.chosen:
        groups.setdefault(str(features.GROUP_OF[name]), []).append(name)
    manifest = result.meta | {
        "features": list(selection.chosen),
        "featureGroups": groups,
        "featureSelection": selection.as_dict(),
        "normalization": scaler.as_dict(),
        "folds": _folds(parts, config),
        "config": result.meta["config"]
        | {"features": config.features.to_wire(), "splits": config.splits.to_wire()},
    }
    return Dataset(ready, manifest)


def build(bars: pd.DataFrame, config: DataConfig, now: pd.Timestamp | None = None) -> Dataset:
    """Run the pipeline on `bars`; raise on anything that would make a wrong dataset."""
    return finish(preprocess(bars, config, now), config)
