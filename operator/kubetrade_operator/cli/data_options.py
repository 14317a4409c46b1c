"""The options `trading-cli data` commands share, and how flags become manifest keys.

Each flag sets one key of the Dataset spec (its help names it) and is None
unless given, so only the flags a user types override the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .data_config import as_date, parse_set, period_start, resolve
from .data_errors import DataCliError

RAW_BARS, RAW_SOURCE = "bars.parquet", "source.json"

# Options shared by several commands; each help names the manifest key it sets.
FILE = typer.Option(
    None,
    "--file",
    "-f",
    help="A Dataset manifest (the YAML you kubectl apply): its spec is the config, under the flags.",
)
SETS = typer.Option(
    [],
    "--set",
    help="Any manifest key, dotted, after the flags: --set cleaning.fillLimit=3 "
    "--set source.symbols=AAPL,MSFT --set splits.walkForward.folds=4. Repeatable.",
)


def option(panel: str, text: str) -> Any:
    """A flag that sets one manifest key, unset (None) unless given, grouped in --help."""
    return typer.Option(None, help=text, rich_help_panel=panel)


SYMBOLS = option(
    "Source", "source.symbols, comma-separated; a file's default: all it holds, or its name."
)
INTERVAL = option("Source", "source.interval: 1m, 5m, 15m, 1h or 1d (default 1d).")
START = option("Source", "source.start, YYYY-MM-DD (default 2020-01-01; a file: its first day).")
END = option("Source", "source.end, the day after the last, YYYY-MM-DD (default: today).")
PERIOD = option(
    "Source", "Instead of --start: 5d, 2w, 6mo, 1y, 10y or ytd, back from the end (default today)."
)
CALENDAR = option("Cleaning", "cleaning.calendar: auto, 24/7, 24/5 or an exchange (XNYS).")
TIMEZONE = option(
    "Cleaning", "cleaning.timezone: IANA zone of timestamps written without an offset."
)
ADJUSTMENT = option("Cleaning", "cleaning.adjustment: auto, splits, all or none.")
FILL_LIMIT = option("Cleaning", "cleaning.fillLimit: missing bars filled in a row at most.")
OUTLIER_ACTION = option("Cleaning", "cleaning.outlierAction: keep, drop or clip.")
MIN_COMPLETENESS = option("Validation", "validation.minCompleteness, 0 to 1 (default 0.95).")
FEATURES = option(
    "Features and splits", "features.groups, comma-separated: trend, momentum, volume, ..."
)
SPLITS = option("Features and splits", "splits.train,validation,test ratios: 0.8,0.1,0.1.")
EMBARGO = option("Features and splits", "splits.embargo: timestamps dropped after each cut.")


def uri_of(path: str | Path) -> str:
    """A path as a file:// URI; a URI as it is."""
    return str(path) if "://" in str(path) else f"file://{Path(path).resolve()}"


def ratios(value: str | None) -> dict[str, Any]:
    """`--splits 0.8,0.1,0.1` as the three splits.* keys (the model checks they sum to 1)."""
    if value is None:
        return {}
    parts = value.split(",")
    if len(parts) != 3:
        raise DataCliError(f"--splits {value!r}: give three ratios; e.g. --splits 0.7,0.15,0.15", 2)
    return dict(zip(("splits.train", "splits.validation", "splits.test"), parts, strict=True))


def window(
    start: str | None, end: str | None, period: str | None, base: Any, sets: list[str]
) -> dict[str, Any]:
    """source.start/end flags; `--period` counts back from the end the run will have:
    a `--set source.end`, else --end, else the manifest's."""
    if period is not None and start is not None:
        raise DataCliError("--period and --start both set the first day; give one of them", 2)
    if period is not None:
        last = end if end is not None else (base.get("source") or {}).get("end")
        for item in sets:  # the last one wins, as in `merge`
            key, value = parse_set(item)
            if resolve(key)[0] == ["source", "end"]:
                last = value
        start = period_start(period, as_date(last)).isoformat()
    return {"source.start": start, "source.end": end}


def file_defaults(tree: dict[str, Any]) -> None:
    """A file source without symbols or start reads every symbol and bar it holds."""
    source = tree.setdefault("source", {})
    if source.get("type") is None and source.get("uri"):
        source["type"] = "file"  # --uri alone names a file
    if source.get("type") != "file" or not source.get("uri"):
        return
    if "symbols" in source and "start" in source:
        return
    from kubetrade_workloads.data.sources.file import survey

    symbols, first = survey(str(source["uri"]))
    source.setdefault("symbols", symbols)
    if first is not None:
        source.setdefault("start", first.isoformat())


def echo(summary: dict[str, Any]) -> None:
    """A command's result as JSON on stdout, for a script to read."""
    typer.echo(json.dumps(summary, indent=2, default=str))


def published_summary(published: dict[str, Any], out: str) -> dict[str, Any]:
    """What a command that publishes a Dataset prints: its size, checksum and place."""
    return {key: published[key] for key in ("rows", "symbols", "checksum")} | {"output": out}


def cleaning(**values: Any) -> dict[str, Any]:
    """Flags as cleaning.* keys, by their manifest names."""
    return {f"cleaning.{key}": value for key, value in values.items()}
