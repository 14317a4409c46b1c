"""Data errors as one line on stderr, `error: <what>; <how to fix>`, and exit 1.

A data error is the user's to fix (a file, a symbol, a threshold, a field),
so the line names the problem and the way out; a traceback would bury both.
Anything else (a bug) still raises with its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError


class DataCliError(Exception):
    """A complete message (`what; how to fix`) and the exit code (2: a usage error)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


CONFIG_FIX = "fix it in the manifest, its flag or --set"


def field_errors(exc: ValidationError, prefix: str = "") -> str:
    """The first field error as `path: message (got value)`, and how many more there are."""
    errors = exc.errors()
    first = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    path = (prefix + path.lstrip(".")).rstrip(".") or "(top level)"
    message = str(first["msg"]).removeprefix("Value error, ")
    shown: Any = first.get("input")
    got = "" if isinstance(shown, dict | list) or shown is None else f" (got {shown!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path}: {message}{got}{more}; {CONFIG_FIX}"


def _hints() -> list[tuple[type[BaseException], str]]:
    # Imported here: the workload's data modules load pandas, which `--help` must not wait for.
    from kubetrade_workloads.data.features import FeatureError
    from kubetrade_workloads.data.job import DataError
    from kubetrade_workloads.data.sources import SourceError
    from kubetrade_workloads.data.splits import SplitError
    from kubetrade_workloads.data.stages import IntegrityError
    from kubetrade_workloads.data.validate import ValidationFailed
    from kubetrade_workloads.market.bars import BarsError

    return [
        (
            ValidationFailed,
            "relax the threshold it names (--min-completeness, --set validation.KEY=VALUE) "
            "or fix the bars",
        ),
        (SourceError, "check --source, --uri, --symbols and the dates"),
        (DataError, "check --source, --uri, --symbols and the dates"),
        (
            SplitError,
            "give it more bars or change the splits (--splits, --embargo, --set splits.*)",
        ),
        (
            FeatureError,
            "use more bars (--start, --period) or change the features (--features, --set features.*)",
        ),
        (IntegrityError, "publish the Dataset again (data collect, or data split)"),
        (BarsError, "fix the bars or set the cleaning option it names (--set cleaning.*)"),
        (FileNotFoundError, "check the path"),
        (OSError, "check the path and its permissions"),
        (ValueError, "check the input data"),
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def describe(err: BaseException) -> str | None:
    """`what; how to fix` for a data error; None for anything else."""
    from pydantic import ValidationError

    if isinstance(err, DataCliError):
        return _one_line(str(err))
    if isinstance(err, ValidationError):
        return _one_line(field_errors(err))
    for kind, hint in _hints():
        if isinstance(err, kind):
            what = _one_line(str(err)) or type(err).__name__
            return what if "; " in what else f"{what}; {hint}"  # keep a fix the message has
    return None


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a data error raised inside into `error: ...` on stderr and a non-zero exit."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as err:
        line = describe(err)
        if line is None:
            raise
        typer.echo(f"error: {line}", err=True)
        raise typer.Exit(err.code if isinstance(err, DataCliError) else 1) from None
