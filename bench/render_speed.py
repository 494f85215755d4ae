"""Benchmark: batch-render 3,000 copies of a realistic bundle, mapctl vs a hand-written renderer.

Both sides do the same work per copy: JSON bytes -> parse -> roles and custom fields -> the 20
answers of bench/render-mapping.yaml -> answer-file XML -> write the file. mapctl compiles the
mapping once (as `mapctl render --out-dir` does); the hand-written renderer is plain Python for
that one mapping. Prints both times and the ratio (goal <= 2.0). Not a test: run it with
`.venv/bin/python bench/render_speed.py` (add --profile for a cProfile of the mapctl side).
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapctl.engine.mapping.compilation import compile_mapping  # noqa: E402
from mapctl.engine.render.rendering import render_bundle  # noqa: E402

COPIES = 3000
ROUNDS = 5
GOAL = 2.0
TODAY = datetime.date(2026, 3, 1)
BUNDLE = ROOT / "tests" / "cases" / "blended-family" / "bundle.json"
MAPPING = ROOT / "bench" / "render-mapping.yaml"


def run_mapctl(data: list[bytes], out: Path) -> None:
    mapping = compile_mapping(str(MAPPING))
    for n, raw in enumerate(data):
        rendered = render_bundle(raw, f"bundle-{n}.json", mapping, today=TODAY)
        (out / f"bundle-{n}.anx").write_bytes(rendered.output)


# --- the hand-written renderer for bench/render-mapping.yaml ------------------------------------

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


def by_hand(raw: bytes) -> bytes:
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
    out.append("</AnswerSet>\n")
    return "".join(out).encode("utf-8")


def run_by_hand(data: list[bytes], out: Path) -> None:
    for n, raw in enumerate(data):
        (out / f"bundle-{n}.anx").write_bytes(by_hand(raw))


def timed(func: Any, data: list[bytes]) -> tuple[float, Path]:
    out = Path(tempfile.mkdtemp(prefix="mapctl-bench-"))
    start = time.perf_counter()
    func(data, out)
    return time.perf_counter() - start, out


def main() -> int:
    data = [BUNDLE.read_bytes()] * COPIES
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        out = Path(tempfile.mkdtemp(prefix="mapctl-bench-"))
        cProfile.runctx(
            "run_mapctl(data, out)", globals(), {"data": data, "out": out}, "/tmp/render.prof"
        )
        pstats.Stats("/tmp/render.prof").sort_stats("tottime").print_stats(25)
        return 0
    # Interleaved, best of ROUNDS each: the two sides see the same machine load.
    hand_runs, mapctl_runs = [], []
    for _ in range(ROUNDS):
        hand_runs.append(timed(run_by_hand, data))
        mapctl_runs.append(timed(run_mapctl, data))
    by_hand_time, hand_out = min(hand_runs, key=lambda r: r[0])
    mapctl_time, mapctl_out = min(mapctl_runs, key=lambda r: r[0])
    same = (hand_out / "bundle-0.anx").read_bytes() == (mapctl_out / "bundle-0.anx").read_bytes()
    ratio = mapctl_time / by_hand_time
    print(
        f"render {COPIES} bundles ({BUNDLE.parent.name}, {MAPPING.name}: 20 answers), "
        f"best of {ROUNDS} interleaved runs"
    )
    print(f"  hand-written: {by_hand_time:.3f} s  ({by_hand_time / COPIES * 1e6:.0f} us/bundle)")
    print(f"  mapctl:       {mapctl_time:.3f} s  ({mapctl_time / COPIES * 1e6:.0f} us/bundle)")
    print(f"  ratio:        {ratio:.2f}  (goal <= {GOAL})  identical output: {same}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
