"""Validation names the symbol and the check, in one line, or stays silent."""

from __future__ import annotations

import pandas as pd
import pytest

from kubetrade_workloads.config.data import ValidationConfig
from kubetrade_workloads.data.quality import QualityReport, summarize
from kubetrade_workloads.data.validate import ValidationFailed, check

NOW = pd.Timestamp("2024-01-10", tz="UTC")
GOOD = QualityReport(
    "AAA",
    rows_in=100,
    expected=100,
    rows_out=100,
    outliers=0,
    last=pd.Timestamp("2024-01-09", tz="UTC"),
)


DEFAULT = ValidationConfig()


def _fails(report: QualityReport, config: ValidationConfig = DEFAULT) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check([report], config, ["AAA"], NOW)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_good_report_passes() -> None:
    check([GOOD], ValidationConfig(max_staleness_days=2), ["AAA"], NOW)


@pytest.mark.parametrize(
    ("report", "config", "expected"),
    [
        (
            QualityReport("AAA", rows_in=90, expected=100, gaps=8, missing=2, rows_out=95),
            ValidationConfig(max_gap_ratio=0.5),
            "symbol AAA: check completeness: 0.9000 < minCompleteness 0.95 (8 gaps, 2 missing of 100 bars)",
        ),
        (
            QualityReport("AAA", rows_in=97, expected=100, gaps=3, rows_out=100),
            ValidationConfig(max_gap_ratio=0.02),
            "symbol AAA: check gaps: gap ratio 0.0300 > maxGapRatio 0.02",
        ),
        (
            QualityReport("AAA", rows_in=100, expected=100, rows_out=100, outliers=5),
            ValidationConfig(),
            "symbol AAA: check outliers: outlier ratio 0.0500 > maxOutlierRatio 0.01 (5 of 100 bars)",
        ),
        (
            QualityReport(
                "AAA",
                rows_in=100,
                expected=100,
                rows_out=100,
                last=pd.Timestamp("2024-01-01", tz="UTC"),
            ),
            ValidationConfig(max_staleness_days=5),
            "symbol AAA: check staleness: last bar 2024-01-01T00:00:00+00:00 is 9.0 days old > maxStalenessDays 5",
        ),
        (
            QualityReport("AAA"),
            ValidationConfig(),
            "symbol AAA: check bars: the source returned no bars",
        ),
        (
            QualityReport("AAA", rows_in=10, expected=10, gaps=0, missing=10),
            ValidationConfig(),
            "symbol AAA: check bars: none of 10 bars survived cleaning",
        ),
        (
            QualityReport("AAA", rows_in=10, off_calendar=10, calendar="XNYS"),
            ValidationConfig(),
            "symbol AAA: check bars: none of 10 bars survived cleaning: 10 fall outside "
            "calendar XNYS; set cleaning.calendar to the market's calendar",
        ),
    ],
    ids=[
        "completeness",
        "gaps",
        "outliers",
        "staleness",
        "no-bars",
        "none-left",
        "none-on-calendar",
    ],
)
def test_each_check_names_the_symbol_and_the_check(
    report: QualityReport, config: ValidationConfig, expected: str
) -> None:
    assert _fails(report, config) == f"validation failed for {expected}"


def test_a_symbol_missing_from_the_source_fails_and_others_are_counted() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check(
            [GOOD, QualityReport("BBB", rows_in=50, expected=100, gaps=50, rows_out=50)],
            ValidationConfig(),
            ["AAA", "BBB", "CCC"],
            NOW,
        )
    assert str(caught.value) == (
        "validation failed for symbol BBB: check completeness: 0.5000 < minCompleteness 0.95 "
        "(50 gaps, 0 missing of 100 bars) (and 2 more)"
    )


def test_thresholds_at_zero_and_one_accept_anything_present() -> None:
    lenient = ValidationConfig(min_completeness=0, max_gap_ratio=1, max_outlier_ratio=1)
    check(
        [QualityReport("AAA", rows_in=5, expected=100, gaps=95, rows_out=5, outliers=5)],
        lenient,
        ["AAA"],
        NOW,
    )


def test_the_dataset_summary_sums_counts_and_keeps_the_worst_completeness() -> None:
    other = QualityReport("BBB", rows_in=80, expected=100, gaps=20, rows_out=80, outliers=2)
    summary = summarize([GOOD, other], rows_without_symbol=3)
    assert summary["rowsIn"] == 180 and summary["gaps"] == 20 and summary["outliers"] == 2
    assert summary["completeness"] == 0.9 and summary["minCompleteness"] == 0.8
    assert summary["symbols"] == 2 and summary["rowsWithoutSymbol"] == 3
    assert all(isinstance(v, int | float) for v in summary.values())
