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
from ..engine.errors import MapctlError
from ..engine.workflow.importing import ImportResult

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


@dataclass
class Search:
    """One search: filled by a thread page by page; `rows` once done, `error` if it failed."""

    query: str
    pages: int = 0
    matters: int = 0
    total: int | None = None  # how many Clio says there are, when it says
    waiting: str = ""  # a rate-limit wait Clio asked for, in words
    rows: list[dict[str, Any]] | None = None
    error: MapctlError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def progress(self, pages: int, matters: int, total: int | None, more: bool) -> None:
        """`ClioClient.search`'s progress: after each page."""
        self.pages, self.matters, self.total, self.waiting = pages, matters, total, ""

    def sorted_rows(self, sort: str, descending: bool) -> list[dict[str, Any]]:
        rows = list(self.rows or [])
        key = SORTS.get(sort)
        if key is not None:
            rows.sort(key=key, reverse=descending)  # stable: ties keep Clio's order
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "done": self.done.is_set(),
            "pages": self.pages,
            "matters": self.matters,
            "total": self.total,
            "waiting": self.waiting,
        }


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
        self.pending_connection: Any = None  # (base URL, Credentials, URL) between the steps
        self.connected_as = ""  # the Clio user's name, once connected on the Connect screen
