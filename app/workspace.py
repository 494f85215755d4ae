"""What the app keeps in memory between requests: searches (run in a thread, page by page) and
import drafts (one fetched matter with the contacts removed and the roles set on its screens).

Nothing here is written to disk; the engine writes the client's folder and the ledger. Both
stores are bounded (oldest dropped) and safe to use from waitress's threads.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..engine.clio.client import STATUS_ORDER
from ..engine.workflow.importing import ImportResult
from .jobs import ClioWork, Job

T = TypeVar("T")
SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "number": lambda m: (m.get("display_number") or "").casefold(),
    "description": lambda m: (m.get("description") or "").casefold(),
    "client": lambda m: (m.get("client_name") or "").casefold(),
    # Open, Pending, Closed (Clio's order of a matter's life), as `mapctl search --sort status`
    "status": lambda m: (
        STATUS_ORDER.get(str(m.get("status") or ""), len(STATUS_ORDER)),
        str(m.get("display_number") or "").casefold(),
    ),
    "opened": lambda m: m.get("open_date") or "",
}


class Bounded(Generic[T]):
    """A small id -> item store that forgets the oldest items beyond `limit`."""

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def add(self, item: T) -> str:
        key = secrets.token_urlsafe(9)
        with self._lock:
            self._items[key] = item
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return key

    def get(self, key: str | None) -> T | None:
        with self._lock:
            return self._items.get(key or "")


SHOWN = 1000  # rows a search shows at most: beyond, "showing the first N of M: refine"


@dataclass
class Search(Job):
    """One search: filled page by page on the pool (`add_rows`), `rows` as they come."""

    query: str = ""
    pages: int = 0
    matters: int = 0
    total: int | None = None  # how many Clio says there are, when it says
    rows: list[dict[str, Any]] = field(default_factory=list)
    seen: int = 0  # rows the engine gave, shown or not

    def progress(self, pages: int, matters: int, total: int | None, more: bool) -> None:
        """The engine's search progress: after each page."""
        with self.lock:
            self.pages, self.matters, self.wait_until = pages, max(matters, self.matters), None
            self.total = total if total is not None else self.total

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """Rows as they arrive (a page at a time when the engine offers it); at most SHOWN."""
        with self.lock:
            room = SHOWN - len(self.rows)
            self.rows.extend(rows[: max(room, 0)])
            self.seen += len(rows)
            self.matters = max(self.matters, self.seen)

    @property
    def capped(self) -> bool:
        """More matches than are shown: the page asks to refine the search."""
        return (self.total or 0) > len(self.rows) or self.matters > len(self.rows)

    @property
    def found(self) -> int:
        return max(self.total or 0, self.matters, len(self.rows))

    def sorted_rows(self, sort: str, descending: bool) -> list[dict[str, Any]]:
        with self.lock:
            rows = list(self.rows)
        key = SORTS.get(sort)
        if key is not None:
            rows.sort(key=key, reverse=descending)  # stable: ties keep Clio's order
        return rows

    def as_json(self, since: int = 0) -> dict[str, Any]:
        state = super().as_json()
        with self.lock:
            state.update(
                pages=self.pages,
                matters=self.matters,
                total=self.total,
                shown=len(self.rows),
                rows=self.rows[since:],
            )
        return state


@dataclass
class Draft:
    """One matter on its way to becoming a client: the fetched bundle and the choices made."""

    bundle: dict[str, Any]
    back: str  # the search screen to go back to (its results and sort)
    excluded: set[int] = field(default_factory=set)
    roles: dict[int, str] = field(default_factory=dict)
    result: ImportResult | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workspace:
    """The app's memory: searches and drafts, plus a pending connection's App Key/Secret."""

    def __init__(self) -> None:
        self.searches: Bounded[Search] = Bounded(50)
        self.drafts: Bounded[Draft] = Bounded(100)
        self.openings: Bounded[Job] = Bounded(100)  # "Use Selected Matter" while Clio fetches
        self.pending_connection: Any = None  # (base URL, Credentials, URL) between the steps
        self.connected_as = ""  # the Clio user's name, once connected on the Connect screen
        self.account: dict[str, str] | None = None  # who_am_i's name and email, once asked
        self.account_job: Job | None = None  # the Connection page asking who_am_i (one at once)
        self.account_lock = threading.Lock()
        self.connections: Bounded[Job] = Bounded(20)  # Finish Connecting while Clio answers
        self.clio_work = ClioWork()
        self.transport: Any = None  # one SharedTransport for the app's life (views._clio)

    def close(self) -> None:
        """When the app stops: the pool, and the HTTP connections kept for the app's life."""
        self.clio_work.close()
        if self.transport is not None:
            self.transport.shut()
