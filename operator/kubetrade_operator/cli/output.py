"""`--output table|json|yaml` for commands that list things: one enum, one renderer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer
import yaml


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


OUTPUT_OPTION = typer.Option(Output.TABLE, "--output", "-o", help="table, json or yaml.")


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """`rows` as aligned text columns (`(key, HEADER)` pairs), kubectl style."""
    cells = [[header for _, header in columns]]
    cells += [["" if row.get(key) is None else str(row[key]) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    return "\n".join(lines) + "\n"


def render(
    records: Sequence[Mapping[str, Any]],
    output: Output,
    columns: Sequence[tuple[str, str]],
    table_rows: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """JSON and YAML print `records` whole; a table prints `table_rows` (default: records)."""
    if output == Output.JSON:
        return json.dumps(list(records), indent=2, default=str) + "\n"
    if output == Output.YAML:
        return yaml.safe_dump(list(records), sort_keys=False, default_flow_style=False)
    return table(table_rows if table_rows is not None else records, columns)
