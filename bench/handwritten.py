"""A hand-written renderer for bench/render-mapping.yaml: the yardstick for `mapctl render`.

Plain Python for that one mapping, no mapctl import: read each JSON bundle, classify the
contacts, build the same answer-file bytes as mapctl, write one file per bundle (`<stem>.anx`).
`bench/render_speed.py` runs it in-process (`by_hand`) and as a whole process:

    python bench/handwritten.py BUNDLE_OR_FOLDER... --out-dir DIR [--small]

(`--small`: bench/small-mapping.yaml, 4 answers more, for the small bundle bench/small-bundle.json.)
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

SPOUSE = {"husband", "wife", "spouse", "partner"}
CHILD = {"son", "stepson", "daughter", "stepdaughter", "child", "children", "stepchild",
         "stepchildren"}  # fmt: skip
GRANDCHILD = {"grandchild", "grandchildren", "granddaughter", "grandson"}
FORBIDDEN = dict.fromkeys([*range(9), 11, 12, *range(14, 32)])


def esc(text: str) -> str:
    text = text.translate(FORBIDDEN)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def norm(label: str | None) -> str:
    return "".join(ch for ch in (label or "").casefold() if not ch.isspace() and ch != "-")


def hd_date(value: str | None) -> str | None:
    if not value:
        return None
    d = datetime.date.fromisoformat(value[:10])
    return f"{d.day}/{d.month}/{d.year:04d}"


def custom(contact: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in contact.get("custom_field_values") or ():
        if v.get("id") is None or v.get("soft_deleted"):
            continue
        name, value = v.get("field_name"), v.get("value")
        out[name] = options.get(str(value)) if v.get("field_type") == "picklist" else value
    return out


def primary(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    items = items or []
    return next((i for i in items if i.get("primary")), items[0] if items else {})


def by_hand(raw: bytes, small: bool = False) -> bytes:
    """The answer file of bench/render-mapping.yaml (`small`: bench/small-mapping.yaml, the
    same 20 answers and 4 more) for one bundle's bytes."""
    bundle = json.loads(raw)
    contacts = {c["id"]: c for c in bundle["contacts"]}
    options = {str(o["id"]): o["option"] for f in bundle["custom_fields"]
               for o in f.get("picklist_options") or ()}  # fmt: skip
    client = contacts[bundle["matter"]["client"]["id"]]
    spouses, children, grandchildren = [], [], []
    for rel in bundle["relationships"]:
        label = norm(rel.get("description"))
        who = contacts[rel["contact"]["id"]]
        if label in SPOUSE:
            spouses.append(who)
        elif label in CHILD:
            children.append(who)
        elif label in GRANDCHILD:
            grandchildren.append(who)
    cc = custom(client, options)
    spouse = spouses[0] if spouses else None
    addr, phone = primary(client.get("addresses")), primary(client.get("phone_numbers"))
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
           '<AnswerSet title="ILS Client Interview (benchmark)" version="1.1">\n']  # fmt: skip

    def single(name: str, element: str, value: Any) -> None:
        if value is None or value == "":
            return
        if element == "MCValue":
            body = f"<MCValue>\n\t\t\t<SelValue>{esc(value)}</SelValue>\n\t\t</MCValue>"
        else:
            body = f"<{element}>{esc(str(value))}</{element}>"
        out.append(f'\t<Answer name="{name}">\n\t\t{body}\n\t</Answer>\n')

    def repeat(name: str, element: str, values: list[Any]) -> None:
        if not values:
            return
        out.append(f'\t<Answer name="{name}">\n\t\t<RptValue>\n')
        for value in values:
            if value is None or value == "":
                out.append(f'\t\t\t<{element} unans="true"/>\n')
            elif element == "MCValue":
                out.append(
                    f"\t\t\t<MCValue>\n\t\t\t\t<SelValue>{esc(value)}</SelValue>\n\t\t\t</MCValue>\n"
                )
            else:
                out.append(f"\t\t\t<{element}>{esc(value)}</{element}>\n")
        out.append("\t\t</RptValue>\n\t</Answer>\n")

    single("Client First Name TE", "TextValue", client.get("first_name"))
    single("Client Last Name TE", "TextValue", client.get("last_name"))
    single("Client Full Name TE", "TextValue", client.get("name"))
    single("Client Birth Date DA", "DateValue", hd_date(client.get("date_of_birth")))
    single("Client Gender MC", "MCValue", cc.get("Gender"))
    single("Client Marital Status MC", "MCValue", cc.get("Marital Status"))
    single("Client SSN TE", "TextValue", cc.get("Social Security Number"))
    single("Client Street Address TE", "TextValue", addr.get("street"))
    single("Client City TE", "TextValue", addr.get("city"))
    single("Client Zip Code TE", "TextValue", addr.get("postal_code"))
    single("Client Phone TE", "TextValue", phone.get("number"))
    single("Spouse Full Name TE", "TextValue", spouse and spouse.get("name"))
    single("Spouse Birth Date DA", "DateValue", spouse and hd_date(spouse.get("date_of_birth")))
    single("Client Has Spouse TF", "TFValue", "true" if spouse else "false")
    single("Number of Children NU", "NumValue", len(children))
    repeat("Child Full Name TE", "TextValue", [c.get("name") for c in children])
    repeat("Child Birth Date DA", "DateValue", [hd_date(c.get("date_of_birth")) for c in children])
    repeat("Child Gender MC", "MCValue", [custom(c, options).get("Gender") for c in children])
    repeat("Grandchild Full Name TE", "TextValue", [c.get("name") for c in grandchildren])
    single("Clio Matter Number TE", "TextValue", bundle["matter"].get("display_number"))
    if small:
        single("Client Middle Name TE", "TextValue", client.get("middle_name"))
        single("Client State TE", "TextValue", addr.get("province"))
        email = primary(client.get("email_addresses"))
        single("Client Email TE", "TextValue", email.get("address"))
        single("Spouse First Name TE", "TextValue", spouse and spouse.get("first_name"))
    out.append("</AnswerSet>\n")
    return "".join(out).encode("utf-8")


def main(argv: list[str]) -> int:
    """`handwritten.py BUNDLE_OR_FOLDER... --out-dir DIR [--small]`: one `<stem>.anx` per
    bundle."""
    small = "--small" in argv
    argv = [arg for arg in argv if arg != "--small"]
    at = argv.index("--out-dir")
    out = Path(argv[at + 1])
    out.mkdir(parents=True, exist_ok=True)
    for arg in argv[:at] + argv[at + 2 :]:
        path = Path(arg)
        for bundle in sorted(path.glob("*.json")) if path.is_dir() else [path]:
            (out / f"{bundle.stem}.anx").write_bytes(by_hand(bundle.read_bytes(), small))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
