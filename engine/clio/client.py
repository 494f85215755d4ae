"""The Clio client: search matters, resolve a matter, fetch a matter bundle in two rounds.

Stage: Clio -> raw records. Over `ClioSession` (auth, limits, retries, errors). The `fields`
strings are tested constants with one level of braces (NOTES 1.1, 9.2), naming only fields Clio's
OpenAPI document defines for each path; only parameters the document declares are sent (a test
checks every request). Paging follows `meta.paging.next` as-is, only to the host the token was
issued for, with a guard against a page that repeats.

Fetch plan (issues 9 and 17: <= 4 requests with a cold custom-field cache, <= 3 warm, 2 rounds):
  round 1, concurrently:
    - the matter: by id `GET /matters/{id}.json` (by display number `GET /matters.json?query=`);
    - its people: `GET /matters/{id}/contacts.json?fields=id,is_client,relationship_name,
      relationship{id,description}` (MatterContacts: every client of the matter, `is_client`,
      and every related contact with its relationship; Clio's multi-client matters have up to
      11 clients, `matter.client` is only the default one and `/relationships.json` lists no
      client). The related rows become the bundle's `relationships` ({id, description,
      contact {id}}, Clio's order), the other clients its `co_clients`;
    - `GET /custom_fields.json?parent_type=contact` with picklist options, cached for the run and
      for 10 minutes in $MAPCTL_HOME/cache (keyed by base URL);
  round 2: every contact (client, co-clients, related) in one `GET /contacts.json?ids[]=...`.
The matter's contact list answers in place of `/relationships.json?matter_id=`: asking both would
cost a fifth request. Should Clio refuse it (400, 403, 404), or list it without the matter's
default client (then its rows cannot be trusted), the roster comes from `/relationships.json`
(`fields=id,description,contact{id}`) in one more round, with no co-clients and a warning
(`ClioClient.warnings`, also told to `notice`). A display number needs the matter's id before
its people can be asked for: one more round, no more requests. Each further 200 rows or contacts
costs one more page.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ClioError, MapctlError, NotFound
from ..fsutil import write_atomic
from .auth import CACHE_DIR, Credentials, TokenStore, base_url_for
from .fields import asked_keys, drop_fields
from .session import (
    ClioSession,
    RefusedFields,
    Wait,
    origin,
    permission_for,
    permission_hint,
    same_origin,
    short_url,
)

Record = dict[str, Any]
SEARCH_FIELDS = "id,display_number,description,status,open_date,client{id,name}"
MATTER_FIELDS = (
    "id,etag,number,display_number,custom_number,description,status,open_date,close_date,"
    "pending_date,location,client_reference,billable,client{id,name,type,first_name,last_name},"
    "practice_area{id,name},responsible_attorney{id,name}"
)
MATTER_CONTACT_FIELDS = "id,is_client,relationship_name,relationship{id,description}"
RELATIONSHIP_FIELDS = "id,description,contact{id}"
# Should Clio refuse the braces (a 400, whatever its body says), the bare nested name still
# gives the contact's default fields, its id among them (NOTES 1.1): one more request.
RELATIONSHIP_FALLBACK_FIELDS = "id,description,contact"
CONTACT_FIELDS = (
    "id,etag,type,name,prefix,first_name,middle_name,last_name,title,initials,date_of_birth,"
    "primary_email_address,secondary_email_address,primary_phone_number,"
    "secondary_phone_number,is_client,created_at,updated_at,company{id,name},"
    "addresses{id,name,street,city,province,postal_code,country,primary},"
    "email_addresses{id,name,address,primary},phone_numbers{id,name,number,primary},"
    "web_sites{id,name,address,default_web_site},"
    "custom_field_values{id,field_name,field_type,value,custom_field,picklist_option,soft_deleted}"
)
CUSTOM_FIELD_FIELDS = (
    "id,etag,name,parent_type,field_type,displayed,deleted,required,display_order,"
    "picklist_options{id,etag,option,deleted_at}"
)
USER_FIELDS = "id,name,email"
PAGE_LIMIT = "200"
# Paging that never ends (issue 17 item 13): a listing stops after MAX_PAGES pages (10,000
# records: more than any matter's contacts or a firm's custom fields), at the first link to a
# page already fetched, or at a page whose records were all sent before; it says which.
MAX_PAGES = 50
SEARCH_LIMIT = 1000  # matters a search fetches unless told otherwise (--limit N, --all)
ALL_MAX_WAIT = 300.0  # `search --all`: rate-limit waits allowed in all (asked for by a script)
ALL_MAX_PAGES = 500  # `search --all`: 100,000 matters at most, whatever Clio's count says
# Clio's `order` for a search sort (the document's enum for /matters.json); the others are
# sorted here. Paging follows Clio's `next` link whatever the order [INFERRED: the Paging doc
# asks for id(asc) with cursor paging; should Clio refuse another order, the search asks again
# by id and sorts here].
CLIO_ORDERS: dict[str | None, str] = {
    None: "id",
    "number": "display_number",
    "client": "client.name",
    "open_date": "open_date",
}
CACHE_TTL = 600.0
STATUS_ORDER: dict[str, int] = {"Open": 0, "Pending": 1, "Closed": 2}
SORT_KEYS: dict[str, Callable[[Record], Any]] = {
    "number": lambda m: m["display_number"] or "",
    "description": lambda m: (m["description"] or "").casefold(),
    "client": lambda m: (m["client_name"] or "").casefold(),
    "open_date": lambda m: m["open_date"] or "",
    # Open, Pending, Closed (Clio's order of a matter's life), then anything else; by number.
    "status": lambda m: (STATUS_ORDER.get(m["status"] or "", 3), m["display_number"] or ""),
}
# Called after each page of a listing: (page number, records so far, total or None, more?).
Progress = Callable[[int, int, int | None, bool], None]
Warn = Callable[[str], None]


@dataclass
class SearchPage:
    """One page of a search as it arrives: its rows that match every word of the search (in
    Clio's order), the page's number, Clio's records received so far, how many match in all
    (Clio's `meta.records`, None when it does not say) and whether more pages follow."""

    rows: list[Record]
    page: int
    fetched: int
    total: int | None
    more: bool


@dataclass
class SearchResult:
    """A whole search: the rows (sorted as asked), Clio's total for the word it was asked
    (`meta.records`), the Clio records fetched, whether it stopped at `limit` with more left,
    the word Clio was asked and the words matched here."""

    rows: list[Record]
    total: int | None
    fetched: int
    truncated: bool
    asked: str
    words: list[str]
    limit: int | None
    pages: int = 0
    sorted_here: bool = False

    def summary(self) -> str:
        """One line for a person (the CLI's stderr, the app): how many, of how many, and what
        to do when the search stopped early."""
        found = f"{len(self.rows):,} matter{'s' if len(self.rows) != 1 else ''}"
        if not self.truncated:
            return f"{found} found."
        total = f"{self.total:,}" if self.total is not None else "more"
        first = f"the first {self.fetched:,}" + (" by Clio id" if self.sorted_here else "")
        if len(self.words) > 1:
            head = (
                f"Clio has {total} matters matching {self.asked!r}; of {first}, {found} "
                f"match {' '.join(self.words)!r}."
            )
        elif self.total is None:
            head = f"Showing {first} matters matching {self.asked!r}; Clio has more."
        else:
            head = f"Showing {first} of {total} matters matching {self.asked!r}."
        return (
            f"{head} Refine the search (more of the number or the client's name), or use "
            "--limit N or --all."
        )


class _OrderRefused(Exception):
    """Clio answered the first page of a search sorted by Clio with 400 or 422."""


class ClioClient:
    """Read-only Clio API v4 client. `request_count` counts every HTTP request sent."""

    def __init__(
        self, session: ClioSession, cache_dir: Path | None = None, warn: Warn | None = None
    ) -> None:
        self.session = session
        self.cache_dir = cache_dir
        self._custom_fields: list[Record] | None = None
        self.warnings: list[str] = []  # what went on with less than asked (refused fields...)
        self.warn = warn  # told each warning as it happens (the CLI: stderr)
        self._refused: dict[str, set[str]] = {}  # endpoint -> field names Clio refused
        self._lock = threading.Lock()

    def _warn(self, text: str) -> None:
        with self._lock:
            if text in self.warnings:
                return
            self.warnings.append(text)
        if self.warn is not None:
            self.warn(text)

    # --- refused fields (issue 17 item 2) ------------------------------------------------------
    def get(
        self,
        url: str,
        params: list[tuple[str, str]] | None = None,
        keep: tuple[str, ...] = ("id",),
    ) -> dict[str, Any]:
        """`session.get`, with Clio's refusal of named fields met: those fields are dropped
        (`parent{child}` drops one child), the request is sent once more, and a warning names
        them. The endpoint remembers them, so later requests leave them out at once. Names in
        `keep` are never dropped (a nested one is asked bare instead)."""
        key = _endpoint(url)
        params = self._without_refused(key, params)
        try:
            return self.session.get(url, params)
        except RefusedFields as error:
            fewer, dropped = _drop(params, error.names, keep)
            if not dropped:
                raise
            with self._lock:
                self._refused.setdefault(key, set()).update(dropped)
            lost = [name for name in dropped if name.split("{")[0] not in keep]
            if lost:
                self._warn_refused(key, lost, error.clio_text)
            return self.session.get(url, fewer)

    def _warn_refused(self, key: str, dropped: list[str], clio_text: str) -> None:
        self._warn(
            f"Clio refused the field{'s' if len(dropped) != 1 else ''} "
            f"{', '.join(dropped)} on {key} (HTTP 400: {clio_text}); mapctl went on "
            "without them, so what they hold is left blank (run `mapctl doctor` to see "
            "every field Clio refuses)"
        )

    def _without_refused(
        self, key: str, params: list[tuple[str, str]] | None
    ) -> list[tuple[str, str]] | None:
        with self._lock:
            refused = set(self._refused.get(key, ()))
        if not refused or params is None:
            return params
        return _drop(params, refused)[0]

    def fields_sent(self, url: str, fields: str) -> str:
        """`fields` as this client sends it to `url` (without the names Clio refused)."""
        with self._lock:
            refused = set(self._refused.get(_endpoint(url), ()))
        return drop_fields(fields, refused)[0] if refused else fields

    @property
    def request_count(self) -> int:
        return self.session.request_count

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ClioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def who_am_i(self) -> Record:
        """The connected Clio user: id, name, email (needs no particular permission)."""
        body = self.get(f"{self.session.api}/users/who_am_i.json", [("fields", USER_FIELDS)])
        return _record(body)

    # --- paging ------------------------------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: list[tuple[str, str]],
        *,
        max_pages: int = MAX_PAGES,
        keep: tuple[str, ...] = ("id",),
    ) -> Iterator[tuple[dict[str, Any], list[Record]]]:
        """Each page (its body and records): the first with params, then `meta.paging.next`
        verbatim (no params=). Stops, saying what happened, at a link to a page already
        fetched, a page of records all sent before, or after `max_pages` pages."""
        url: str | None = f"{self.session.api}/{path}"
        seen: set[str] = set()
        ids: set[Any] = set()
        query: list[tuple[str, str]] | None = params
        while url is not None:
            if url in seen:
                raise ClioError(
                    f"Clio's link to page {len(seen) + 1} of {path} leads back to a page "
                    "already fetched (its paging goes round in a circle); stopped",
                    hint="try again; if it persists, report it with the command you ran",
                    url=short_url(url),
                )
            if len(seen) >= max_pages:
                raise ClioError(
                    f"Clio still linked to a next page of {path} after {len(seen)} pages "
                    f"({len(ids):,} records); stopped, as it looks like paging that never ends",
                    hint="try again; if it persists, report it with the command you ran",
                    url=short_url(url),
                )
            seen.add(url)
            body = self.get(url, query, keep)
            query = None
            records = _records(body["data"], path)
            page_ids = [r.get("id") for r in records if isinstance(r.get("id"), int | str)]
            if len(seen) > 1 and page_ids and all(i in ids for i in page_ids):
                raise ClioError(
                    f"Clio sent page {len(seen)} of {path} with only records it had sent "
                    "already (its paging goes round in a circle); stopped",
                    hint="try again; if it persists, report it with the command you ran",
                    url=short_url(url),
                )
            ids.update(page_ids)
            url = _next_url(body)
            if url is not None and not same_origin(url, self.session.tokens.base_url):
                raise ClioError(
                    f"Clio's link to the next page of {path} points to {origin(url)}, not to "
                    f"{origin(self.session.tokens.base_url)}; stopped (mapctl sends the Clio "
                    "access token only to the host it was issued for)",
                    hint="check that CLIO_BASE_URL is Clio's address; if it is, report this",
                    url=short_url(url),
                )
            yield body, records
            if url is None:
                return

    def _list(
        self,
        path: str,
        params: list[tuple[str, str]],
        progress: Progress | None = None,
        keep: tuple[str, ...] = ("id",),
    ) -> list[Record]:
        """Every page of a listing (bounded: `_pages`)."""
        records: list[Record] = []
        for page, (body, found) in enumerate(self._pages(path, params, keep=keep), start=1):
            records.extend(found)
            if progress is not None:
                progress(page, len(records), _total(body), _next_url(body) is not None)
        return records

    # --- search ------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        sort: str | None = None,
        *,
        reverse: bool = False,
        progress: Progress | None = None,
        limit: int | None = SEARCH_LIMIT,
    ) -> list[Record]:
        """Matters whose number, description or client name match every word of `query`
        (`search_matters`): at most `limit` fetched (None: all), sorted (`reverse`: last
        first); `progress` is told after each page."""
        return self.search_matters(
            query, sort, reverse=reverse, progress=progress, limit=limit
        ).rows

    def search_matters(
        self,
        query: str,
        sort: str | None = None,
        *,
        reverse: bool = False,
        limit: int | None = SEARCH_LIMIT,
        on_page: Callable[[SearchPage], None] | None = None,
        progress: Progress | None = None,
    ) -> SearchResult:
        """A bounded search (issue 17 item 6). "Pritchett, Jay" and "Jay Pritchett" are the
        same words: Clio's `query` (a wildcard over number, description and client names) is
        asked for the longest word, and every word is matched here. At most `limit` matters
        are fetched (None: every page, bounded by Clio's own count); `on_page` hears each
        page's matching rows as soon as it arrives (in Clio's order: the final order when the
        sort is one Clio can do, `CLIO_ORDERS`). Clio's count of matches (`meta.records`) comes
        back in the result, with whether the search stopped early."""
        words = search_words(query)
        if sort is not None and sort not in SORT_KEYS:
            raise MapctlError(f"unknown sort {sort!r}; use one of: {', '.join(SORT_KEYS)}")
        if limit is not None and limit < 1:
            raise MapctlError("the search limit must be at least 1")
        asked = max(words, key=len)
        clio_order = CLIO_ORDERS.get(sort)
        try:
            return self._search(asked, words, sort, reverse, limit, clio_order, on_page, progress)
        except _OrderRefused:  # Clio refused an order other than id (CLIO_ORDERS): by id
            return self._search(asked, words, sort, reverse, limit, None, on_page, progress)

    def _search(
        self,
        asked: str,
        words: list[str],
        sort: str | None,
        reverse: bool,
        limit: int | None,
        clio_order: str | None,
        on_page: Callable[[SearchPage], None] | None,
        progress: Progress | None,
    ) -> SearchResult:
        direction = "desc" if reverse else "asc"
        order = f"{clio_order or 'id'}({direction if clio_order else 'asc'})"
        page_size = min(int(PAGE_LIMIT), limit) if limit is not None else int(PAGE_LIMIT)
        params = [
            ("query", asked),
            ("fields", SEARCH_FIELDS),
            ("order", order),
            ("limit", str(page_size)),
        ]
        rows: list[Record] = []
        fetched, total, truncated, pages = 0, None, False, 0
        # Pages are bounded by the results asked for; with no limit (--all) by Clio's count
        # once the first page gives it (ALL_MAX_PAGES at most), else by MAX_PAGES (item 13:
        # paging that never ends).
        max_pages = MAX_PAGES if limit is None else -(-limit // page_size) + 1
        listing = self._pages("matters.json", params, max_pages=ALL_MAX_PAGES)
        while True:
            try:
                body, records = next(listing)
            except StopIteration:
                break
            except ClioError as error:
                if pages == 0 and clio_order not in (None, "id") and error.status in (400, 422):
                    if not isinstance(error, RefusedFields):
                        raise _OrderRefused() from error
                raise
            pages += 1
            if pages == 1:
                total = _total(body)
                if limit is None and total is not None:  # --all: Clio's count bounds the pages
                    max_pages = min(ALL_MAX_PAGES, -(-total // page_size) + 2)
            if limit is not None:
                records = records[: limit - fetched]
            fetched += len(records)
            matching = [r for r in map(_summary, records) if _matches(r, words)]
            rows.extend(matching)
            more = _next_url(body) is not None
            stop = limit is not None and fetched >= limit
            truncated = stop and (more or (total is not None and total > fetched))
            if progress is not None:
                progress(pages, fetched, total, more and not stop)
            if on_page is not None:
                on_page(SearchPage(matching, pages, fetched, total, more and not stop))
            if stop or pages >= max_pages:
                truncated = truncated or more
                break
        sorted_here = False
        if sort is not None and clio_order is None:
            rows.sort(key=SORT_KEYS[sort], reverse=reverse)
            sorted_here = truncated
        elif sort is not None:
            rows.sort(key=SORT_KEYS[sort], reverse=reverse)  # stable: Clio's ties stay
        elif reverse and clio_order is None:
            rows.reverse()
        return SearchResult(
            rows, total, fetched, truncated, asked, words, limit, pages, sorted_here
        )

    # --- fetch -------------------------------------------------------------------------------
    def find_matter(self, matter: str) -> Record:
        """A matter (without its roster), by Clio id or exact display number."""
        text = _matter_text(matter)
        if _could_be_id(text):
            try:
                return self._show_matter(text)
            except NotFound:
                pass  # display numbers can be all digits ("00042"): try that next
        return self._by_display_number(text)

    def _show_matter(self, text: str) -> Record:
        url = f"{self.session.api}/matters/{int(text)}.json"
        return _record(self.get(url, [("fields", MATTER_FIELDS)]))

    def _by_display_number(self, text: str) -> Record:
        params = [
            ("query", text),
            ("fields", MATTER_FIELDS),
            ("order", "id(asc)"),
            ("limit", PAGE_LIMIT),
        ]
        found = self._list("matters.json", params)
        exact = [m for m in found if m.get("display_number") == text]
        exact = exact or [m for m in found if _same(m, text)]  # "00002-pritchett" is fine too
        if not exact:
            what = "id or display number" if text.isdigit() else "display number"
            raise NotFound(f"Clio has no matter with {what} {text!r}", hint=_find_hint(text))
        return exact[0]

    def roster(self, matter_id: int) -> list[Record]:
        """The matter's relationships (id, description, contact id), every page. A 400, whatever
        its body (Clio's Error object, a bare `message`, plain text), retries once with the
        bare `contact`."""
        params = [
            ("matter_id", str(matter_id)),
            ("fields", RELATIONSHIP_FIELDS),
            ("limit", PAGE_LIMIT),
        ]
        try:
            return self._list("relationships.json", params, keep=("id", "contact"))
        except ClioError as error:
            if error.status != 400:
                raise
        params[1] = ("fields", RELATIONSHIP_FALLBACK_FIELDS)
        return self._list("relationships.json", params)

    def matter_contacts(self, matter_id: int) -> list[Record]:
        """The matter's clients and related contacts (`matters/{id}/contacts.json`, every
        page, by relationship id): id, is_client, relationship_name, relationship{id,
        description}."""
        params = [
            ("fields", MATTER_CONTACT_FIELDS),
            ("order", "id(asc)"),
            ("limit", PAGE_LIMIT),
        ]
        return self._list(f"matters/{matter_id}/contacts.json", params)

    def _people(self, matter_id: int) -> list[Record] | ClioError:
        """`matter_contacts`, or Clio's refusal of it (400, 403, 404: the caller falls back)."""
        try:
            return self.matter_contacts(matter_id)
        except ClioError as error:
            if error.status in (400, 403, 404):
                return error
            raise

    def _matter_and_people(
        self, text: str, pool: ThreadPoolExecutor
    ) -> tuple[Record, list[Record] | ClioError]:
        """By id, the matter and its people are asked for at once (one round); by display
        number, the people wait for the matter's id."""
        if _could_be_id(text):
            people = pool.submit(self._people, int(text))
            try:
                record = self._show_matter(text)
            except NotFound:
                wait([people])  # its answer (likely empty) is of no use: the text is a number
            else:
                return record, people.result()
        record = self._by_display_number(text)
        return record, self._people(int(record["id"]))

    def _roster_and_co_clients(
        self, record: Record, people: list[Record] | ClioError
    ) -> tuple[list[Record], list[int] | None]:
        """(the bundle's relationships, its co-clients' ids) from the matter's people; None
        co-clients (not known) when Clio refused the list or it lacks the default client: then
        the relationships come from `/relationships.json`, and a warning says so."""
        client_id = (record.get("client") or {}).get("id")
        where = f"matters/{record.get('id')}/contacts.json"
        if isinstance(people, ClioError):
            status = f"HTTP {people.status}" if people.status else "an error"
            problem = f"Clio refused the matter's list of clients ({status} on {where})"
        else:
            relationships, clients = split_matter_contacts(people)
            if client_id is None or client_id in clients:
                return relationships, [i for i in clients if i != client_id]
            problem = f"Clio's list of the matter's clients ({where}) lacks its client"
        self._warn(
            f"{problem}: only the default client comes across, without co-clients (the "
            "matter's other clients); related contacts are read from relationships.json"
        )
        roster = self.roster(int(record["id"]))
        return [
            _relationship(r.get("id"), r.get("description"), r.get("contact")) for r in roster
        ], None

    def resolve_matter(self, matter: str) -> int:
        """The Clio id of MATTER (an id or a display number)."""
        return int(self.find_matter(matter)["id"])

    def fetch_bundle(self, matter: str) -> Record:
        """The matter bundle (bundle_version 1): matter, contacts, relationships, co-clients
        (when Clio listed the matter's clients), custom fields, and `fetch_warnings` when Clio
        sent less than asked (refused fields, stub records, no custom field definitions, no
        list of the matter's clients): the import goes on, and the warnings say what is blank."""
        text = _matter_text(matter)
        before = len(self.warnings)
        with ThreadPoolExecutor(max_workers=2) as pool:
            fields_future = pool.submit(self._custom_fields_or_none)
            record, people = self._matter_and_people(text, pool)
            record.pop("relationships", None)
            relationships, co_clients = self._roster_and_co_clients(record, people)
            client_id = (record.get("client") or {}).get("id")
            related = (r["contact"]["id"] for r in relationships)
            wanted = _unique([client_id, *(co_clients or []), *related])
            contacts = self.contacts(wanted)
            custom_fields = fields_future.result()
        self._check_stubs(record, contacts)
        bundle: Record = {
            "bundle_version": 1,
            "matter": record,
            "contacts": contacts,
            "relationships": relationships,
        }
        if co_clients is not None:  # absent: not known (an older bundle says the same)
            bundle["co_clients"] = [{"id": i} for i in co_clients]
        bundle["custom_fields"] = custom_fields
        if len(self.warnings) > before:
            bundle["fetch_warnings"] = self.warnings[before:]
        return bundle

    def _custom_fields_or_none(self) -> list[Record]:
        """The custom field definitions; a 403 (the app's Custom Fields permission not ticked)
        is a warning and none, so the import goes on (docs: README "Connecting to your Clio").
        Values Clio sends with their field's name still fill their answers; picklists show
        no label and the answers left blank are listed by the review."""
        try:
            return self.custom_fields()
        except ClioError as error:
            if error.status != 403:
                raise
        url = f"{self.session.api}/custom_fields.json"
        self._warn(
            "Clio refused mapctl the custom field definitions (HTTP 403: the Clio app's Custom "
            "Fields (read) permission is not ticked, or the user may not see custom fields); "
            "the import goes on, but custom-field answers Clio does not fully send are left "
            "blank for staff to fill in ILS. To fix: " + permission_hint(url)
        )
        return []

    def _check_stubs(self, matter: Record, contacts: list[Record]) -> None:
        """Warn about stub records (issue 17 item 3): a record holding an id but none of the
        keys asked for (Clio's bare `{id, etag}`; custom field values with an id and no name,
        type or value) is not an empty one: its answers are unread, so say which."""
        matter_url = f"{self.session.api}/matters/0.json"
        contact_url = f"{self.session.api}/contacts.json"
        matter_name = f"matter {_name_of(matter)}"
        for line in stub_problems(matter, self.fields_sent(matter_url, MATTER_FIELDS)):
            self._warn(f"{matter_name}: {line}")
        asked = self.fields_sent(contact_url, CONTACT_FIELDS)
        for contact in contacts:
            if contact.get("redacted") is True:
                continue  # Clio's Contacts Visibility: said elsewhere
            for line in stub_problems(contact, asked):
                self._warn(f"contact {_name_of(contact)}: {line}")

    def contacts(self, ids: list[int]) -> list[Record]:
        """Full contact records, in the order of `ids`, in one request per 200."""
        found: dict[int, Record] = {}
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            params = [
                *(("ids[]", str(i)) for i in chunk),
                ("fields", CONTACT_FIELDS),
                ("order", "id(asc)"),
                ("limit", PAGE_LIMIT),
            ]
            found.update((c["id"], c) for c in self._list("contacts.json", params) if "id" in c)
        missing = [i for i in ids if i not in found]
        if missing:
            raise ClioError(
                f"Clio did not return contact(s) {', '.join(map(str, missing))} of this matter",
                hint="the Clio user may not be allowed to see them (Contacts visibility)",
            )
        return [found[i] for i in ids]

    def custom_fields(self) -> list[Record]:
        """Contact custom field definitions with picklist options (run + 10-minute cache)."""
        if self._custom_fields is None:
            self._custom_fields = self._read_cache()
        if self._custom_fields is None:
            params = [
                ("parent_type", "contact"),
                ("fields", CUSTOM_FIELD_FIELDS),
                ("order", "id(asc)"),
                ("limit", PAGE_LIMIT),
            ]
            self._custom_fields = self._list("custom_fields.json", params)
            self._write_cache(self._custom_fields)
        return self._custom_fields

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        source = f"{self.session.tokens.base_url} {CUSTOM_FIELD_FIELDS}"  # new fields: new cache
        key = hashlib.sha256(source.encode()).hexdigest()[:16]
        return self.cache_dir / f"custom-fields-{key}.json"

    def _read_cache(self) -> list[Record] | None:
        path = self._cache_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("custom_fields"), list):
            return None
        age = self.session.clock() - float(data.get("fetched_at", 0))
        return data["custom_fields"] if 0 <= age < CACHE_TTL else None  # type: ignore[no-any-return]

    def _write_cache(self, records: list[Record]) -> None:
        path = self._cache_path()
        if path is None:
            return
        payload = {"fetched_at": self.session.clock(), "custom_fields": records}
        try:
            write_atomic(path, json.dumps(payload).encode(), mode=0o600)
        except MapctlError:
            pass  # a cache that cannot be written only costs one request next time


# --- set-up: `mapctl doctor` (issue 11) -------------------------------------------------------
@dataclass(frozen=True)
class FieldProbe:
    """A `fields` string mapctl sends, tried by `mapctl doctor` with limit=1 (issue 17 items 2
    and 4): `path` (`{id}`: a matter found by the first probe), the Clio app permission it
    shows (`permission_for`), and whether imports need it (else a refusal is a warning)."""

    label: str
    path: str
    fields: str
    needed: bool = True


FIELD_PROBES: list[FieldProbe] = [
    FieldProbe("matters (search)", "matters.json", SEARCH_FIELDS),
    FieldProbe("matters (by display number)", "matters.json", MATTER_FIELDS),
    FieldProbe("matter (by id)", "matters/{id}.json", MATTER_FIELDS),
    FieldProbe("matter contacts", "matters/{id}/contacts.json", MATTER_CONTACT_FIELDS),
    FieldProbe("relationships", "relationships.json", RELATIONSHIP_FIELDS),
    FieldProbe("contacts", "contacts.json", CONTACT_FIELDS),
    FieldProbe("custom fields", "custom_fields.json", CUSTOM_FIELD_FIELDS, needed=False),
]  # notes and custom actions: doctor's own checks (engine/setup/doctor.py, `_closeloop`)


@dataclass(frozen=True)
class ProbeResult:
    """What one probe found: status pass / warn / fail / skip, a line, a hint; `unreachable`
    when Clio could not be asked (network, 5xx, rate limit)."""

    name: str
    status: str
    message: str
    hint: str | None = None
    unreachable: bool = False


def probe_clio(client: ClioClient, probes: list[FieldProbe] | None = None) -> list[ProbeResult]:
    """Try each `fields` string mapctl uses, on list and show endpoints, one cheap GET each:
    a 403 names the permission to tick, a 400 naming fields names every field Clio refuses
    (mapctl would drop them and go on: a warning). Never the auto-dropping `get`."""
    results: list[ProbeResult] = []
    matter_id: Any = None
    for probe in probes if probes is not None else FIELD_PROBES:
        path = probe.path
        if "{id}" in path:
            if matter_id is None:
                results.append(
                    ProbeResult(
                        f"fields {probe.label}",
                        "skip",
                        f"Clio fields for {probe.label}: not tried (no matter to try them on)",
                    )
                )
                continue
            path = path.replace("{id}", str(matter_id))
        url = f"{client.session.api}/{path}"
        params = [("fields", probe.fields)] + ([] if "{" in probe.path else [("limit", "1")])
        permission = permission_for(url)
        try:
            body = client.session.get(url, params)
        except RefusedFields as error:
            results.append(
                ProbeResult(
                    f"fields {probe.label}",
                    "warn",
                    f"Clio refuses field{'s' if len(error.names) != 1 else ''} for "
                    f"{probe.label}: {', '.join(error.names)} ({error.clio_text})",
                    "mapctl leaves them out and goes on, with a warning; what they hold "
                    "stays blank",
                )
            )
            continue
        except NotFound:
            results.append(
                ProbeResult(
                    f"permission {probe.label}",
                    "skip",
                    f"Clio {probe.label}: not served here (HTTP 404)",
                )
            )
            continue
        except ClioError as error:
            status = error.status
            if status == 403:
                results.append(
                    ProbeResult(
                        f"permission {probe.label}",
                        "fail" if probe.needed else "warn",
                        f"Clio permission {permission}: refused for {probe.label} (HTTP 403)"
                        + ("" if probe.needed else "; imports go on without it"),
                        permission_hint(url),
                    )
                )
            else:
                results.append(
                    ProbeResult(
                        f"fields {probe.label}",
                        "fail",
                        f"Clio {probe.label}: {error.message}",
                        error.hint,
                        unreachable=status is None or status >= 500 or status == 429,
                    )
                )
            continue
        data = body.get("data")
        if matter_id is None and path.startswith("matters") and isinstance(data, list) and data:
            first = data[0]
            matter_id = first.get("id") if isinstance(first, dict) else None
        results.append(
            ProbeResult(
                f"fields {probe.label}",
                "pass",
                f"Clio {probe.label}: {permission} granted, every field taken",
            )
        )
    return results


FIELD_TYPES = (
    "checkbox", "contact", "currency", "date", "time", "email", "matter", "numeric", "picklist",
    "text_area", "text_line", "url",
)  # fmt: skip


def list_custom_fields(client: ClioClient) -> list[Record]:
    """Every custom field definition (contact and matter, deleted ones included), fresh from
    Clio: every page, never the cache (doctor must see a field created a moment ago)."""
    params = [
        ("fields", CUSTOM_FIELD_FIELDS),
        ("order", "id(asc)"),
        ("limit", PAGE_LIMIT),
    ]
    return client._list("custom_fields.json", params)


def create_custom_field(
    client: ClioClient, name: str, field_type: str, options: tuple[str, ...] = ()
) -> Record:
    """Create a contact custom field (`POST /custom_fields.json`, CustomField#create) -> the
    new definition with its picklist options. Never changes an existing field."""
    if field_type not in FIELD_TYPES:
        raise MapctlError(f"{field_type!r} is not a Clio custom field type")
    data: Record = {"name": name, "parent_type": "Contact", "field_type": field_type}
    if field_type == "picklist":
        data["picklist_options"] = [{"option": option} for option in options]
    try:
        body = client.session.post(
            f"{client.session.api}/custom_fields.json",
            {"data": data},
            [("fields", CUSTOM_FIELD_FIELDS)],
        )
    except ClioError as error:
        if error.status != 403:
            raise
        raise ClioError(
            f"Clio refused to create the custom field {name!r} (HTTP 403)",
            hint="creating custom fields needs a Clio user allowed to manage custom fields and "
            "the app's Custom Fields (write) permission; then run `mapctl connect` again",
            status=403,
            url=error.url,
        ) from None
    client._custom_fields = None  # the run's copy and the cached one are stale now
    cached = client._cache_path()
    if cached is not None:
        cached.unlink(missing_ok=True)
    return _record(body)


def split_matter_contacts(rows: list[Record]) -> tuple[list[Record], list[int]]:
    """MatterContacts rows -> (relationships as the bundle holds them, in Clio's order; the ids
    of every client of the matter, the default one included, each once)."""
    relationships: list[Record] = []
    clients: list[int] = []
    for row in rows:
        ident = row.get("id")
        if row.get("is_client") is True:
            if isinstance(ident, int) and ident not in clients:
                clients.append(ident)
            continue
        rel = row.get("relationship")
        rel = rel if isinstance(rel, dict) else {}
        label = rel.get("description")
        label = label if isinstance(label, str) else row.get("relationship_name")
        relationships.append(_relationship(rel.get("id"), label, {"id": ident}))
    return relationships, clients


def _relationship(ident: Any, description: Any, contact: Any) -> Record:
    """One relationship as the bundle holds it: {id, description, contact: {id}}."""
    contact_id = contact.get("id") if isinstance(contact, dict) else None
    return {"id": ident, "description": description, "contact": {"id": contact_id}}


# Keys of a nested record that point elsewhere or flag it, not what it holds: a custom field
# value with only these is a stub.
_REFERENCES = {"id", "etag", "custom_field", "picklist_option", "soft_deleted", "matter", "contact"}


def stub_problems(record: Record, fields: str) -> list[str]:
    """What of `record` came back as a stub, for the `fields` asked: the record itself with
    none of its keys, or nested records holding an id and none of the keys asked for them."""
    asked = asked_keys(fields)
    problems: list[str] = []
    own = [name for name in asked if name not in ("id", "etag")]
    if "id" in record and own and not any(name in record for name in own):
        return [f"Clio sent only its id (none of {_few(own)}): its answers are blank"]
    for name, inner in asked.items():
        if inner is None:
            continue
        wanted = [key for key in inner if key not in _REFERENCES]
        value = record.get(name)
        items = value if isinstance(value, list) else [value]
        stubs = [
            item
            for item in items
            if isinstance(item, dict)
            and item.get("id") is not None
            and wanted
            and not any(key in item for key in wanted)
        ]
        if stubs:
            ids = ", ".join(str(item.get("id")) for item in stubs[:3])
            more = f" and {len(stubs) - 3} more" if len(stubs) > 3 else ""
            problems.append(
                f"Clio sent {name} {ids}{more} with an id but none of {_few(wanted)}: "
                "left blank (unread, not empty)"
            )
    return problems


def _few(names: list[str]) -> str:
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


def _name_of(record: Record) -> str:
    name = record.get("display_number") or record.get("name")
    if not name:
        parts = [record.get("first_name"), record.get("last_name")]
        name = " ".join(str(p) for p in parts if p)
    ident = record.get("id")
    return f"{name} ({ident})" if name else str(ident)


def search_words(query: str) -> list[str]:
    """The words of a search: "Pritchett, Jay" and "Jay Pritchett" both -> [Jay, Pritchett]
    in their order; at least one of 2 characters or more."""
    words = [w for w in re.split(r"[\s,;]+", query.strip()) if w]
    if not words or max(len(w) for w in words) < 2:
        raise MapctlError("the search text must have at least 2 characters")
    return words


def _matches(row: Record, words: list[str]) -> bool:
    """Whether every word is in the row's number, description or client name (Clio matched
    one of them; the others are matched here, case-insensitively)."""
    if len(words) < 2:
        return True
    text = " ".join(
        str(row.get(key) or "") for key in ("display_number", "description", "client_name")
    ).casefold()
    return all(word.casefold() in text for word in words)


def _endpoint(url: str) -> str:
    """The endpoint of an API URL, ids left out: `matters.json`, `matters/{id}.json`..."""
    path = urlsplit(url).path.split("/api/v4/", 1)[-1]
    parts = path.split("/")
    out = [
        "{id}" if p.isdigit() else "{id}.json" if p.removesuffix(".json").isdigit() else p
        for p in parts
    ]
    return "/".join(out)


def _drop(
    params: list[tuple[str, str]] | None, names: Any, keep: tuple[str, ...] = ()
) -> tuple[list[tuple[str, str]] | None, list[str]]:
    """`params` with `names` dropped from its `fields` -> (params, what was dropped)."""
    if params is None:
        return None, []
    out: list[tuple[str, str]] = []
    dropped: list[str] = []
    for key, value in params:
        if key == "fields":
            value, gone = drop_fields(value, names, keep)
            dropped += gone
        out.append((key, value))
    return out, dropped


def _records(data: Any, path: str) -> list[Record]:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ClioError(f"Clio sent a list mapctl cannot read from {path} (`data` is not a list)")
    return data


def _record(body: dict[str, Any]) -> Record:
    data = body["data"]
    if not isinstance(data, dict):
        raise ClioError("Clio sent a matter mapctl cannot read (`data` is not an object)")
    return data


def _find_hint(text: str) -> str:
    """How to find a matter that is not there; never a search `search` would refuse (issue 11:
    it needs 2 characters at least)."""
    if len(text.strip()) >= 2:
        return f"find it with: mapctl search {text.strip()[:30]!r}"
    return (
        "give the whole display number (e.g. 00002-Pritchett) or the matter's id; to find it, "
        "search for the client's name: mapctl search NAME"
    )


def _total(body: dict[str, Any]) -> int | None:
    """How many records the whole listing has, when Clio says (`meta.records`)."""
    meta = body.get("meta")
    total = meta.get("records") if isinstance(meta, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _next_url(body: dict[str, Any]) -> str | None:
    meta = body.get("meta")
    paging = meta.get("paging") if isinstance(meta, dict) else None
    nxt = paging.get("next") if isinstance(paging, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


def _summary(matter: Record) -> Record:
    """The contract's search row (id, display_number, description, client_name, ...)."""
    return {
        "id": matter.get("id"),
        "display_number": matter.get("display_number"),
        "description": matter.get("description"),
        "client_name": (matter.get("client") or {}).get("name"),
        "status": matter.get("status"),
        "open_date": matter.get("open_date"),
    }


def _unique(ids: list[Any]) -> list[int]:
    out: list[int] = []
    for ident in ids:
        if isinstance(ident, int) and ident not in out:
            out.append(ident)
    return out


def _matter_text(matter: str) -> str:
    text = matter.strip()
    if not text:
        raise MapctlError("MATTER is empty: give a Clio matter id or display number")
    return text


def _could_be_id(text: str) -> bool:
    """ASCII digits that fit Clio's int64 ids ("²" is a digit to Python, 2**63 is no id)."""
    return text.isascii() and text.isdigit() and int(text) < 2**63


def _same(matter: Record, text: str) -> bool:
    return str(matter.get("display_number") or "").casefold() == text.casefold()


def open_client(
    home: Path,
    env: Mapping[str, str],
    transport: httpx.BaseTransport | None = None,
    region: str | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    notice: Callable[[str], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    warn: Warn | None = None,
) -> ClioClient:
    """An authenticated client from the stored tokens (`mapctl connect`); ClioError if none.

    `region` / CLIO_BASE_URL, when given, must be where the tokens were issued. `notice` hears
    about long rate-limit waits (the CLI prints them on stderr); `on_wait`, when given, hears
    every second of such a wait instead (a `Wait`: seconds, left; for a countdown); `warn`
    hears each warning as it happens (fields Clio refused, stub records...), which the client
    also keeps in `warnings` and a fetched bundle carries as `fetch_warnings`.
    """
    store = TokenStore(home)
    tokens = store.load()
    if tokens is None:
        raise ClioError("not connected to Clio", hint="run `mapctl connect` first")
    explicit = region is not None or bool(env.get("CLIO_BASE_URL"))
    if explicit and base_url_for(env, region) != tokens.base_url:
        raise ClioError(
            f"mapctl is connected to {tokens.base_url}, not {base_url_for(env, region)}",
            hint="run `mapctl connect` with the same CLIO_BASE_URL / --region",
        )
    client_id = env.get("CLIO_CLIENT_ID") or tokens.client_id
    secret = env.get("CLIO_CLIENT_SECRET") or tokens.client_secret
    session = ClioSession(
        tokens,
        store=store,
        credentials=Credentials(client_id, secret),
        transport=transport,
        sleep=sleep,
        clock=clock,
        notice=notice,
        on_wait=on_wait,
    )
    return ClioClient(session, cache_dir=Path(home) / CACHE_DIR, warn=warn)
