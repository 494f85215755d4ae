"""The one place the app consumes the engine's matter search (issue 18, items 10 and 11).

`run_search` fills a `Search` job: its rows (`add_rows`, shown as they arrive; at most
`workspace.SHOWN`), its progress (pages, matters, Clio's total) for the progress line. Rate-limit
waits reach the job through the Clio client's `sleep` (views._clio) as a countdown.

With a bounded search that hands over each page as it arrives (the "real Clio, round two"
issue), pass `search.add_rows` as its page callback here, and its total as `search.total`:
the page then shows the first page at once and appends the rest.
"""

from __future__ import annotations

from typing import Any

from .workspace import Search


def run_search(client: Any, query: str, search: Search) -> None:
    rows = client.search(query, progress=search.progress)
    search.add_rows(rows)
    if search.total is None or search.total < len(rows):
        search.total = len(rows)
