"""Performance metrics of a return series, defined as empyrical-reloaded and quantstats do.

Inputs are simple per-bar returns. Each ratio is annualised with
`periods_per_year`, which `periods_per_year(interval, market)` gives for our
intervals from `market.cadence`, the one annualisation per calendar: 252
trading days for equities (6.5-hour sessions intraday: 390 one-minute bars, 7
hourly bars), 260 weekdays of 24 hours for FX, 365 days of 24 hours for crypto.

Definitions follow the reference libraries, and the tests check each against
them to 1e-9; where a reference would return infinity or a made-up number we
return NaN, meaning "undefined":

- fewer than two returns: volatility, Sharpe, Sortino, alpha and beta are NaN;
  no returns at all: every metric is NaN;
- zero dispersion (a constant series): volatility is 0, Sharpe is NaN (never
  infinite), Sortino is NaN when there is no downside, Calmar is NaN when there
  is no drawdown, beta is NaN against a constant benchmark;
- profit factor with no losing bar and win rate with no non-zero bar are NaN;
- an annualised figure too large for a float (a huge gain over a few bars
  annualised) is NaN, not infinite.

Win rate, profit factor and expectancy count bars, not round-trip trades (as
quantstats does): a three-day trade with two up days is two wins and a loss.
Unlike quantstats, a bar whose return is within 1e-12 of zero has not moved:
float noise must not decide a win rate.
`max_drawdown` is a negative fraction (empyrical's sign); durations count bars.
Missing values (NaN) are ignored as empyrical does; infinite values raise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from ..market import cadence
from ..market.cadence import Market as Market  # where the backtest's users import it
from ..market.history import FloatArray

ArrayLike = Sequence[float] | FloatArray


class MetricsError(ValueError):
    """Input the metrics cannot use; the message says which."""


def periods_per_year(interval: str, market: Market | str = Market.EQUITIES) -> float:
    """Bars per year for an interval (1m, 5m, 15m, 1h, 1d) in a market."""
    try:
        return cadence.periods_per_year(interval, market)
    except KeyError as err:
        raise MetricsError(str(err.args[0])) from None


def clean_returns(values: ArrayLike) -> FloatArray:
    """Returns as a flat float array without NaN; raises MetricsError on infinities."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if math.isfinite(float(arr.sum())):  # one pass, no copy: NaN and inf poison a sum
        return arr
    finite = np.isfinite(arr)
    if np.isinf(arr).any():
        raise MetricsError("returns contain infinite values")
    return arr[finite]


