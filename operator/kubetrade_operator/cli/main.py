"""The `trading-cli` entry point: each command group lives in its own module.

Heavy libraries (pandas, torch) are imported inside the commands that need
them, so `trading-cli --help` and shell completion stay instant.
"""

from __future__ import annotations

import typer

from .. import __version__
from . import analyze, cluster, config, data, deploy, models, optimize, report, runs, train
from .backtest import backtest
from .console import console
from .status import status
from .trade import trade

app = typer.Typer(
    name="trading-cli",
    help="kubetrade: RL trading workloads on Kubernetes, from one command line.",
    no_args_is_help=True,
)
app.add_typer(data.app, name="data")
app.add_typer(cluster.app, name="operator")
app.command("config")(config.config)
app.add_typer(analyze.app, name="analyze")
app.command("report")(report.report)
app.command("backtest")(backtest)
app.add_typer(train.app, name="train")
app.command("optimize")(optimize.optimize)
train.app.command(
    "tune",
    help="Alias of `trading-cli optimize`: search hyperparameters locally (same options);"
    " the best trial's model lands in --out.",
)(optimize.optimize)
app.command("status")(status)
app.command("trade")(trade)
app.add_typer(deploy.app, name="deploy")
app.add_typer(models.app, name="models")
app.add_typer(runs.app, name="runs")
app.command("console")(console)


@app.command()
def version() -> None:
    """Print the kubetrade version."""
    typer.echo(__version__)


if __name__ == "__main__":
    app()
