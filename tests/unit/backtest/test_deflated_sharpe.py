"""The Deflated Sharpe Ratio against the worked example of Bailey & López de Prado (2014)."""

import math

import numpy as np
import pytest

from kubetrade_workloads.backtest.metrics import (
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
    sharpe_probability,
)
from kubetrade_workloads.config.evaluation import Gates
from kubetrade_workloads.evaluation.gates import evaluate


def test_the_papers_numerical_example() -> None:
    # 100 trials whose annualised Sharpe ratios vary by 1/2, daily bars (250 a year):
    # the best is expected to show SR0 ≈ 0.1132 per day by luck. The winner's 2.5
    # annualised over 1250 days, skew -3, kurtosis 10, deflates to DSR ≈ 0.9004.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = sharpe_probability(2.5 / math.sqrt(250), sr0, 1250, -3.0, 10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_more_trials_deflate_more_and_one_trial_is_the_psr() -> None:
    returns = np.random.default_rng(3).normal(0.001, 0.01, 500)
    one = deflated_sharpe(returns, 1, 0.01)
    assert one == pytest.approx(probabilistic_sharpe(returns))
    values = [deflated_sharpe(returns, n, 0.01) for n in (2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True) and values[-1] < one
    assert deflated_sharpe(returns, 100, 0.0) == pytest.approx(one)  # no spread, no luck


def test_the_gate_reads_the_deflated_sharpe() -> None:
    gates = Gates(min_deflated_sharpe=0.95)
    (passed,) = evaluate(gates, {"deflatedSharpe": 0.97}, {})
    (failed,) = evaluate(gates, {"deflatedSharpe": 0.5}, {})
    (missing,) = evaluate(gates, {}, {})
    assert passed.passed and not failed.passed and not missing.passed
    assert passed.name == "minDeflatedSharpe" and "deflated sharpe 0.5" in failed.message
