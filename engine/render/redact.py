"""Redaction of a matter bundle: personal data replaced by realistic fakes, structure kept.

Stage: bundle -> bundle, pure (no I/O, no httpx). Replaces names, dates of birth, emails, phone
numbers, addresses, web sites, and free-text or sensitive custom field values (text_line,
text_area, email, url, plus any field the caller names, e.g. the mapping's `sensitive: true`).
Keeps ids, relationship labels, picklist ids, types and the custom field definitions, so the
redacted bundle renders the same way. Deterministic: the same original always gets the same fake
(a keyed hash of the original picks it), so a family keeps one surname and fixtures stay stable.

The key matters: with a public salt anyone could work back from a fake to the original (try each
birth date within the shift's 361 days, each SSN, each guessed name, and see which one gives the
fake). `mapctl fetch --redact` therefore keys the hash with a random secret kept in
`$MAPCTL_HOME/redact.key` (mode 0600, made on first use; `home_key`, the one function here that
touches a file): the same home always gives the same fakes, and a bundle handed to support
cannot be reversed without that file. Without a key (tests) the public salt is used.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import MapctlError
from ..fsutil import write_atomic

SALT = "mapctl-redact-v1"
FIRST = [
    "Avery",
    "Blake",
    "Casey",
    "Dana",
    "Emery",
    "Finley",
    "Greer",
    "Harper",
    "Indra",
    "Jules",
    "Kendall",
    "Logan",
    "Marlow",
    "Noel",
    "Oakley",
    "Parker",
    "Quincy",
    "Reese",
    "Sawyer",
    "Tatum",
    "Umber",
    "Vale",
    "Wren",
    "Yael",
    "Zephyr",
    "Arden",
    "Briar",
    "Corin",
    "Devon",
    "Ellis",
]
LAST = [
    "Ashford",
    "Bellamy",
    "Carrow",
    "Dunmore",
    "Elsworth",
    "Fairleigh",
    "Garland",
    "Hollis",
    "Ingram",
    "Jessop",
    "Kingsley",
    "Lockwood",
    "Merriweather",
    "Northcott",
    "Oakridge",
    "Pembrook",
    "Quarry",
    "Rowntree",
    "Stanhope",
    "Thornbury",
    "Upton",
    "Vickers",
    "Whitlock",
    "Yarrow",
]
COMPANIES = [
    "Harbor Light Holdings",
    "Copperfield Trading Co.",
    "Bluestone Partners",
    "Meadowbrook Supply",
    "Northwind Fixtures",
    "Granite Peak Services",
]
STREETS = [
    "Alder Way",
    "Birch Road",
    "Chestnut Court",
    "Dogwood Lane",
    "Hawthorn Street",
    "Juniper Avenue",
    "Linden Place",
    "Magnolia Drive",
]
CITIES = ["Springfield", "Riverton", "Fairview", "Lakewood", "Brookside", "Maple Grove"]
WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "labore",
    "magna",
    "aliqua",
]
FREE_TEXT = {"text_line", "text_area", "email", "url"}
WORD = re.compile(r"[^\W\d_][\w'’]*")


KEY_FILE = "redact.key"


def home_key(home: Path) -> bytes:
    """The redaction key of this MAPCTL_HOME, created (32 random bytes, 0600) when missing."""
    path = Path(home) / KEY_FILE
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(key) >= 16:
            return key
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as error:
        raise MapctlError(
            f"the redaction key {path} is unreadable",
            hint="delete it; a new one is made (fakes will differ from earlier redactions)",
        ) from error
    key = secrets.token_bytes(32)
    try:
        write_atomic(path, key.hex().encode() + b"\n", mode=0o600, overwrite=False)
    except MapctlError:
        if path.exists():  # another mapctl made it at the same moment: use that one
            return home_key(home)
        raise
    return key


def _hash(key: bytes, *parts: object) -> int:
    text = "\x1f".join(map(str, parts))
    return int.from_bytes(hmac.new(key, text.encode(), hashlib.sha256).digest()[:8], "big")


class Redactor:
    """Keeps the original -> fake choices for one bundle so every mention agrees."""

    def __init__(self, sensitive: Iterable[str | int] = (), key: bytes | None = None) -> None:
        self.sensitive = {str(s).casefold() for s in sensitive}
        self.names: dict[str, str] = {}
        self.key = key if key is not None else SALT.encode()

    def _hash(self, *parts: object) -> int:
        return _hash(self.key, *parts)

    def _pick(self, options: list[str], *parts: object) -> str:
        return options[self._hash(*parts) % len(options)]

    def person(self, name: str) -> str:
        """A fake full name for a person who is not one of the contacts (an attorney)."""
        return f"{self._pick(FIRST, 'user', name)} {self._pick(LAST, 'user', name)}"

    def learn_names(self, contacts: list[dict[str, Any]]) -> None:
        """Choose each name's fake. Different names get different fakes within the bundle (a
        client and his wife are never both "Corin Rowntree", so an admin test still catches a
        spouse answer that reads the client); the same name keeps its fake (a family keeps one
        surname). Contacts are taken by id, so the choice does not depend on their order."""
        used: dict[str, set[str]] = {"first": set(), "last": set(), "company": set()}
        chosen = set(self.names.values())
        for contact in sorted(contacts, key=_by_id):
            if contact.get("type") == "Company":
                name = contact.get("name")
                if isinstance(name, str) and name and name not in self.names:
                    self.names[name] = self._unique(COMPANIES, used["company"], "company", name)
                continue
            for key, pool in (("first_name", FIRST), ("middle_name", FIRST), ("last_name", LAST)):
                kind = "last" if pool is LAST else "first"
                for token in WORD.findall(str(contact.get(key) or "")):
                    if token not in self.names:
                        fake = self._unique(pool, used[kind] | chosen, key[:4], token.casefold())
                        self.names[token] = fake
                        used[kind].add(fake)

    def _unique(self, pool: list[str], used: set[str], *parts: object) -> str:
        """The hash's pick from `pool`, or the next one not `used` yet; double-barrelled names
        ("Avery-Blake") once the pool is used up (a family of 40)."""
        start = self._hash(*parts)
        size = len(pool)
        for step in range(size):
            candidate = pool[(start + step) % size]
            if candidate not in used:
                used.add(candidate)
                return candidate
        for step in range(size * size):
            first = pool[(start + step) % size]
            second = pool[(start // size + step // size + 1) % size]
            candidate = f"{first}-{second}"
            if first != second and candidate not in used:
                used.add(candidate)
                return candidate
        return f"{pool[start % size]} {start % 100000}"  # more names than any family has

    def text(self, value: Any) -> Any:
        """Every known name (whole company names first, then words) replaced in free text."""
        if not isinstance(value, str):
            return value
        for original in sorted((n for n in self.names if " " in n), key=len, reverse=True):
            value = value.replace(original, self.names[original])
        return WORD.sub(lambda m: self.names.get(m.group(0), m.group(0)), value)

    def email(self, value: Any, owner: tuple[str, str] | None = None) -> Any:
        """A fake address; for a person it uses their fake name, as real addresses often do."""
        if not isinstance(value, str) or not value:
            return value
        first, last = owner or (self._pick(FIRST, "email", value), self._pick(LAST, "email", value))
        local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
        return f"{local}{self._hash('n', value) % 90 + 10}@example.com"

    def phone(self, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        return (
            f"{200 + self._hash('area', value) % 700}-555-01{self._hash('line', value) % 100:02d}"
        )

    def date(self, value: Any, *who: object) -> Any:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return value
        shift = self._hash("dob", value, *who) % 361 - 180
        return (day + dt.timedelta(days=shift or 1)).isoformat()

    def address(self, item: dict[str, Any]) -> None:
        original = str(item.get("street") or "")
        if original:
            item["street"] = (
                f"{self._hash('no', original) % 9000 + 100} {self._pick(STREETS, original)}"
            )
        if item.get("city"):
            item["city"] = self._pick(CITIES, "city", item["city"])
        if item.get("postal_code"):
            item["postal_code"] = f"{self._hash('zip', item['postal_code']) % 90000 + 10000}"

    def free_text(self, value: Any, field_type: str, owner: tuple[str, str] | None = None) -> Any:
        if not isinstance(value, str) or not value:
            return value
        if field_type == "email":
            return self.email(value, owner)
        if field_type == "date":
            return self.date(value)
        if field_type == "url":
            return f"https://www.example.com/{self._pick(WORDS, 'url', value)}"
        if re.fullmatch(r"[\d\s().+/-]+", value):  # numbers (SSN, ids): same shape, new digits
            digits = iter(str(self._hash("digits", value)).rjust(len(value), "7"))
            fake = re.sub(r"\d", lambda _: next(digits), value)
            return "9" + fake[1:] if fake[:1].isdigit() else fake  # 9xx: never a real SSN
        count = max(2, min(40, len(value.split())))
        words = [self._pick(WORDS, "w", value, i) for i in range(count)]
        return " ".join(words).capitalize() + "."

    def custom_value(self, item: dict[str, Any], owner: tuple[str, str] | None) -> None:
        field_type = str(item.get("field_type") or "")
        field_id = (item.get("custom_field") or {}).get("id")
        names = {str(item.get("field_name") or "").casefold(), str(field_id)}
        if field_type in FREE_TEXT or names & self.sensitive:
            value = item.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                item["value"] = self.number(value)  # a numeric SSN is an SSN all the same
            else:
                item["value"] = self.free_text(value, field_type or "text_line", owner)

    def number(self, value: int | float) -> int | float:
        """A fake number of the same type and shape (digits, sign, decimals), from 9."""
        if isinstance(value, float) and not math.isfinite(value):
            return value
        text = str(value) if isinstance(value, int) else repr(value)
        if "e" in text.lower():  # 1e+20: too big to keep the shape; a same-sized fake
            return float(self.free_text(f"{value:.0f}", "text_line"))
        fake = self.free_text(text.lstrip("-"), "text_line")
        fake = ("-" if text.startswith("-") else "") + fake
        return int(fake) if isinstance(value, int) else float(fake)


def _by_id(contact: dict[str, Any]) -> tuple[int, str]:
    ident = contact.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        return (ident, "")
    return (0, str(ident))


def redact_contact(contact: dict[str, Any], r: Redactor) -> None:
    who = contact.get("id")
    for key in ("name", "first_name", "middle_name", "last_name", "initials", "title"):
        if key == "initials" and contact.get(key):
            first, last = r.text(contact.get("first_name")), r.text(contact.get("last_name"))
            contact[key] = (str(first or "")[:1] + str(last or "")[:1]) or None
        elif key != "initials":
            contact[key] = r.text(contact.get(key))
    owner = None
    if contact.get("first_name") and contact.get("last_name"):
        owner = (str(contact["first_name"]), str(contact["last_name"]))
    if contact.get("date_of_birth"):
        contact["date_of_birth"] = r.date(contact["date_of_birth"], who)
    for key in ("primary_email_address", "secondary_email_address", "clio_connect_email"):
        if key in contact:
            contact[key] = r.email(contact[key], owner)
    for key in ("primary_phone_number", "secondary_phone_number"):
        if key in contact:
            contact[key] = r.phone(contact[key])
    for item in contact.get("email_addresses") or []:
        item["address"] = r.email(item.get("address"), owner)
    for item in contact.get("phone_numbers") or []:
        item["number"] = r.phone(item.get("number"))
    for key in ("addresses",):
        for item in contact.get(key) or []:
            r.address(item)
    for key in ("primary_address", "secondary_address"):
        if isinstance(contact.get(key), dict):
            r.address(contact[key])
    for item in contact.get("web_sites") or []:
        item["address"] = r.free_text(item.get("address"), "url")
    if isinstance(contact.get("company"), dict):
        contact["company"]["name"] = r.text(contact["company"].get("name"))
    for item in contact.get("custom_field_values") or []:
        r.custom_value(item, owner)


def redact_bundle(
    bundle: dict[str, Any], sensitive: Iterable[str | int] = (), *, key: bytes | None = None
) -> dict[str, Any]:
    """A redacted copy of `bundle`; `sensitive` adds custom fields (by name or id) to redact;
    `key` (see `home_key`) keys the fakes so they cannot be worked back to the originals."""
    out = copy.deepcopy(bundle)
    r = Redactor(sensitive, key)
    contacts = [c for c in out.get("contacts") or [] if isinstance(c, dict)]
    r.learn_names(contacts)
    for contact in contacts:
        redact_contact(contact, r)
    matter = out.get("matter")
    if isinstance(matter, dict):
        for name in ("display_number", "description", "client_reference"):
            matter[name] = r.text(matter.get(name)) if name in matter else None
            if matter[name] is None and name not in bundle.get("matter", {}):
                del matter[name]
        client = matter.get("client")
        if isinstance(client, dict):
            for name in ("name", "first_name", "last_name"):
                if name in client:
                    client[name] = r.text(client[name])
        lawyer = matter.get("responsible_attorney")  # a person too (the firm's, not a contact)
        if isinstance(lawyer, dict) and isinstance(lawyer.get("name"), str) and lawyer["name"]:
            lawyer["name"] = r.person(lawyer["name"])
    warnings = out.get("fetch_warnings")  # what the Clio client met: they name contacts
    if isinstance(warnings, list):
        out["fetch_warnings"] = [r.text(w) for w in warnings if isinstance(w, str)]
    return out
