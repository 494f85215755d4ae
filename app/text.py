"""Text on the app's pages (issue 18, items 5, 13 and 18): Clio's text made harmless, download
names safe on Windows, times in the computer's own zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

KEEP = "\n\t"
# Windows refuses these names whatever the extension (CON.anx is the console)
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def neutral(text: str) -> str:
    """Clio text as the command line shows it (`engine.report.printable`): controls and
    format characters, bidi overrides and isolates among them (U+202A-202E, U+2066-2069,
    U+200E/F, U+061C), become spaces, so "U+202E noS" cannot display as "Son". Newlines and
    tabs stay (the notes have lines)."""
    return "".join(
        c if c in KEEP or c.isprintable() else "\ufffd" if "\ud800" <= c <= "\udfff" else " "
        for c in text
    )


def finalize(value: Any) -> Any:
    """Jinja's `finalize`: every {{ value }} on every page goes through `neutral`."""
    if isinstance(value, Markup):
        return Markup(neutral(str(value)))
    if isinstance(value, str):
        return neutral(value)
    return value


def download_name(client: str, contact_id: int | None, suffix: str = ".anx") -> str:
    """`Jay Pritchett (5001).anx`: the client's name, legal on Windows, short enough."""
    name = " ".join(UNSAFE.sub(" ", neutral(client)).split()).strip(". ")[:80].strip(". ")
    if not name or name.split(".")[0].upper() in RESERVED:
        name = f"client {name}".strip()
    tail = f" ({contact_id})" if contact_id is not None else ""
    return f"{name}{tail}{suffix}"


def local_time(iso: str | None) -> str:
    """`2 Mar 2026, 16:30` in this computer's zone, from the ledger's UTC ISO 8601."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    return f"{local.day} {local:%b %Y, %H:%M}"


_WARNINGS: list[tuple[re.Pattern[str], str]] = [
    # What the Clio client went on without (issue 17): said without HTTP or commands
    (
        re.compile(r"^Clio refused the fields? (.+?) on \S+ \(HTTP 400: .*$", re.S),
        r"Clio would not send some details (\1), so the answers that come from them are left "
        r"blank; tell your administrator",
    ),
    (
        re.compile(r"^Clio refused mapctl the custom field definitions .*$", re.S),
        r"Clio did not let mapctl read the custom fields, so answers that come from them may "
        r"be blank; your administrator can give mapctl that permission in Clio",
    ),
    (
        re.compile(r"^(?:contact|matter) (.+?): Clio sent only its id .*$", re.S),
        r"Clio sent almost nothing about \1, so its answers are blank; tell your administrator",
    ),
    (
        re.compile(
            r"^(?:contact|matter) (.+?): Clio sent (\w+) .* with an id but none of .*$", re.S
        ),
        r"Clio sent only part of \1's details (\2), so the answers from them are blank",
    ),
    (
        re.compile(
            r"^Clio('s list of the matter's clients| refused the matter's list of clients).*$", re.S
        ),
        r"Clio did not list this matter's other clients, so only its main client comes across "
        r"(with the related contacts); add any other client by hand in ILS",
    ),
    (
        re.compile(
            r"^(\d+) contacts are in the (.+?) role \((.*)\): the first is `[^`]*`, "
            r"all are in `[^`]*`$"
        ),
        r"\1 contacts have the role \2 (\3). Where the interview asks about one \2, it gets the "
        r"first of them; check that this is right",
    ),
    (
        re.compile(r'^a relationship labelled "(.*)" points to the client itself; ignored$'),
        r"Clio lists the client as related to themselves (“\1”); that entry is left out",
    ),
    (
        re.compile(
            r"^(.*) \(contact (\d+)\) is related more than once; kept the first label "
            r'"(.*)", ignored "(.*)"$'
        ),
        r"\1 is related to this matter more than once in Clio: the first label, “\3”, is used "
        r"and “\4” is not",
    ),
    (
        re.compile(
            r"^contact (\d+) is redacted by Clio \(your Clio user may not see it\): "
            r"its answers stay blank$"
        ),
        r"One contact is hidden from your Clio account, so its answers stay blank (Clio "
        r"contact \1)",
    ),
    (
        re.compile(r"^contact (\d+) \((.+)\) has no name$"),
        r"\2 has no name in Clio (Clio contact \1)",
    ),
    (
        re.compile(
            r'^(.*): custom field "(.*)" \((\w+)\) has the value (.*), which is not a '
            r"valid \w+ value; treated as blank$"
        ),
        r"\1: the Clio field “\2” holds \4, which is not a valid \3; that answer is left blank",
    ),
    (
        re.compile(
            r'^(.*): custom field "(.*)" has picklist option id .*, which the field does '
            r"not define; treated as blank$"
        ),
        r"\1: the Clio field “\2” holds a choice that Clio no longer lists; that answer is left "
        r"blank",
    ),
    (
        re.compile(
            r"^answer '(.*)' is ([\d,]+) characters long; HotDocs takes at most ([\d,]+) "
            r"characters in a text answer, so the interview may cut it$"
        ),
        r"The answer “\1” is \2 characters long; the interview keeps at most \3, so check its end",
    ),
    (
        re.compile(
            r"^answer '(.*)': (\d+) has more digits than a HotDocs number \(a double\) "
            r"holds; HotDocs reads it as (\d+)$"
        ),
        r"The answer “\1” (\2) is too long a number for the interview, which reads it as \3",
    ),
]


def staff_warning(text: str) -> str:
    """A preview warning in staff words (issue 18, item 3): no mapping terms, a capital, a
    full stop; the same on every screen."""
    text = text.strip()
    for pattern, words in _WARNINGS:
        if pattern.match(text):
            text = pattern.sub(words, text)
            break
    else:
        text = re.sub(r"`([^`]*)`", r"\1", text)
    text = text.replace("(custom_field_values)", "(custom fields)")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."
