"""`trading-cli backtest`: backtest a model or a baseline on a Dataset (or synthetic bars).

The same engine the Model evaluation Job runs: next-open fills by default,
commission and slippage from the flags, a buy-and-hold benchmark, and, when the
dataset has walk-forward folds, one backtest per fold with the spread of the
metrics across folds.
"""

from __future__ import annotations

import functools
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # heavy imports stay inside the command (keeps --help instant)
    from kubetrade_workloads.market.history import History
    from kubetrade_workloads.market.strategy import Strategy

app = typer.Typer(help="Backtest a model or a baseline strategy.")


# Choices spelled out here (not imported) so that --help needs no numpy or pandas.
class Fill(StrEnum):
    NEXT_OPEN = "next-open"
    CLOSE = "close"


class RebalanceChoice(StrEnum):
    ON_CHANGE = "on-change"
    PERIODIC = "periodic"
    THRESHOLD = "threshold"


class BenchmarkChoice(StrEnum):
    BUY_AND_HOLD = "buy_and_hold"
    EQUAL_WEIGHT = "equal_weight"


class MarketChoice(StrEnum):
    AUTO = "auto"
    EQUITIES = "equities"
    FX = "fx"
    CRYPTO = "crypto"


class Engine(StrEnum):
    AUTO = "auto"
    VECTORIZED = "vectorized"
    EVENT = "event"


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"


