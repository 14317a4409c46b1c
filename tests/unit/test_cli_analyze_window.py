"""`trading-cli analyze performance --days N`: the last N days of a returns file or of
a session's equity curve in a trade store, and the inputs it refuses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.reports import write_backtest, write_returns
from kubetrade_workloads.reporting.inputs import InputError, from_frame
from kubetrade_workloads.reporting.window import last_days
from kubetrade_workloads.trading.store.database import SQLITE_FILE, open_engine
from kubetrade_workloads.trading.store.schema import EquityRow

runner = CliRunner()
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBETRADE_STORE_URL", raising=False)


def store_with(folder: Path, curves: dict[str, list[float]]) -> Path:
    """A migrated SQLite trade store holding one daily equity point per value."""
    engine, _ = open_engine(None, folder)
    rows = [
        {
            "session_id": sid,
            "time": START + dt.timedelta(days=i),
            "equity": equity,
            "cash": equity,
            "gross_exposure": 0.0,
            "drawdown": 0.0,
            "day_pnl": 0.0,
            "total_pnl": equity - values[0],
        }
        for sid, values in curves.items()
        for i, equity in enumerate(values)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(EquityRow), rows)
    engine.dispose()
    return folder


def perf(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["analyze", "performance", *args])
    return result.exit_code, result.output


# --- the window itself ------------------------------------------------------------------------


def test_last_days_keeps_the_bars_after_the_last_timestamp_less_n_days() -> None:
    stamps = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")
    data = from_frame(pd.DataFrame({"timestamp": stamps, "returns": range(30)}))
    window = last_days(data, 7)
    assert list(window.returns) == list(range(23, 30))  # Jan 24..30: after Jan 23
    assert window.details["window"] == "last 7 days from 2026-01-24"
    assert len(data.returns) == 30  # the input is left as it was


def test_last_days_drops_the_engines_whole_run_metrics(tmp_path: Path) -> None:
    from kubetrade_workloads.reporting.inputs import load

    write_backtest(tmp_path / "bt.json")
    data = load(tmp_path / "bt.json")
    assert data.metrics is not None
    assert last_days(data, 30).metrics is None


@pytest.mark.parametrize("days", [0, -3])
def test_last_days_refuses_a_window_that_is_not_positive(days: float) -> None:
    stamps = pd.date_range("2026-01-01", periods=5, freq="D", tz="UTC")
    data = from_frame(pd.DataFrame({"timestamp": stamps, "returns": [0.01] * 5}))
    with pytest.raises(InputError, match="positive"):
        last_days(data, days)


# --- files --------------------------------------------------------------------------------


def test_days_limits_a_returns_file(tmp_path: Path) -> None:
    returns = write_returns(tmp_path / "returns.csv", bars=300)
    code, whole = perf("-i", str(returns), "--output", "json")
    assert code == 0, whole
    code, out = perf("-i", str(returns), "--days", "30", "--output", "json")
    assert code == 0, out
    doc = json.loads(out)
    # 30 calendar days of business-day bars: 21 or 22 of them, not 300.
    assert 20 <= doc["bars"] <= 22 and doc["window"].startswith("last 30 days from ")
    assert doc["performance"]["sharpe"] != json.loads(whole)["performance"]["sharpe"]


def test_days_as_a_table_says_which_window(tmp_path: Path) -> None:
    returns = write_returns(tmp_path / "returns.csv", bars=300)
    code, out = perf("-i", str(returns), "--days", "14")
    assert code == 0, out
    assert out.splitlines()[0].endswith("bars)") and "last 14 days from" in out
    assert "Sharpe ratio" in out


@pytest.mark.parametrize("days", ["0", "-1"])
def test_days_must_be_above_zero(tmp_path: Path, days: str) -> None:
    returns = write_returns(tmp_path / "returns.csv", bars=30)
    code, out = perf("-i", str(returns), "--days", days)
    assert code == 2 and "--days must be above 0" in out


def test_a_window_with_no_bars_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    returns = write_returns(tmp_path / "returns.csv", bars=30)
    code, out = perf("-i", str(returns), "--days", "0.01")
    assert code == 2 and "1 bar in the last 0.01 days; a longer window" in out


# --- a local trade store ----------------------------------------------------------------------


def test_days_limits_a_sessions_equity_curve_in_a_local_store(tmp_path: Path) -> None:
    # Flat for 20 days, then +1% a day for the last 10: the window sees only the rise.
    curve = [100.0] * 20 + [100.0 * 1.01**i for i in range(1, 11)]
    state = store_with(tmp_path / "state", {"local/paper": curve, "other/one": [1.0, 2.0]})
    code, out = perf("--state-dir", str(state), "--session-id", "local/paper", "-o", "json")
    assert code == 2  # -o is not an option of analyze: --output is
    code, out = perf(
        "--state-dir", str(state), "--session-id", "local/paper", "--days", "10", "--output", "json"
    )
    assert code == 0, out
    doc = json.loads(out)
    assert doc["input"] == "trade store session local/paper" and doc["bars"] == 10
    assert doc["performance"]["total_return"] == pytest.approx(1.01**10 - 1)
    assert doc["performance"]["win_rate"] == pytest.approx(1.0)


def test_a_store_url_reads_the_same_store(tmp_path: Path) -> None:
    state = store_with(tmp_path / "state", {"ns/s": [100.0, 101.0, 102.0, 103.0]})
    url = f"sqlite:///{state / SQLITE_FILE}"
    code, out = perf("--store-url", url, "--session-id", "ns/s", "--output", "json")
    assert code == 0, out
    assert json.loads(out)["performance"]["total_return"] == pytest.approx(0.03)


def test_an_unknown_session_names_the_ones_the_store_holds(tmp_path: Path) -> None:
    state = store_with(tmp_path / "state", {"local/paper": [1.0, 2.0], "a/b": [1.0, 2.0]})
    code, out = perf("--state-dir", str(state), "--session-id", "nope")
    assert code == 2
    assert "no equity curve for session 'nope'" in out and "a/b, local/paper" in out


def test_a_missing_store_is_named_and_not_created(tmp_path: Path) -> None:
    code, out = perf("--state-dir", str(tmp_path / "none"), "--session-id", "x")
    assert code == 2 and "no trade store at" in out
    missing = tmp_path / "none.sqlite"
    code, out = perf("--store-url", f"sqlite:///{missing}", "--session-id", "x")
    assert code == 2 and "no SQLite trade store at" in out
    assert not missing.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--session-id", "s"], "--session-id reads a session: a cluster one with --live"),
        (["--store-url", "sqlite:///x"], "need --session-id"),
        (["--live", "--days", "3"], "--live needs --session-id"),
        (["--live", "--session-id", "s", "--days", "3"], "give --store-url URL"),
        (["--store-url", "sqlite:///x", "--state-dir", "."], "not both"),
        (["-i", "r.csv", "--store-url", "sqlite:///x", "--session-id", "s"], "--input is a file"),
    ],
)
def test_flags_that_do_not_make_a_series_are_refused(args: list[str], says: str) -> None:
    code, out = perf(*args)
    assert code == 2 and says in out, out
