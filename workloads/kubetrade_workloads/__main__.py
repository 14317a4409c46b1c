"""`python -m kubetrade_workloads <data|train|tune|evaluate|trade> --config FILE`: what pods run."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import owner_status
from .config import DataJob


def _data(config: Path) -> int:
    from .data import job  # heavy imports (pandas, pyarrow) only for the command that needs them

    work = DataJob.model_validate_json(config.read_text())
    manifest = job.run(work)
    summary = job.summary(work, manifest)
    owner_status.report(work.owner, summary)
    print(json.dumps(summary))
    return 0


def _train(config: Path) -> int:
    from .config import TrainJob
    from .training import job  # torch and stable-baselines3 load only for training pods

    work = TrainJob.model_validate_json(config.read_text())
    if work.resume_from is None:
        # A retried pod continues where the last one stopped: the output URI is
        # per spec revision, so the checkpoints found there are this run's.
        work = work.model_copy(update={"resume_from": "latest"})
    result = job.run(work)  # reports progress, then metrics and checkpointUri, to the owner
    print(json.dumps(job.summary(work, result)))
    return 0


def _tune(config: Path) -> int:
    from .config import TrainJob
    from .tuning import study, worker  # optuna, torch and stable-baselines3: tuning pods only

    work = TrainJob.model_validate_json(config.read_text())
    # One pod of an Indexed Job: its index tells its trials (and a restart's orphans) apart.
    index = int(os.environ.get("JOB_COMPLETION_INDEX", "0"))
    worker.stop_on_sigterm()  # a deleted pod records its running trial FAIL as it goes
    store = study.study_storage(work.output_uri, study.storage_url())
    summary = worker.run(
        work, index, store=store, report=lambda s: owner_status.report(work.owner, {"search": s})
    )
    print(json.dumps(summary))
    return 0


def _evaluate(config: Path) -> int:
    from .config import EvalJob
    from .evaluation import job  # the backtest engine and the policy loader (torch)

    work = EvalJob.model_validate_json(config.read_text())
    status = job.run(work)
    owner_status.report(work.owner, status)
    print(json.dumps(status))
    return 0


def _trade(config: Path) -> int:
    import threading

    from .config import TradeJob
    from .trading import allocator, job

    work = TradeJob.model_validate_json(config.read_text())
    allocator.keep_heap()
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per lease renewal
    stop = threading.Event()
    job.install_sigterm(stop)
    outcome = job.run(work, job.Runtime(stop=stop))
    print(json.dumps({"code": outcome.code, "reason": outcome.reason, "bars": outcome.bars}))
    if outcome.code:
        print(f"error: {outcome.reason}", file=sys.stderr)
    return outcome.code


COMMANDS = {
    "data": _data,
    "train": _train,
    "tune": _tune,
    "evaluate": _evaluate,
    "trade": _trade,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run one workload, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m kubetrade_workloads")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("KUBETRADE_CONFIG", "/etc/kubetrade/config.json")),
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    handler = COMMANDS.get(args.command)
    if handler is None:
        print(
            f"error: the {args.command} workload is not available in this version", file=sys.stderr
        )
        return 2
    try:
        return handler(args.config)
    except Exception as err:  # the pod's exit reason: one clear line on stderr
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
