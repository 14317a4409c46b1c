"""From a source config to a source, and the data job's use of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetrade_testing.market_data import bar_rows
from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef, SourceConfig
from kubetrade_workloads.data import job
from kubetrade_workloads.data.sources import Credentials, SourceError, get_source
from kubetrade_workloads.data.sources.ccxt import rebase
from kubetrade_workloads.data.sources.file import FileSource
from kubetrade_workloads.data.sources.synthetic import SyntheticSource


def _job(source: dict[str, object]) -> DataJob:
    owner = OwnerRef(api_version="v1", kind="Dataset", name="d", namespace="n", uid="u")
    return DataJob(
        owner=owner, output_uri="memory:///out", data=DataConfig.model_validate({"source": source})
    )


def test_each_type_gets_its_source() -> None:
    assert isinstance(get_source(SourceConfig()), SyntheticSource)
    assert isinstance(get_source(SourceConfig(type="file", uri="/tmp/x.csv")), FileSource)
    with pytest.raises(
        SourceError,
        match=r"alpaca: credentials \['apiKey', 'apiSecret'\] are missing; put them in the Secret named by credentialsSecretRef",
    ):
        get_source(SourceConfig(type="alpaca", symbols=["AAPL"]), Credentials())
    with pytest.raises(SourceError, match="ccxt: no exchange named 'nosuchexchange'"):
        get_source(SourceConfig(type="ccxt", exchange="nosuchexchange", symbols=["BTC/USDT"]))


def test_an_endpoint_override_moves_every_api_url() -> None:
    urls = {
        "public": "https://api.binance.com/api/v3",
        "fapi": {"public": "https://fapi.binance.com/fapi/v1"},
        "doc": "n/a",
    }
    assert rebase(urls, "http://127.0.0.1:8080") == {
        "public": "http://127.0.0.1:8080/api/v3",
        "fapi": {"public": "http://127.0.0.1:8080/fapi/v1"},
        "doc": "n/a",
    }


def test_load_bars_reads_the_configured_source(tmp_path: Path) -> None:
    bars = job.load_bars(_job({"symbols": ["A", "B"], "start": "2021-01-01", "end": "2021-03-01"}))
    assert set(bars["symbol"]) == {"A", "B"}
    path = tmp_path / "bars.csv"
    bar_rows("AAA", 5).to_csv(path, index=False)
    from_file = job.load_bars(
        _job({"type": "file", "uri": str(path), "symbols": ["AAA"], "start": "2024-01-01"})
    )
    assert len(from_file) == 5


def test_load_bars_turns_source_errors_into_data_errors(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    bar_rows("AAA", 5).to_csv(path, index=False)
    with pytest.raises(
        job.DataError, match=r"file .*bars.csv: unknown symbol MSFT; the file has AAA"
    ):
        job.load_bars(
            _job({"type": "file", "uri": str(path), "symbols": ["MSFT"], "start": "2024-01-01"})
        )
