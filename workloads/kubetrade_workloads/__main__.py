"""`python -m kubetrade_workloads <data|train|evaluate|trade> --config FILE`: what pods run."""

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


COMMANDS = {"data": _data}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run one workload, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m kubetrade_workloads")
    parser.add_argument("command", choices=["data", "train", "evaluate", "trade"])
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
