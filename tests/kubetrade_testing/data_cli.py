"""Small factories for `trading-cli data` tests: CSV text as tools write it, manifests, runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner, Result

from kubetrade_operator.cli.data import app

runner = CliRunner()


def csv_text(days: int = 200, symbols: tuple[str, ...] = (), gap: int = 0) -> str:
    """Daily bars on every calendar day as tools write them: a pandas index column with
    an empty header (backtesting.py's GOOG.csv), or `Ticker,Date,...` for several symbols;
    `gap` days missing in the middle."""
    rng = np.random.default_rng(7)
    frames = []
    for symbol in symbols or ("",):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
        opens = np.r_[close[0], close[:-1]]
        frame = pd.DataFrame(
            {
                "Date": pd.date_range("2023-01-01", periods=days, freq="D").strftime("%Y-%m-%d"),
                "Open": opens,
                "High": np.maximum(opens, close) * 1.005,
                "Low": np.minimum(opens, close) * 0.995,
                "Close": close,
                "Volume": rng.integers(100_000, 200_000, days),
            }
        )
        frames.append(frame.assign(Ticker=symbol) if symbol else frame)
    table = pd.concat(frames)
    if gap:
        table = table[~table["Date"].between("2023-03-01", f"2023-03-{gap:02d}")]
    if not symbols:
        return str(table.set_index("Date").rename_axis(None).to_csv())
    return str(table.to_csv(index=False))


def dataset_yaml(path: Path, spec: dict[str, Any], kind: str = "Dataset") -> Path:
    doc = {"apiVersion": "kubetrade.io/v1alpha1", "kind": kind, "metadata": {"name": "d"}}
    path.write_text(yaml.safe_dump(doc | {"spec": spec}))
    return path


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def published(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "manifest.json").read_text()))


def one_line_error(result: Result, code: int, *needles: str) -> None:
    """The run failed with `code` and one `error: what; how to fix` line naming each needle."""
    assert result.exit_code == code, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, result.stderr
    assert line.startswith("error: ") and "; " in line, line
    for needle in needles:
        assert needle in line, line
