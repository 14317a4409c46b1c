"""Data-parallel forecaster benchmark: seconds per epoch of the CNN-LSTM trained by
1 pod against 2 (and more) pods, on the same data, with the best validation loss each
reaches.

    .venv/bin/python benchmarks/ddp_bench.py             # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/ddp_bench.py --quick     # a smoke run
    .venv/bin/python benchmarks/ddp_bench.py --pods 1 2 4 --threads 4   # a bigger machine

Every run is what a pod runs: `python -m torch.distributed.run` with the operator's
own command line (`builders/distributed.py`), "pods" meeting at a c10d rendezvous on
loopback; one pod is a world of one (no DDP wrapper, no collectives), the peer. Each
run is timed twice, for E and 2E epochs, and the difference divided by E is the time
per epoch, so process start-up, imports and data loading drop out. Each process gets
`--threads` torch threads (OMP_NUM_THREADS): compare pods on one machine only with
pods x threads <= cores, or the pods share cores and the figure says nothing about a
cluster, where each pod has cores of its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hack"))

from kubetrade_testing import markets, training  # noqa: E402
from kubetrade_testing.torchrun import run_pods  # noqa: E402
from kubetrade_workloads.training import artifacts  # noqa: E402


def timed_run(
    data: str, root: Path, pods: int, epochs: int, params: dict[str, object]
) -> tuple[float, float]:
    """Wall seconds of one torchrun launch of `pods` pods for `epochs`, and its best loss."""
    work = training.job(
        root / f"p{pods}-e{epochs}-{time.monotonic_ns()}",
        "CNN_LSTM",
        dataset=data,
        environment={"window": 30},
        cnnLstm={**params, "epochs": epochs, "patience": epochs},
    )
    started = time.perf_counter()
    run_pods(work, root, pods, timeout=3600)
    elapsed = time.perf_counter() - started
    return elapsed, artifacts.read_card(work.output_uri).metrics["validationLoss"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bars", type=int, default=1500)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=256, help="the global batch")
    parser.add_argument("--quick", action="store_true", help="tiny data, one epoch")
    args = parser.parse_args()
    if args.quick:
        args.bars, args.epochs = 300, 1
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    params = {"hiddenSize": args.hidden, "layers": 2, "batchSize": args.batch, "dropout": 0.0}
    symbols = [f"S{i:02d}" for i in range(args.symbols)]
    cores = os.cpu_count()
    print(
        f"machine: {platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}"
    )
    print(
        f"data: {args.bars} bars x {args.symbols} symbols, window 30; CNN-LSTM hidden {args.hidden}"
        f" x 2 layers, global batch {args.batch}, {args.threads} thread(s) per pod"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = markets.dataset(root / "dataset", symbols=symbols, n=args.bars)
        rows = []
        for pods in args.pods:
            short, _ = timed_run(data, root, pods, args.epochs, params)
            long, loss = timed_run(data, root, pods, 2 * args.epochs, params)
            rows.append((pods, (long - short) / args.epochs, loss))
        base = rows[0][1]
        print("\n| pods | s / epoch | speed-up vs 1 pod | best validation loss |")
        print("|---:|---:|---:|---:|")
        for pods, per_epoch, loss in rows:
            print(f"| {pods} | {per_epoch:.2f} | {base / per_epoch:.2f}x | {loss:.6f} |")
        if max(args.pods) * args.threads > (cores or 1):
            print(
                f"\nnote: {max(args.pods)} pods x {args.threads} threads > {cores} cores: pods share cores here"
            )


if __name__ == "__main__":
    main()
