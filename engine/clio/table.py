"""Search results as a table for people, fitted to the terminal (100 columns off a terminal).

Stage: presentation only (rows from `ClioClient.search` -> text); no I/O, no httpx.
Columns take the width their values need; when the line would pass the width (the terminal's,
issue 11; 100 columns when not on one) the widest of number, client and description give way one
character at a time (never below 12), so all three stay readable. The id, status and date are
never cut.
"""

from __future__ import annotations

from typing import Any

from ..report import printable

WIDTH = 100
MIN_WIDTH = 12
COLUMNS = [
    ("ID", "id"),
    ("NUMBER", "display_number"),
    ("CLIENT", "client_name"),
    ("STATUS", "status"),
    ("OPENED", "open_date"),
    ("DESCRIPTION", "description"),
]
SHRINKABLE = (1, 2, 5)


def _text(value: Any) -> str:
    """One line of printable text (a newline or an escape sequence from Clio data neither
    breaks the row nor drives the terminal)."""
    if value is None:
        return ""
    return " ".join(printable(value).split())


def _cell(value: Any, width: int) -> str:
    text = _text(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _widths(rows: list[dict[str, Any]], width: int) -> list[int]:
    widths = [max(len(t), *(len(_text(r.get(k))) for r in rows)) for t, k in COLUMNS]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        column = max(SHRINKABLE, key=lambda i: widths[i])
        if widths[column] <= MIN_WIDTH:
            break
        widths[column] -= 1
    return widths


def column_widths(rows: list[dict[str, Any]], width: int = WIDTH) -> list[int]:
    """The columns' widths for `rows` in `width` columns (to write later pages alike)."""
    return _widths(rows, width)


def format_matters(
    rows: list[dict[str, Any]],
    width: int = WIDTH,
    *,
    widths: list[int] | None = None,
    header: bool = True,
) -> str:
    """One line per matter, a header first, in `width` columns; an empty result says so.
    `widths` (from `column_widths`) keeps the columns of a table written page by page;
    `header=False` leaves the header out (a later page)."""
    if not rows:
        return "No matters found.\n"
    widths = widths or _widths(rows, width)
    lines = (
        ["  ".join(f"{t:<{w}}" for (t, _), w in zip(COLUMNS, widths, strict=True)).rstrip()]
        if header
        else []
    )
    for row in rows:
        cells = [_cell(row.get(k), w).ljust(w) for (_, k), w in zip(COLUMNS, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
