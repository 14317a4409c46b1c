"""What a finished study leaves: counts for the status, the trials table, and the
best trial's policy published as the run's own output (so the Model path takes it)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import fsspec
import numpy as np
import optuna
from optuna.trial import TrialState

from .. import storage
from ..training import artifacts
from .objective import SHARPE_ATTR, trial_row, trial_uri

TABLE_CSV = "trials.csv"
TABLE_JSON = "trials.json"


def counts(study: optuna.Study) -> dict[str, Any]:
    """The status block: trials by state, the best value and parameters so far."""
    trials = study.get_trials(deepcopy=False)
    by_state = {s: sum(t.state == s for t in trials) for s in TrialState}
    summary: dict[str, Any] = {
        "trials": len(trials),
        "running": by_state[TrialState.RUNNING],
        "completed": by_state[TrialState.COMPLETE],
        "pruned": by_state[TrialState.PRUNED],
        "failed": by_state[TrialState.FAIL],
    }
    if by_state[TrialState.COMPLETE]:
        best = study.best_trial
        summary |= {
            "bestTrial": best.number,
            "bestValue": best.value,
            "bestParams": {k: float(v) for k, v in best.params.items()},
        }
    return summary


def table(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial, in number order."""
    return [trial_row(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


def write_table(output_uri: str, rows: list[dict[str, Any]]) -> None:
    """The trials table as CSV and JSON beside the run's policy."""
    columns = sorted({k for row in rows for k in row}, key=lambda k: (k.startswith("param."), k))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    fs, root = fsspec.core.url_to_fs(storage.resolve(output_uri.rstrip("/")))
    fs.makedirs(root, exist_ok=True)
    storage.write_whole(fs, f"{root}/{TABLE_CSV}", text.getvalue().encode())
    storage.write_whole(fs, f"{root}/{TABLE_JSON}", json.dumps(rows, default=str).encode())


def selection(study: optuna.Study) -> dict[str, float]:
    """What the Deflated Sharpe Ratio needs: trials tried and the variance of their
    per-bar validation Sharpe ratios (pruned trials count: they were tried)."""
    tried = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.RUNNING]
    sharpes = [float(t.user_attrs[SHARPE_ATTR]) for t in tried if SHARPE_ATTR in t.user_attrs]
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    return {"trials": float(len(tried)), "trialSharpeVariance": variance}


def publish_best(study: optuna.Study, output_uri: str) -> str:
    """Copy the best trial's model files (a policy, a forecaster or both, as its card
    names them) to the run's output with a card that records the search (trials, the
    Sharpe variance, the trial number); return the card's URI.
    Every worker may call it: the same study gives the same files."""
    best = study.best_trial
    source = trial_uri(output_uri, best.number)
    card = artifacts.read_card(source)
    metrics = card.metrics | selection(study) | {"bestTrial": float(best.number)}
    files = {name: artifacts.read_file(source, name) for name in card.files.values()}
    return artifacts.publish(output_uri, files, card.model_copy(update={"metrics": metrics}))
