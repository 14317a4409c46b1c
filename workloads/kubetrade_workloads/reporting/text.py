"""Report tables as plain text, for the terminal."""

from __future__ import annotations

from .tables import Table, numeric_columns


def render_text(tables: list[Table]) -> str:
    """Each table with its title, aligned columns and note."""
    return "\n\n".join(_one(t) for t in tables) + "\n"


def _one(table: Table) -> str:
    rows = ([table.header] if any(table.header) else []) + [tuple(r) for r in table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.header))]
    numeric = numeric_columns(table)
    lines = [table.title, "-" * len(table.title)]
    for row in rows:
        cells = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    if table.note:
        lines.append(table.note)
    return "\n".join(lines)
