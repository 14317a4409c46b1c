"""Schedule benchmark: what one look of the schedule timer costs, per resource.

    .venv/bin/python benchmarks/schedule_bench.py            # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/schedule_bench.py --quick    # a smoke run, seconds

The operator looks at every scheduled Dataset and TrainingRun every
`handlers.schedule.EVERY` seconds. A look that finds the time before the next
scheduled one it computed last is a comparison ("quiet"); any other look plans
with croniter (`builders.schedule.plan`): just after a run, for a weekday
schedule in a zone, and with over 100 missed minutes to count. Each case runs
`--repeat` times; the best is reported as microseconds of CPU per look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from kubetrade_operator.api.common import Schedule
from kubetrade_operator.builders.schedule import plan
from kubetrade_operator.handlers import schedule as timer

NOW = dt.datetime(2026, 12, 7, 15, 0, 30, tzinfo=dt.UTC)


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _planning(cron: str, zone: str, since_last: dt.timedelta) -> Callable[[], object]:
    schedule = Schedule(cron=cron, time_zone=zone)
    status = {"lastScheduleTime": _stamp(NOW - since_last)}
    created = NOW - dt.timedelta(days=30)
    return lambda: plan(schedule, status, created, NOW, None)


def _quiet() -> Callable[[], object]:
    spec = {"cron": "*/1 * * * *"}
    status = {"lastScheduleTime": _stamp(NOW), "jobName": "j", "phase": "Succeeded"}
    schedule = Schedule.model_validate(spec)
    timer._quiet["bench"] = (schedule, status["lastScheduleTime"], NOW + dt.timedelta(seconds=30))
    timer._pruned["bench"] = ("j", "Succeeded")
    # What tick() does before it decides: parse the spec, compare.
    return lambda: timer._still_quiet("bench", Schedule.model_validate(spec), status, NOW)


def _per_look(look: Callable[[], object], number: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            look()
        best = min(best, (time.process_time() - start) / number)
    return best * 1e6


def main() -> None:
    """Print microseconds of CPU per look for each case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few looks, for a smoke run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    number = 50 if args.quick else 2000
    cases = {
        "quiet (before the next time)": _quiet(),
        "*/1 * * * *, UTC, 20 s after a run": _planning(
            "*/1 * * * *", "UTC", dt.timedelta(seconds=20)
        ),
        "0 18 * * 1-5, America/New_York, 20 h after": _planning(
            "0 18 * * 1-5", "America/New_York", dt.timedelta(hours=20)
        ),
        "*/1 * * * *, UTC, 3 days missed (> 100)": _planning(
            "*/1 * * * *", "UTC", dt.timedelta(days=3)
        ),
    }
    print(f"{'case':48} {'us CPU / look':>14}")
    for name, look in cases.items():
        print(f"{name:48} {_per_look(look, number, args.repeat):14.1f}")


if __name__ == "__main__":
    main()