_TABLE_ROWS = (
    ("totalReturn", "Total return", "pct"),
    ("annualReturn", "Annual return", "pct"),
    ("annualVolatility", "Annual volatility", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("maxDrawdown", "Max drawdown", "pct"),
    ("maxDrawdownDuration", "Max drawdown bars", "int"),
    ("recoveryTime", "Recovery bars", "int"),
    ("winRate", "Win rate", "pct"),
    ("profitFactor", "Profit factor", "num"),
    ("expectancy", "Expectancy", "pct"),
    ("turnover", "Turnover (annual)", "num"),
    ("exposure", "Exposure", "pct"),
    ("alpha", "Alpha", "pct"),
    ("beta", "Beta", "num"),
)


@app.command()
def backtest(
    dataset: str | None = typer.Option(
        None, help="Dataset folder or URI (holding manifest.json); synthetic bars when omitted."
    ),
    split: str = typer.Option("all", help="Splits to run on: all, or names such as test."),
    # A str, not a Path: Path("s3://b/m") is "s3:/b/m", no longer a URI.
    model: str | None = typer.Option(
        None, help="A trained model's folder or URI (policy file and model card)."
    ),
    strategy: str = typer.Option(
        "buy-and-hold", help="Baseline without --model: buy-and-hold, ma-crossover, momentum."
    ),
    fast: int = typer.Option(10, help="ma-crossover: fast window (bars)."),
    slow: int = typer.Option(50, help="ma-crossover: slow window (bars)."),
    window: int = typer.Option(20, help="momentum: lookback (bars)."),
    top: int | None = typer.Option(None, help="momentum: hold only the N strongest."),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols (default: all)."),
    start: str | None = typer.Option(None, help="First day traded (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Last day traded (YYYY-MM-DD)."),
    fill: Fill = typer.Option(Fill.NEXT_OPEN, help="Fill at the next bar's open or this close."),
    commission_bps: float = typer.Option(1.0, help="Commission, basis points of notional."),
    slippage_bps: float = typer.Option(2.0, help="Slippage, basis points of price."),
    impact_bps: float = typer.Option(0.0, help="Extra slippage at 100% of a bar's volume."),
    max_participation: float | None = typer.Option(
        None, help="Largest share of a bar's volume one order may fill."
    ),
    allow_short: bool = typer.Option(False, help="Allow short positions."),
    initial_cash: float = typer.Option(100_000.0, help="Starting cash."),
    rebalance: RebalanceChoice = typer.Option(
        RebalanceChoice.ON_CHANGE, help="When targets become orders."
    ),
    every: int = typer.Option(1, help="periodic: bars between rebalances."),
    threshold: float = typer.Option(0.05, help="threshold: weight drift that rebalances."),
    benchmark: BenchmarkChoice = typer.Option(BenchmarkChoice.BUY_AND_HOLD, help="Benchmark."),
    market: MarketChoice = typer.Option(
        MarketChoice.AUTO,
        help="Annualisation: equities (252 days), fx (260 weekdays of 24h) or crypto (365).",
    ),
    interval: str = typer.Option("1d", help="Synthetic bars only: 1m, 5m, 15m, 1h or 1d."),
    seed: int = typer.Option(42, help="Synthetic bars only: the seed."),
    walk_forward: bool = typer.Option(True, help="Also backtest each walk-forward fold."),
    engine: Engine = typer.Option(Engine.AUTO, help="Engine path (auto: vectorised if it can)."),
    output: Output = typer.Option(Output.TABLE, help="How to print the result."),
    out: Path | None = typer.Option(None, help="Also write the full result (with curves) here."),
    risk: Path | None = typer.Option(
        None,
        help="Risk config (YAML, or a TradingSession manifest's spec.risk): limits, "
        "breakers and sizing through the trader's risk manager (event-driven engine).",
    ),
) -> None:
    """Backtest on a Dataset's bars and print the metrics against the benchmark."""
    from kubetrade_workloads.backtest import (
        BacktestSettings,
        Rebalance,
        RebalanceMode,
        run_backtest,
    )
    from kubetrade_workloads.backtest.metrics import periods_per_year
    from kubetrade_workloads.config.evaluation import Benchmark
    from kubetrade_workloads.market.costs import CostModel
    from kubetrade_workloads.market.sim_broker import FillTiming

    try:
        bars, meta = _load(dataset, split, symbols, interval, seed, end)
        history, first = _history(bars, symbols, start)
        chosen = _strategy(model, strategy, fast, slow, window, top, history)
        meta["strategy"] = str(model) if model else strategy
        settings = BacktestSettings(
            initial_cash=initial_cash,
            costs=CostModel(commission_bps, slippage_bps, impact_bps, allow_short),
            timing=FillTiming(fill.value),
            rebalance=Rebalance(RebalanceMode(rebalance.value), every, threshold),
            benchmark=Benchmark(benchmark.value),
            periods_per_year=periods_per_year(meta["interval"], _market(market, meta)),
            max_participation=max_participation,
            start=first,
        )
        fresh = None
        if risk is not None:  # a fresh manager for the run and for each walk-forward fold
            cadence = (meta["interval"], _market(market, meta))
            fresh = functools.partial(_risk_manager, risk, *cadence, settings)
        result = run_backtest(history, chosen, settings, fresh() if fresh else None, path=engine)
        doc = {"strategy": meta["strategy"], "dataset": meta["dataset"], **result.to_dict()}
        if walk_forward and meta["folds"]:
            doc["walkForward"] = _walk_forward(meta, symbols, chosen, settings, engine, fresh)
    except (ValueError, OSError) as err:  # input problems name themselves
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if out is not None:
        full = {**doc, **result.to_dict(series=True)}
        out.write_text(json.dumps(_jsonable(full), indent=2) + "\n", encoding="utf-8")
    text = json.dumps(_jsonable(doc), indent=2) if output == Output.JSON else _table(doc)
    typer.echo(text)


def _load(
    dataset: str | None, split: str, symbols: str | None, interval: str, seed: int, end: str | None
) -> tuple[Any, dict[str, Any]]:
    """Bars (cut after `end`) and what is known about them."""
    import pandas as pd

    meta: dict[str, Any] = {"dataset": dataset or "synthetic", "folds": [], "strategy": ""}
    if dataset is None:
        from kubetrade_workloads.config.data import SourceConfig
        from kubetrade_workloads.data.synthetic import generate

        names = symbols.split(",") if symbols else ["SYN-A", "SYN-B", "SYN-C"]
        bars = generate(SourceConfig(symbols=names, interval=interval, seed=seed))
        meta.update(interval=interval, market="auto", symbols=names)
    else:
        from kubetrade_workloads.backtest.dataset import open_dataset

        ds = open_dataset(dataset)
        bars = ds.bars(None if split == "all" else split.split(","))
        meta.update(interval=ds.interval, market=ds.market.value, folds=ds.folds(), source=ds)
    if end:
        bars = bars[bars["timestamp"] < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)]
    return bars, meta


def _history(bars: Any, symbols: str | None, start: str | None) -> tuple[History, int]:
    """The History of the bars and the index of the first traded bar."""
    import numpy as np
    import pandas as pd

    from kubetrade_workloads.market.history import History

    wanted = symbols.split(",") if symbols else None
    history = History.from_frame(bars, wanted)
    first = 0
    if start:
        stamp = np.datetime64(pd.Timestamp(start).tz_localize(None), "ns")
        first = int(np.searchsorted(history.times, stamp))
        if first >= len(history):
            raise ValueError(f"no bars on or after --start {start}")
    return history, first


