"""The one place the app consumes the engine's matter search (issue 18, items 10 and 11).

`run_search` fills a `Search` job: its rows as each page of Clio's answer arrives (`add_rows`:
the first page is on the screen at once, later pages are appended), Clio's total, and its
progress; it stops asking for pages once `workspace.SHOWN` rows are in (the page then says
"showing the first N of M: refine the search"). Rate-limit waits reach the job through the
Clio client's `sleep` (views._clio) as a countdown.

Until the engine's own bounded search with a page callback lands (the "real Clio, round two"
issue), the pages are read as the job's own Clio session hands them over; with that search,
this function becomes a call that passes `search.add_rows` as the page callback.
"""

from __future__ import annotations

from typing import Any

from .workspace import SHOWN, Search


class _Enough(Exception):
    """Enough rows to show: no more pages are asked for."""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _row(matter: dict[str, Any]) -> dict[str, Any]:
    """A search row, as `ClioClient.search` makes it (id, number, description, client...)."""
    client = _mapping(matter.get("client"))
    return {
        "id": matter.get("id"),
        "display_number": matter.get("display_number"),
        "description": matter.get("description"),
        "client_name": client.get("name"),
        "client_id": client.get("id"),
        "status": matter.get("status"),
        "open_date": matter.get("open_date"),
    }


def run_search(client: Any, query: str, search: Search) -> None:
    session = client.session  # the job's own session (one per job): changing it is local
    real_get = session.get

    def get(url: str, params: Any = None) -> Any:
        body = real_get(url, params)
        if "/matters.json" not in url or not isinstance(body, dict):
            return body
        data = body.get("data")
        meta = _mapping(body.get("meta"))
        total = meta.get("records")
        if isinstance(total, int) and not isinstance(total, bool):
            search.total = total
        if isinstance(data, list):
            search.add_rows([_row(m) for m in data if isinstance(m, dict)])
        paging = _mapping(meta.get("paging"))
        if len(search.rows) >= SHOWN and paging.get("next"):
            raise _Enough
        return body

    session.get = get
    try:
        client.search(query, progress=search.progress)
    except _Enough:
        pass
    finally:
        session.get = real_get
    if search.total is None or search.total < search.seen:
        search.total = search.seen
