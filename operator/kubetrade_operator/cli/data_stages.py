"""`trading-cli data preprocess | split | validate`: the pipeline's stages one at a time.

    trading-cli data collect --source yahoo --symbols AAPL --raw --output bars/aapl
    trading-cli data preprocess bars/aapl --output features/aapl
    trading-cli data split features/aapl --splits 0.8,0.1,0.1 --output datasets/aapl
    trading-cli data validate datasets/aapl

`preprocess` then `split` publish what `collect` publishes from the same bars
and config (a test holds them equal), but for the manifest's source: the bars
file they read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .data_config import config, merge, read_manifest
from .data_errors import DataCliError, one_line_errors
from .data_options import (
    ADJUSTMENT,
    CALENDAR,
    EMBARGO,
    END,
    FEATURES,
    FILE,
    FILL_LIMIT,
    INTERVAL,
    MIN_COMPLETENESS,
    OUTLIER_ACTION,
    PERIOD,
    RAW_BARS,
    RAW_SOURCE,
    SETS,
    SPLITS,
    START,
    SYMBOLS,
    TIMEZONE,
    cleaning,
    echo,
    file_defaults,
    published_summary,
    ratios,
    uri_of,
    window,
)


def _raw_input(bars: str) -> tuple[str, dict[str, Any]]:
    """The bars file to read and the source it came from (a `collect --raw` folder keeps it).

    Read through fsspec, as `collect --raw` wrote it: its folder may be remote.
    """
    import fsspec

    from kubetrade_workloads import storage

    uri = uri_of(bars)
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    if not fs.isdir(root):
        return uri, {}
    if not fs.exists(f"{root}/{RAW_BARS}"):
        raise DataCliError(
            f"{bars}: a folder without {RAW_BARS}; give a bars file or a folder "
            "written by `data collect --raw`"
        )
    source = f"{root}/{RAW_SOURCE}"
    collected = json.loads(fs.cat_file(source)) if fs.exists(source) else {}
    return f"{uri.rstrip('/')}/{RAW_BARS}", collected


def preprocess(
    bars: str = typer.Argument(
        ...,
        help="Collected bars: a CSV or Parquet file (any layout collect reads) "
        "or a folder written by `data collect --raw`.",
    ),
    output: str = typer.Option("datasets/preprocessed", help="Folder (or URI) to write to."),
    file: Path | None = FILE,
    symbols: str | None = SYMBOLS,
    interval: str | None = INTERVAL,
    start: str | None = START,
    end: str | None = END,
    period: str | None = PERIOD,
    calendar: str | None = CALENDAR,
    timezone: str | None = TIMEZONE,
    adjustment: str | None = ADJUSTMENT,
    fill_limit: int | None = FILL_LIMIT,
    outlier_action: str | None = OUTLIER_ACTION,
    min_completeness: float | None = MIN_COMPLETENESS,
    features: str | None = FEATURES,
    set_: list[str] = SETS,
) -> None:
    """Clean, validate and make features on collected bars, before any split.

    Writes features.parquet (bars and every candidate feature, not normalised)
    and preprocess.json (the quality report and config) for `data split`.
    """
    from kubetrade_workloads.data import pipeline, stages
    from kubetrade_workloads.data.sources import get_source

    with one_line_errors():
        manifest = read_manifest(file)
        uri, collected = _raw_input(bars)
        base = manifest.data | {"source": collected | (manifest.data.get("source") or {})}
        flags = {
            "source.type": "file",
            "source.uri": uri,
            "source.symbols": symbols,
            "source.interval": interval,
            **window(start, end, period, base, set_),
            **cleaning(calendar=calendar, timezone=timezone, adjustment=adjustment),
            **cleaning(fillLimit=fill_limit, outlierAction=outlier_action),
            "validation.minCompleteness": min_completeness,
            "features.groups": features,
        }
        tree = merge(base, flags, set_)
        file_defaults(tree)
        data = config(tree)
        src = data.source
        frame = get_source(src).fetch(src.symbols, src.interval, src.start, src.end)
        result = pipeline.preprocess(frame, data)
        stages.save(result, uri_of(output))
    echo(
        {
            "rows": len(result.frame),
            "symbols": sorted(result.frame["symbol"].unique().tolist()),
            "features": len(result.names),
            "output": uri_of(output),
        }
    )


def split(
    preprocessed: str = typer.Argument(..., help="A folder written by `data preprocess`."),
    output: str = typer.Option("datasets/local", help="Where to publish, folder or fsspec URI."),
    file: Path | None = FILE,
    splits: str | None = SPLITS,
    embargo: int | None = EMBARGO,
    set_: list[str] = SETS,
) -> None:
    """Split preprocessed bars, select and normalise features, and publish the Dataset.

    The splits.* and features.* (selection, normalisation) keys apply; the
    rest was settled by `data preprocess`, and a features.groups, indicators
    or window other than preprocess's is refused.
    """
    from kubetrade_workloads.data import pipeline, publish, stages

    with one_line_errors():
        manifest = read_manifest(file)
        result = stages.load(uri_of(preprocessed))
        made = result.meta["config"]["features"]
        base = {"source": result.meta["source"], **result.meta["config"]}
        # Key by key, so a manifest's features keep what preprocess settled unless it says otherwise.
        base["features"] = made | (manifest.data.get("features") or {})
        if "splits" in manifest.data:
            base["splits"] = manifest.data["splits"]
        tree = merge(base, {**ratios(splits), "splits.embargo": embargo}, set_)
        data = config(tree)
        _same_features(made, data.features.to_wire())
        dataset = pipeline.finish(result, data)
        out = uri_of(output)
        published = publish.write_dataset(out, dataset.splits, dataset.manifest)
    echo(published_summary(published, out))


# The keys that decide which features exist: settled by `data preprocess`, fixed for `split`.
_MADE = ("groups", "indicators", "window")


def _same_features(made: dict[str, Any], asked: dict[str, Any]) -> None:
    """Refuse a split whose config names other features than the preprocessed ones:
    the published config would describe features the Dataset does not hold."""
    for key in _MADE:
        if asked.get(key) != made.get(key):
            raise DataCliError(
                f"features.{key}: {asked.get(key)!r} is not the {made.get(key)!r} the features "
                f"were made with; run data preprocess with features.{key} changed instead"
            )


def validate(
    dataset: str = typer.Argument(..., help="A published Dataset: its folder or fsspec URI."),
    file: Path | None = FILE,
    min_completeness: float | None = MIN_COMPLETENESS,
    checksum: str | None = typer.Option(
        None, help="The sha256 the Dataset should have (its status.checksum, a model card's)."
    ),
    set_: list[str] = SETS,
) -> None:
    """Re-check a published Dataset: files against the manifest, quality against thresholds.

    Every split file must hash to its manifest's sha256 and hold its rows; every
    symbol must meet the validation thresholds (the Dataset's own unless
    overridden). Exits 1 with one line naming the first miss.
    """
    from kubetrade_workloads.data import stages

    with one_line_errors():
        uri = uri_of(dataset)
        manifest = read_manifest(file)
        stored, _ = stages.published(uri)
        base = {"validation": (stored.get("config") or {}).get("validation", {})}
        if "validation" in manifest.data:
            base["validation"] = manifest.data["validation"]
        tree = merge(base, {"validation.minCompleteness": min_completeness}, set_)
        summary = stages.verify(uri, config(tree).validation)
        if checksum is not None and checksum != summary["checksum"]:
            raise DataCliError(
                f"{dataset}: manifest sha256 is {summary['checksum']}, not {checksum}; "
                "it was published again since, so rebuild what was made from the old one"
            )
    echo({"valid": True} | summary)
