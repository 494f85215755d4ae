"""The one place the app consumes the engine's matter search (issue 18, items 10 and 11).

`run_search` fills a `Search` job: its rows as each page of Clio's answer arrives (`add_rows`:
the first page is on the screen at once, later pages are appended), Clio's total, and its
progress; it stops asking for pages once `workspace.SHOWN` rows are in (the page then says
"showing the first N of M: refine the search"). Rate-limit waits reach the job through the
Clio client's `sleep` (views._clio) as a countdown.

The engine's bounded search (`ClioClient.search_matters`, "real Clio, round two") does the
paging, the word matching ("Pritchett, Jay") and the bounds; its page callback hands each
page's rows here, with each matter's client id (for the "Imported" mark).
"""

from __future__ import annotations

from typing import Any

from ..engine.clio.client import SearchPage
from .workspace import SHOWN, Search


def run_search(client: Any, query: str, search: Search) -> None:
    def page(found: SearchPage) -> None:
        if found.total is not None:
            search.total = found.total
        search.add_rows([{**row, "client_id": found.clients.get(row["id"])} for row in found.rows])

    client.search_matters(query, limit=SHOWN, on_page=page, progress=search.progress)
    if search.total is None or search.total < search.seen:
        search.total = search.seen
