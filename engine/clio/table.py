"""Search results as a table for people, readable in 100 columns.

Stage: presentation only (rows from `ClioClient.search` -> text); no I/O, no httpx.
"""

from __future__ import annotations

from typing import Any

WIDTH = 100
COLUMNS = [
    ("ID", "id", 7),
    ("NUMBER", "display_number", 18),
    ("CLIENT", "client_name", 22),
    ("STATUS", "status", 7),
    ("OPENED", "open_date", 10),
]


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_matters(rows: list[dict[str, Any]]) -> str:
    """Fixed columns, the description takes what is left of 100 columns."""
    if not rows:
        return "No matters found.\n"
    fixed = sum(width + 2 for _, _, width in COLUMNS)
    rest = WIDTH - fixed
    header = "".join(f"{title:<{width}}  " for title, _, width in COLUMNS) + "DESCRIPTION"
    lines = [header.rstrip()]
    for row in rows:
        cells = "".join(f"{_cell(row.get(key), width):<{width}}  " for _, key, width in COLUMNS)
        lines.append((cells + _cell(row.get("description"), rest)).rstrip())
    return "\n".join(lines) + "\n"
