"""What the reports compute, against the metrics module and the risk analytics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.reports import returns_frame, write_backtest
from kubetrade_workloads.backtest.performance import summarize
from kubetrade_workloads.reporting import series, tables
from kubetrade_workloads.reporting.analysis import analyze
from kubetrade_workloads.reporting.inputs import from_frame, load
from kubetrade_workloads.risk import var


def test_performance_is_the_metrics_module_on_the_same_series() -> None:
    frame = returns_frame()
    result = analyze(from_frame(frame))
    expected = summarize(frame["returns"], 252.0, benchmark=frame["benchmark"])
    assert result.performance == expected
    assert result.benchmark == summarize(frame["benchmark"], 252.0)


def test_the_engines_own_metrics_are_used_for_a_backtest(tmp_path: Path) -> None:
    doc = write_backtest(tmp_path / "bt.json")
    result = analyze(load(tmp_path / "bt.json"))
    assert result.performance.turnover == doc["metrics"]["turnover"]  # type: ignore[index]
    assert result.performance.sharpe == doc["metrics"]["sharpe"]  # type: ignore[index]
    # ... which agree with recomputing from the equity curve.
    data = load(tmp_path / "bt.json")
    recomputed = summarize(data.returns.to_numpy(), 252.0)
    assert recomputed.sharpe == pytest.approx(result.performance.sharpe, rel=1e-9)


def test_risk_section() -> None:
    frame = returns_frame()
    result = analyze(from_frame(frame), confidence=0.99, horizon=5)
    methods = [e.method for e in result.risk.estimates]
    assert methods == ["historical", "parametric", "cornish_fisher", "monte_carlo"]
    assert result.risk.estimates[1] == var.parametric(frame["returns"], 0.99, 5)
    assert result.risk.kupiec is not None and result.risk.var_window == 250
    assert result.risk.kupiec.observations == len(frame) - 250


def test_short_series_skip_kupiec_and_stay_defined() -> None:
    frame = returns_frame(bars=10, benchmark=False)
    result = analyze(from_frame(frame))
    assert result.risk.kupiec is None
    assert result.stress.exposure == 1.0  # no benchmark, no beta
    assert result.stress.windows and result.stress.windows[0].periods == 5


def test_gap_scenario_goes_through_beta() -> None:
    result = analyze(from_frame(returns_frame()))
    gap = result.stress.scenarios[0]
    assert gap.loss == pytest.approx(0.10 * result.performance.beta)
    vol = result.stress.scenarios[1]
    assert vol.stressed_var == pytest.approx(3 * vol.base_var)


def test_constant_returns_are_undefined_not_infinite() -> None:
    index = pd.bdate_range("2024-01-01", periods=60, tz="UTC")
    frame = pd.DataFrame({"timestamp": index, "returns": 0.0})
    result = analyze(from_frame(frame))
    assert math.isnan(result.performance.sharpe)
    assert tables.performance(result).rows[3] == ("Sharpe ratio", "n/a")
    json.dumps(result.to_dict(), allow_nan=False)  # NaN became None


def test_to_dict_is_plain_json() -> None:
    out = json.loads(json.dumps(analyze(from_frame(returns_frame())).to_dict(), allow_nan=False))
    assert set(out) == {"performance", "benchmark", "risk", "stress"}
    assert out["stress"]["windows"][0]["start"].startswith("20")


def test_monthly_returns_compound_within_the_month() -> None:
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-02-01"], tz="UTC")
    table = series.monthly_returns(pd.Series([0.1, 0.1, -0.05], index=index))
    assert table.loc[2024, 1] == pytest.approx(0.21)
    assert table.loc[2024, 2] == pytest.approx(-0.05)
    assert np.isnan(table.loc[2024, 3])


def test_rolling_sharpe_is_undefined_without_volatility() -> None:
    values = series.rolling_sharpe(pd.Series([0.01] * 5 + [0.02, -0.01]), 3, 252)
    assert values.iloc[:5].isna().all() and np.isfinite(values.iloc[-1])


def test_metric_names_accept_aliases_and_reject_typos() -> None:
    assert tables.metric_names("sharpe, maxDrawdown,cagr,max-drawdown-duration") == [
        "sharpe",
        "max_drawdown",
        "annual_return",
        "max_drawdown_duration",
    ]
    with pytest.raises(ValueError, match="sharp"):
        tables.metric_names("sharp")
