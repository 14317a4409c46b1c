"""A model trained on a Dataset's features trades: on prices it makes them live,
on a replay of the Dataset it reads them from the bars."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kubetrade_testing import training
from kubetrade_testing.trading import local_runtime, trade_job, trade_store
from kubetrade_workloads.config import DataJob
from kubetrade_workloads.data import job as data_job
from kubetrade_workloads.market.policy import PRICE_FEATURES
from kubetrade_workloads.trading.job import Outcome, run
from kubetrade_workloads.training import job as train_job

SYMBOLS = ["AAPL", "MSFT"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(the Dataset's URI, the Model's folder): a tiny PPO on synthetic features."""
    root = tmp_path_factory.mktemp("feature-model")
    dataset = f"file://{root}/dataset"
    data_job.run(
        DataJob.model_validate(
            {
                "owner": training.LOCAL.model_dump(by_alias=True),
                "outputUri": dataset,
                "data": {
                    "source": {"symbols": SYMBOLS, "start": "2021-01-04", "end": "2023-06-30"},
                    "features": {"groups": ["momentum", "returns"]},
                },
            }
        )
    )
    result = train_job.run(training.job(root, dataset=dataset))
    assert [f for f in result.card.features if f not in PRICE_FEATURES]
    return dataset, result.model_uri.rsplit("/", 1)[0]


def _trade(
    tmp_path: Path, bars: int, job_fields: dict[str, str], **trading: object
) -> tuple[Outcome, bool, int]:
    """How the session ended, whether any decision held a position, how many orders."""
    job = trade_job(tmp_path, symbols=SYMBOLS, **trading).model_copy(update=job_fields)
    outcome = run(job, local_runtime(max_bars=bars))
    with trade_store(tmp_path) as store:
        decisions = store.decisions(job.session_id)
        held = any(any(abs(w) > 0 for w in d["targets"].values()) for d in decisions)
        return outcome, held, len(store.orders(job.session_id))


@pytest.mark.parametrize(
    ("feed", "bars"),
    [
        ("synthetic", 20),  # prices only: the features are made live
        ("replay", 15),  # a replay of its Dataset: the bars carry the published features
    ],
)
def test_it_trades_prices_with_features_made_live_and_a_replay_of_its_dataset(
    trained: tuple[str, str], tmp_path: Path, feed: str, bars: int
) -> None:
    dataset, model = trained
    fields = {"model_uri": model} | ({"dataset_uri": dataset} if feed == "replay" else {})
    outcome, held, orders = _trade(tmp_path, bars, fields, feed=feed)
    assert (outcome.code, outcome.bars) == (0, bars), outcome.reason
    assert held and orders > 0


def _older_card(model: str, tmp_path: Path, dataset_uri: str | None) -> str:
    """A copy of the model whose card predates the feature record (and, with
    `dataset_uri`, names that Dataset instead of its own)."""
    copy = tmp_path / "model"
    shutil.copytree(Path(model.removeprefix("file://")), copy)
    card = json.loads((copy / "model_card.json").read_text())
    card["dataset"].pop("featureConfig")
    card["dataset"].pop("normalization")
    if dataset_uri is not None:
        card["dataset"]["uri"] = dataset_uri
    (copy / "model_card.json").write_text(json.dumps(card))
    return f"file://{copy}"


def test_an_older_card_makes_its_features_as_its_dataset_records(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    _, model = trained
    older = _older_card(model, tmp_path, None)
    outcome, held, orders = _trade(tmp_path / "state", 20, {"model_uri": older})
    assert (outcome.code, outcome.bars) == (0, 20), outcome.reason
    assert held and orders > 0


def test_a_card_that_cannot_say_how_its_features_were_made_is_refused(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    _, model = trained
    older = _older_card(model, tmp_path, f"file://{tmp_path}/gone")
    outcome, _, orders = _trade(tmp_path / "state", 5, {"model_uri": older})
    assert outcome.code == 2 and "does not say how to make" in outcome.reason
    assert orders == 0
    with trade_store(tmp_path / "state") as store:  # refused before the account was written
        assert store.state(trade_job(tmp_path).session_id) is None
