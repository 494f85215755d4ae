"""Redaction of a matter bundle: personal data replaced by realistic fakes, structure kept.

Stage: bundle -> bundle, pure (no I/O, no httpx). Replaces names, dates of birth, emails, phone
numbers, addresses, web sites, and free-text or sensitive custom field values (text_line,
text_area, email, url, plus any field the caller names, e.g. the mapping's `sensitive: true`).
Keeps ids, relationship labels, picklist ids, types and the custom field definitions, so the
redacted bundle renders the same way. Deterministic: the same original always gets the same fake
(a hash of the original picks it), so a family keeps one surname and fixtures stay stable.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from typing import Any

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


def _hash(*parts: object) -> int:
    text = "\x1f".join([SALT, *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _pick(options: list[str], *parts: object) -> str:
    return options[_hash(*parts) % len(options)]


class Redactor:
    """Keeps the original -> fake choices for one bundle so every mention agrees."""

    def __init__(self, sensitive: Iterable[str | int] = ()) -> None:
        self.sensitive = {str(s).casefold() for s in sensitive}
        self.names: dict[str, str] = {}

    def learn_names(self, contacts: list[dict[str, Any]]) -> None:
        for contact in contacts:
            if contact.get("type") == "Company":
                name = contact.get("name")
                if isinstance(name, str) and name:
                    self.names[name] = _pick(COMPANIES, "company", name)
                continue
            for key, pool in (("first_name", FIRST), ("middle_name", FIRST), ("last_name", LAST)):
                for token in WORD.findall(str(contact.get(key) or "")):
                    self.names.setdefault(token, _pick(pool, key[:4], token.casefold()))

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
        first, last = owner or (_pick(FIRST, "email", value), _pick(LAST, "email", value))
        local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
        return f"{local}{_hash('n', value) % 90 + 10}@example.com"

    def phone(self, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        return f"{200 + _hash('area', value) % 700}-555-01{_hash('line', value) % 100:02d}"

    def date(self, value: Any, *who: object) -> Any:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return value
        shift = _hash("dob", value, *who) % 361 - 180
        return (day + dt.timedelta(days=shift or 1)).isoformat()

    def address(self, item: dict[str, Any]) -> None:
        original = str(item.get("street") or "")
        if original:
            item["street"] = f"{_hash('no', original) % 9000 + 100} {_pick(STREETS, original)}"
        if item.get("city"):
            item["city"] = _pick(CITIES, "city", item["city"])
        if item.get("postal_code"):
            item["postal_code"] = f"{_hash('zip', item['postal_code']) % 90000 + 10000}"

    def free_text(self, value: Any, field_type: str, owner: tuple[str, str] | None = None) -> Any:
        if not isinstance(value, str) or not value:
            return value
        if field_type == "email":
            return self.email(value, owner)
        if field_type == "date":
            return self.date(value)
        if field_type == "url":
            return f"https://www.example.com/{_pick(WORDS, 'url', value)}"
        if re.fullmatch(r"[\d\s().+/-]+", value):  # numbers (SSN, ids): same shape, new digits
            digits = iter(str(_hash("digits", value)).rjust(len(value), "7"))
            fake = re.sub(r"\d", lambda _: next(digits), value)
            return "9" + fake[1:] if fake[:1].isdigit() else fake  # 9xx: never a real SSN
        count = max(2, min(40, len(value.split())))
        words = [_pick(WORDS, "w", value, i) for i in range(count)]
        return " ".join(words).capitalize() + "."

    def custom_value(self, item: dict[str, Any], owner: tuple[str, str] | None) -> None:
        field_type = str(item.get("field_type") or "")
        field_id = (item.get("custom_field") or {}).get("id")
        names = {str(item.get("field_name") or "").casefold(), str(field_id)}
        if field_type in FREE_TEXT or names & self.sensitive:
            item["value"] = self.free_text(item.get("value"), field_type or "text_line", owner)


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


def redact_bundle(bundle: dict[str, Any], sensitive: Iterable[str | int] = ()) -> dict[str, Any]:
    """A redacted copy of `bundle`; `sensitive` adds custom fields (by name or id) to redact."""
    out = copy.deepcopy(bundle)
    r = Redactor(sensitive)
    contacts = [c for c in out.get("contacts") or [] if isinstance(c, dict)]
    r.learn_names(contacts)
    for contact in contacts:
        redact_contact(contact, r)
    matter = out.get("matter")
    if isinstance(matter, dict):
        for key in ("display_number", "description", "client_reference"):
            matter[key] = r.text(matter.get(key)) if key in matter else None
            if matter[key] is None and key not in bundle.get("matter", {}):
                del matter[key]
        client = matter.get("client")
        if isinstance(client, dict):
            for key in ("name", "first_name", "last_name"):
                if key in client:
                    client[key] = r.text(client[key])
    return out
