"""The real-data examples (`examples/data/`) run as their comments say, on the
real sample files they describe, with only the file's place changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kubetrade_operator.api import DatasetSpec
from kubetrade_testing import real_bars
from kubetrade_testing.data_cli import published, run

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"


def test_every_data_example_is_a_valid_dataset_spec() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert [f.name for f in files] == ["eurusd-hourly.yaml", "us-stocks.yaml"]
    for path in files:
        doc = yaml.safe_load(path.read_text())
        assert doc["kind"] == "Dataset"
        DatasetSpec.model_validate(doc["spec"])


@pytest.mark.parametrize(
    ("example", "data"),
    [
        ("us-stocks.yaml", real_bars.stocks_path),
        ("eurusd-hourly.yaml", lambda: real_bars.backtesting_path("EURUSD.csv")),
    ],
)
def test_a_data_example_runs_locally_as_its_comment_says(
    tmp_path: Path, example: str, data: Callable[[], Path]
) -> None:
    result = run(
        "collect", "-f", EXAMPLES / example,
        "--set", f"source.uri={data()}", "--output", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "out")
    if example == "us-stocks.yaml":
        assert out["calendars"] == {"AAPL": "XNYS", "GOOG": "XNYS", "MSFT": "XNYS"}
        actions = {(a["symbol"], a["date"], a["origin"]) for a in out["corporateActions"]}
        assert ("MSFT", "2003-02-18", "given") in actions  # the spec's, not detection's
        assert {("AAPL", "2000-06-21", "detected"), ("AAPL", "2005-02-28", "detected")} <= actions
    else:
        assert out["calendars"] == {"EURUSD": "24/5"}
        assert out["qualityBySymbol"]["EURUSD"]["naiveTimestamps"] == 5000