def _strategy(
    model: str | None,
    name: str,
    fast: int,
    slow: int,
    window: int,
    top: int | None,
    history: History,
) -> Strategy:
    from kubetrade_workloads.market.policy import PolicyStrategy
    from kubetrade_workloads.strategies import baseline

    if model is None:
        choices: dict[str, dict[str, Any]] = {
            "ma-crossover": {"fast": fast, "slow": slow},
            "momentum": {"window": window, "top": top},
        }
        params = choices.get(name, {})
        return baseline(name, **params)
    try:  # the training workload (torch, stable-baselines3) provides the loader
        from kubetrade_workloads.training.policies import load_policy
    except ImportError as err:
        raise ValueError(
            f"loading a trained model needs the training workload ({err}); "
            "install kubetrade[train], or use --strategy for a baseline"
        ) from err
    uri = model if "://" in model else f"file://{Path(model).resolve()}"
    adapter = PolicyStrategy(load_policy(uri))
    adapter.require(history)  # names the features the dataset lacks
    return adapter


def _market(flag: MarketChoice, meta: dict[str, Any]) -> str:
    if flag != MarketChoice.AUTO:
        return flag.value
    if meta.get("market", "auto") != "auto":
        return str(meta["market"])
    from kubetrade_workloads.market.cadence import market_of

    return market_of(meta.get("symbols", [])).value


def _walk_forward(
    meta: dict[str, Any],
    symbols: str | None,
    strategy: Strategy,
    settings: Any,
    engine: str,
    gate: Any = None,
) -> dict[str, Any]:
    from kubetrade_workloads.backtest.walk_forward import walk_forward
    from kubetrade_workloads.market.history import History

    wanted = symbols.split(",") if symbols else None
    history = History.from_frame(meta["source"].bars(), wanted)
    walk = walk_forward(history, meta["folds"], strategy, settings, gate, path=engine)
    doc = walk.to_dict()
    card = getattr(getattr(strategy, "policy", None), "card", None)
    if card is not None:  # a trained model may have learned from the folds: say so
        from kubetrade_workloads.evaluation.folds import overall, sample

        labels = [sample(card.trained_span, f.fold) for f in walk.folds]
        for row, label in zip(doc["folds"], labels, strict=True):
            row["sample"] = label.value
        doc["sample"] = overall(labels).value
    return doc


def _risk_manager(path: Path, interval: str, market: str, settings: Any) -> Any:
    """The trader's risk manager on `path`'s risk config, scaled to the bars' cadence."""
    import yaml

    from kubetrade_workloads.config.risk import RiskConfig
    from kubetrade_workloads.market.cadence import BARS_PER_DAY, Market
    from kubetrade_workloads.risk.manager import RiskManager

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"--risk {path}: not YAML ({err})") from err
    if isinstance(doc, dict) and doc.get("kind") == "TradingSession":
        doc = (doc.get("spec") or {}).get("risk") or {}
    per_day = float(BARS_PER_DAY[Market(market)][interval])
    config = RiskConfig.model_validate(doc)
    return RiskManager(config, periods_per_year=settings.periods_per_year, bars_per_day=per_day)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "undefined"
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "int":
        return str(int(value))
    return f"{value:.3f}"


def _table(doc: dict[str, Any]) -> str:
    mine, bench = doc["metrics"], doc["benchmark"]
    lines = [
        f"{doc['strategy']} on {doc['dataset']} ({doc['start']} .. {doc['end']}), "
        f"{len(doc['symbols'])} symbols, {doc['fills']} fills, mode {doc['mode']}",
        f"final equity {doc['finalEquity']:.2f} from {doc['initialCash']:.2f}",
        "",
        f"{'metric':<20}{'strategy':>14}{'benchmark':>14}",
    ]
    for key, label, kind in _TABLE_ROWS:
        lines.append(
            f"{label:<20}{_cell(mine.get(key), kind):>14}{_cell(bench.get(key), kind):>14}"
        )
    walk = doc.get("walkForward")
    if walk:
        lines += [
            "",
            f"{'fold':<12}{'start':<12}{'end':<12}{'return':>10}{'sharpe':>10}{'max dd':>10}",
        ]
        for fold in walk["folds"]:
            m = fold["metrics"]
            lines.append(
                f"{fold['fold']:<12}{fold['start'][:10]:<12}{fold['end'][:10]:<12}"
                f"{_cell(m['totalReturn'], 'pct'):>10}{_cell(m['sharpe'], 'num'):>10}"
                f"{_cell(m['maxDrawdown'], 'pct'):>10}"
            )
        sharpe = walk["spread"]["sharpe"]
        lines.append(
            f"sharpe across folds: mean {_cell(sharpe['mean'], 'num')}, "
            f"std {_cell(sharpe['std'], 'num')}, min {_cell(sharpe['min'], 'num')}, "
            f"max {_cell(sharpe['max'], 'num')}"
        )
        if walk.get("sample") == "in-sample":
            lines.append("in-sample: the model trained on these folds (docs/guide/model.md)")
    return "\n".join(lines)
