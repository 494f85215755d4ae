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
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx

from ..errors import ClioError, MapctlError, NotFound
from ..fsutil import write_atomic
from .auth import CACHE_DIR, Credentials, TokenStore, base_url_for
from .session import ClioSession, origin, same_origin, short_url

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
MAX_PAGES = 1000
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


class ClioClient:
    """Read-only Clio API v4 client. `request_count` counts every HTTP request sent."""

    def __init__(self, session: ClioSession, cache_dir: Path | None = None) -> None:
        self.session = session
        self.cache_dir = cache_dir
        self._custom_fields: list[Record] | None = None
        self.warnings: list[str] = []  # what a fetch could not bring (told to `notice` too)

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
        body = self.session.get(
            f"{self.session.api}/users/who_am_i.json", [("fields", USER_FIELDS)]
        )
        return _record(body)

    # --- paging ------------------------------------------------------------------------------
    def _list(
        self, path: str, params: list[tuple[str, str]], progress: Progress | None = None
    ) -> list[Record]:
        """Every page: the first with params, then `meta.paging.next` verbatim (no params=)."""
        url: str | None = f"{self.session.api}/{path}"
        seen: set[str] = set()
        records: list[Record] = []
        query: list[tuple[str, str]] | None = params
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise ClioError(
                    f"Clio returned the same page twice while listing {path}; stopped",
                    hint="try again; if it persists, report it with the command you ran",
                )
            seen.add(url)
            body = self.session.get(url, query)
            query = None
            records.extend(_records(body["data"], path))
            url = _next_url(body)
            if url is not None and not same_origin(url, self.session.tokens.base_url):
                raise ClioError(
                    f"Clio's link to the next page of {path} points to {origin(url)}, not to "
                    f"{origin(self.session.tokens.base_url)}; stopped (mapctl sends the Clio "
                    "access token only to the host it was issued for)",
                    hint="check that CLIO_BASE_URL is Clio's address; if it is, report this",
                    url=short_url(url),
                )
            if progress is not None:
                progress(len(seen), len(records), _total(body), url is not None)
        return records

    # --- search ------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        sort: str | None = None,
        *,
        reverse: bool = False,
        progress: Progress | None = None,
    ) -> list[Record]:
        """Matters whose number, description or client name match: every page, then sorted
        (`reverse`: last first); `progress` is told after each page."""
        if len(query.strip()) < 2:
            raise MapctlError("the search text must have at least 2 characters")
        if sort is not None and sort not in SORT_KEYS:
            raise MapctlError(f"unknown sort {sort!r}; use one of: {', '.join(SORT_KEYS)}")
        params = [
            ("query", query.strip()),
            ("fields", SEARCH_FIELDS),
            ("order", "id(asc)"),
            ("limit", PAGE_LIMIT),
        ]
        rows = [_summary(m) for m in self._list("matters.json", params, progress)]
        if sort is not None:
            rows.sort(key=SORT_KEYS[sort])
        return rows[::-1] if reverse else rows

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
        return _record(self.session.get(url, [("fields", MATTER_FIELDS)]))

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
            return self._list("relationships.json", params)
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

    def _warn(self, text: str) -> None:
        self.warnings.append(text)
        if self.session.notice is not None:
            self.session.notice(text)

    def resolve_matter(self, matter: str) -> int:
        """The Clio id of MATTER (an id or a display number)."""
        return int(self.find_matter(matter)["id"])

    def fetch_bundle(self, matter: str) -> Record:
        """The matter bundle (bundle_version 1): matter, contacts, relationships, co-clients
        (when Clio listed the matter's clients), custom fields."""
        text = _matter_text(matter)
        with ThreadPoolExecutor(max_workers=2) as pool:
            fields_future = pool.submit(self.custom_fields)
            record, people = self._matter_and_people(text, pool)
            record.pop("relationships", None)
            relationships, co_clients = self._roster_and_co_clients(record, people)
            client_id = (record.get("client") or {}).get("id")
            related = (r["contact"]["id"] for r in relationships)
            wanted = _unique([client_id, *(co_clients or []), *related])
            contacts = self.contacts(wanted)
            custom_fields = fields_future.result()
        bundle: Record = {
            "bundle_version": 1,
            "matter": record,
            "contacts": contacts,
            "relationships": relationships,
        }
        if co_clients is not None:  # absent: not known (an older bundle says the same)
            bundle["co_clients"] = [{"id": i} for i in co_clients]
        bundle["custom_fields"] = custom_fields
        return bundle

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
            found.update((c["id"], c) for c in self._list("contacts.json", params))
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
) -> ClioClient:
    """An authenticated client from the stored tokens (`mapctl connect`); ClioError if none.

    `region` / CLIO_BASE_URL, when given, must be where the tokens were issued. `notice` hears
    about long rate-limit waits (the CLI prints them on stderr).
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
    )
    return ClioClient(session, cache_dir=Path(home) / CACHE_DIR)