def _pair(returns: ArrayLike, benchmark: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r = np.asarray(returns, dtype=np.float64).reshape(-1)
    b = np.asarray(benchmark, dtype=np.float64).reshape(-1)
    if r.shape != b.shape:
        raise MetricsError(f"returns ({r.size}) and benchmark ({b.size}) differ in length")
    if math.isfinite(float(r.sum()) + float(b.sum())):  # nothing missing: no copies
        return r, b
    if np.isinf(r).any() or np.isinf(b).any():
        raise MetricsError("returns or benchmark contain infinite values")
    keep = ~(np.isnan(r) | np.isnan(b))
    return r[keep], b[keep]


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.nan


def _constant(r: FloatArray) -> bool:
    return bool(r.max() == r.min())


def _std(r: FloatArray) -> float:
    """Sample standard deviation (ddof=1), two passes, one temporary array."""
    centred = r - np.mean(r)
    return math.sqrt(float(centred @ centred) / (r.size - 1))


def total_return(returns: ArrayLike) -> float:
    """Compounded return over the whole series."""
    r = clean_returns(returns)
    if r.size == 0:
        return math.nan
    return float(np.prod(r + 1.0) - 1.0)


def annual_return(returns: ArrayLike, periods_per_year: float) -> float:
    """Compound annual growth rate; -1 once the equity is wiped out."""
    r = clean_returns(returns)
    if r.size == 0:
        return math.nan
    ending = float(np.prod(r + 1.0))
    if ending <= 0:
        return -1.0
    try:
        return _finite(ending ** (1.0 / (r.size / periods_per_year)) - 1.0)
    except OverflowError:  # a few bars compounded over a year: too large to mean anything
        return math.nan


def annual_volatility(returns: ArrayLike, periods_per_year: float) -> float:
    """Sample standard deviation (ddof=1) scaled by sqrt(periods per year); 0 if constant."""
    r = clean_returns(returns)
    if r.size < 2:
        return math.nan
    if _constant(r):
        return 0.0
    return _std(r) * math.sqrt(periods_per_year)


def sharpe_ratio(returns: ArrayLike, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Mean excess return over its standard deviation, annualised; NaN when undefined."""
    r = clean_returns(returns)
    if r.size < 2:
        return math.nan
    excess = r - risk_free if risk_free else r
    spread = _std(excess)
    if _constant(excess) or spread == 0:  # == 0 also when tiny values underflow
        return math.nan
    return _finite(float(np.mean(excess)) / spread * math.sqrt(periods_per_year))


def probabilistic_sharpe(returns: ArrayLike, benchmark_sharpe: float = 0.0) -> float:
    """Probabilistic Sharpe Ratio (Bailey & López de Prado, 2012): the probability
    that the true per-bar Sharpe ratio exceeds `benchmark_sharpe`, given the number
    of bars and the returns' skewness and (non-excess) kurtosis:

        PSR = Φ((SR - SR*) √(n-1) / √(1 - γ3·SR + (γ4-1)/4·SR²))

    A high Sharpe over few bars, or one earned by a fat left tail, scores low.
    NaN below 3 bars or without variance.
    """
    r = clean_returns(returns)
    if r.size < 3 or _constant(r):
        return math.nan
    spread = _std(r)
    if spread == 0:
        return math.nan
    sr = float(np.mean(r)) / spread
    z = (r - np.mean(r)) / float(np.std(r))
    return sharpe_probability(
        sr, benchmark_sharpe, r.size, float(np.mean(z**3)), float(np.mean(z**4))
    )


def sharpe_probability(sr: float, benchmark: float, bars: int, skew: float, kurt: float) -> float:
    """PSR from the moments: Φ((SR - SR*) √(n-1) / √(1 - γ3·SR + (γ4-1)/4·SR²)),
    per-bar Sharpe ratios, non-excess kurtosis; NaN where the variance term is not positive."""
    variance = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not variance > 0 or bars < 2:
        return math.nan
    stat = (sr - benchmark) * math.sqrt(bars - 1) / math.sqrt(variance)
    return 0.5 * (1.0 + math.erf(stat / math.sqrt(2.0)))


EULER_GAMMA = 0.5772156649015329


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """The Sharpe ratio the best of `trials` independent trials reaches by luck alone
    when every true Sharpe is 0 (Bailey & López de Prado 2014, eq. 7's SR0):

        SR0 = √V · ((1-γ)·Φ⁻¹(1 - 1/N) + γ·Φ⁻¹(1 - 1/(N·e)))

    `sharpe_variance` (V) is the variance of the trials' per-bar Sharpe ratios.
    """
    if trials < 2 or not sharpe_variance > 0:
        return 0.0
    inverse = NormalDist().inv_cdf
    n = float(trials)
    spread = (1.0 - EULER_GAMMA) * inverse(1.0 - 1.0 / n) + EULER_GAMMA * inverse(
        1.0 - 1.0 / (n * math.e)
    )
    return math.sqrt(sharpe_variance) * spread


def deflated_sharpe(returns: ArrayLike, trials: int, sharpe_variance: float) -> float:
    """Deflated Sharpe Ratio (Bailey & López de Prado, 2014): the Probabilistic
    Sharpe Ratio against the Sharpe the best of `trials` would show by chance
    (`expected_max_sharpe`), so the winner of a search is judged for the search.
    One trial (or no spread between trials) deflates nothing: it is the PSR against 0.
    """
    return probabilistic_sharpe(returns, expected_max_sharpe(trials, sharpe_variance))


def downside_risk(returns: ArrayLike, periods_per_year: float, required: float = 0.0) -> float:
    """Root mean square of returns below `required`, annualised."""
    r = clean_returns(returns)
    if r.size == 0:
        return math.nan
    below = np.minimum(r - required if required else r, 0.0)
    return math.sqrt(float(below @ below) / r.size) * math.sqrt(periods_per_year)


def sortino_ratio(returns: ArrayLike, periods_per_year: float, required: float = 0.0) -> float:
    """Annualised mean excess return over downside risk; NaN without downside."""
    r = clean_returns(returns)
    if r.size < 2:
        return math.nan
    risk = downside_risk(r, periods_per_year, required)
    if risk == 0:
        return math.nan
    return _finite((float(np.mean(r)) - required) * periods_per_year / risk)


def drawdown_series(returns: ArrayLike) -> FloatArray:
    """Drawdown of each bar from the running peak (the starting equity counts as a peak)."""
    r = clean_returns(returns)
    wealth = np.empty(r.size + 1)  # in place: one buffer instead of six temporaries
    wealth[0] = 100.0
    grown = wealth[1:]
    np.add(r, 1.0, out=grown)
    np.cumprod(grown, out=grown)
    grown *= 100.0
    peak = np.fmax.accumulate(wealth)
    np.subtract(wealth, peak, out=wealth)
    wealth /= peak
    drawdown: FloatArray = wealth[1:]
    return drawdown


def max_drawdown(returns: ArrayLike) -> float:
    """The deepest drawdown, as a negative fraction (0 without one)."""
    return drawdown_stats(returns)[0]


def max_drawdown_duration(returns: ArrayLike) -> float:
    """The longest run of bars spent below a previous peak (0 without a drawdown)."""
    return drawdown_stats(returns)[1]


def recovery_time(returns: ArrayLike) -> float:
    """Bars from the trough of the deepest drawdown until equity regains its peak.

    0 without a drawdown; NaN when the series ends before it recovers.
    """
    return drawdown_stats(returns)[2]


def drawdown_stats(returns: ArrayLike) -> tuple[float, float, float]:
    """Maximum drawdown, its longest duration and the recovery time, from one pass."""
    r = clean_returns(returns)
    if r.size == 0:
        return math.nan, math.nan, math.nan
    drawdown = drawdown_series(r)
    trough = int(np.argmin(drawdown))
    deepest = float(drawdown[trough])
    if not deepest < 0:
        return deepest, 0.0, 0.0
    # Runs of bars under water: (first, last) pairs from the edges of the mask.
    under = np.concatenate([[False], drawdown < 0, [False]])
    edges = np.flatnonzero(np.diff(under.astype(np.int8)))
    firsts, lasts = edges[::2], edges[1::2] - 1
    duration = float(np.max(lasts - firsts + 1))
    last = int(lasts[np.searchsorted(lasts, trough)])
    recovery = math.nan if last == r.size - 1 else float(last - trough + 1)
    return deepest, duration, recovery


def calmar_ratio(returns: ArrayLike, periods_per_year: float) -> float:
    """Annual return over the absolute maximum drawdown; NaN without a drawdown."""
    r = clean_returns(returns)
    if r.size == 0:
        return math.nan
    return calmar(annual_return(r, periods_per_year), drawdown_stats(r)[0])


def calmar(annual: float, deepest: float) -> float:
    """Calmar from an annual return and a (negative) maximum drawdown already computed."""
    if not deepest < 0:
        return math.nan
    return _finite(annual / abs(deepest))


# A bar's return within this of zero did not move: it is the last bit of an
# equity recomputed another way (cash plus flat positions summed in another
# order gives 1e-16), and counting it would make a win rate depend on that order.
_STILL = 1e-12


def _moves(returns: ArrayLike) -> FloatArray:
    """Returns without NaN, those within float noise of zero set to exactly zero."""
    r = clean_returns(returns)
    return np.where(np.abs(r) > _STILL, r, 0.0)


def win_rate(returns: ArrayLike) -> float:
    """Share of non-zero bars that gained; NaN when no bar moved."""
    r = _moves(returns)
    moved = np.count_nonzero(r)
    if moved == 0:
        return math.nan
    return float(np.count_nonzero(r > 0) / moved)


def profit_factor(returns: ArrayLike) -> float:
    """Sum of gains over the absolute sum of losses; NaN without a loss."""
    r = _moves(returns)
    losses = -float(np.minimum(r, 0.0).sum())
    if losses == 0:
        return math.nan
    return float(np.maximum(r, 0.0).sum()) / losses


def expectancy(returns: ArrayLike) -> float:
    """Expected return of a bar that moved: win rate x average win + loss rate x average loss."""
    r = _moves(returns)
    moved = np.count_nonzero(r)
    if moved == 0:
        return math.nan
    return float(r.sum()) / moved  # zero bars add nothing to the sum


def alpha_beta(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """Annualised alpha and beta against a benchmark (bars where either is NaN are dropped)."""
    r, b = _pair(returns, benchmark)
    if r.size < 2:
        return math.nan, math.nan
    if risk_free:
        r, b = r - risk_free, b - risk_free
    residual = b - np.mean(b)
    variance = float(residual @ residual) / r.size
    if variance < 1e-30:
        return math.nan, math.nan
    beta = float(residual @ r) / r.size / variance
    excess = float(np.mean(r)) - beta * float(np.mean(b))  # mean(r - beta * b)
    with np.errstate(over="ignore"):  # overflow means undefined: NaN below
        alpha = float(np.power(excess + 1.0, periods_per_year) - 1.0)
    return _finite(alpha), beta


def turnover(traded: ArrayLike, equity: ArrayLike, periods_per_year: float) -> float:
    """Annualised turnover: traded notional over mean equity, per year of bars."""
    notional = np.asarray(traded, dtype=np.float64).reshape(-1)
    value = np.asarray(equity, dtype=np.float64).reshape(-1)
    if value.size == 0 or notional.size != value.size:
        return math.nan
    mean_equity = float(np.mean(value))
    if mean_equity <= 0:
        return math.nan
    return float(notional.sum() / mean_equity * periods_per_year / value.size)


def exposure(gross: ArrayLike) -> float:
    """Share of bars with any position open (gross exposure above zero)."""
    g = np.asarray(gross, dtype=np.float64).reshape(-1)
    if g.size == 0:
        return math.nan
    return float(np.count_nonzero(g > 0) / g.size)
