"""The sandbox's demo firm: raw Clio API v4 records, built deterministically.

Built around the seed's example matter "00002-Pritchett" (client Jay Pritchett, his wife, children
and step-children, grandchildren, in-laws, a blank label, a company, odd-case labels, every custom
contact field type with picklists), a multi-client matter "00005-Dunphy" (Phil and Claire Dunphy
jointly represented: Claire is a co-client), plus 470 generated "Estate of ..." matters so that
search pages (3 pages at limit 200). Same records on every run (fixed random seed). No I/O.
Custom field ids and picklist option ids are the project's shared conventions (71001...).
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

Record = dict[str, Any]
STAMP = "2026-01-05T09:30:00-05:00"

# fmt: off
CUSTOM_FIELDS: list[tuple[int, str, str, list[tuple[int, str]]]] = [
    (71001, "Gender", "picklist", [(81001, "Male"), (81002, "Female"), (81003, "Non-binary")]),
    (71002, "Citizenship", "picklist",
     [(81011, "US Citizen"), (81012, "Permanent Resident"), (81013, "Other")]),
    (71003, "Marital Status", "picklist",
     [(81021, "Single"), (81022, "Married"), (81023, "Divorced"), (81024, "Widowed"),
      (81025, "Domestic Partnership")]),
    (71004, "Date of Marriage", "date", []),
    (71005, "Date of Death", "date", []),
    (71006, "Social Security Number", "text_line", []),
    (71007, "US Resident", "checkbox", []),
    (71008, "Prior Marriages", "numeric", []),
    (71009, "Estimated Estate Value", "currency", []),
    (71010, "Notes for Attorney", "text_area", []),
    (71011, "Preferred Email", "email", []),
    (71012, "Website", "url", []),
    (71013, "Guardian", "contact", []),
    (71014, "Related Matter", "matter", []),
    (71015, "Preferred Call Time", "time", []),
]
FIELD_BY_NAME = {
    name: (fid, ftype, {o: i for i, o in opts}) for fid, name, ftype, opts in CUSTOM_FIELDS
}

# (id, first, last, dob, label on 00002-Pritchett, custom values by field name)
FAMILY: list[tuple[int, str, str, str | None, str | None, dict[str, Any]]] = [
    (5001, "Jay", "Pritchett", "1947-05-23", None,
     {"Gender": "Male", "Citizenship": "US Citizen", "Marital Status": "Married",
      "Date of Marriage": "2007-06-16", "Social Security Number": "900-12-3456",
      "US Resident": True, "Prior Marriages": 1, "Estimated Estate Value": 4250000.0,
      "Notes for Attorney": "Prefers morning meetings.\nBring the closet company paperwork.",
      "Preferred Email": "jay@pritchettclosets.example",
      "Website": "https://pritchettclosets.example", "Guardian": 5004, "Related Matter": 9003,
      "Preferred Call Time": "09:30:00"}),
    (5002, "Gloria", "Pritchett", "1971-05-13", "Wife",
     {"Gender": "Female", "Citizenship": "Permanent Resident", "Marital Status": "Married",
      "Date of Marriage": "2007-06-16", "Social Security Number": "900-65-4321",
      "US Resident": True, "Prior Marriages": 1}),
    (5003, "Claire", "Dunphy", "1972-03-03", "Daughter",
     {"Gender": "Female", "Citizenship": "US Citizen", "Marital Status": "Married"}),
    (5004, "Mitchell", "Pritchett", "1975-11-02", "son",
     {"Gender": "Male", "Citizenship": None, "Marital Status": "Married"}),
    (5005, "Manny", "Delgado", "1997-09-06", "Step-Son",
     {"Gender": "Male", "Citizenship": "US Citizen", "Marital Status": "Single"}),
    (5006, "Joe", "Pritchett", "2013-05-15", "SON", {"Gender": "Male"}),
    (5007, "Haley", "Dunphy", "1993-12-10", "Granddaughter", {"Gender": "Female"}),
    (5008, "Alex", "Dunphy", "1997-01-14", "grand-daughter", {"Gender": "Female"}),
    (5009, "Luke", "Dunphy", "1998-11-28", "Grand Son", {"Gender": "Male"}),
    (5010, "Lily", "Tucker-Pritchett", "2008-02-19", "grandchild", {"Gender": "Female"}),
    (5011, "Phil", "Dunphy", "1967-04-03", "Son-in-law", {"Gender": "Male"}),
    (5012, "Cameron", "Tucker", "1971-02-28", "Son-in-Law", {"Gender": "Male"}),
    (5013, "DeDe", "Pritchett", "1949-08-21", "Ex-Wife",
     {"Marital Status": "Divorced", "Date of Death": None}),
    (5014, "Dylan", "Marshall", "1990-07-01", "", {}),
]
# fmt: on
COMPANY = (5015, "Pritchett's Closets & Blinds", "Business")

FIRST = [
    "Ava",
    "Ben",
    "Carmen",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonah",
    "Kira",
    "Luis",
    "Maya",
    "Nate",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fitzgerald",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Underwood",
    "Vasquez",
    "Whitfield",
    "Yilmaz",
]
STREETS = ["Maple Ave", "Oak Street", "Cedar Lane", "Elm Drive", "Sunset Blvd", "Palm Court"]
CITIES = [("Los Angeles", "CA", "900"), ("Pasadena", "CA", "911"), ("Burbank", "CA", "915")]


def etag(kind: str, ident: int) -> str:
    """A quoted 32-hex-digit ETag like Clio's, stable across runs."""
    return '"' + hashlib.md5(f"{kind}-{ident}".encode(), usedforsecurity=False).hexdigest() + '"'


def custom_value(contact_id: int, name: str, value: Any) -> Record:
    """One CustomFieldValue as Clio returns it (picklist value = the option id, as a string)."""
    field_id, field_type, options = FIELD_BY_NAME[name]
    if value is None:  # displayed by default but empty: id null (NOTES 4.3)
        return {
            "id": None,
            "field_name": name,
            "field_type": field_type,
            "value": None,
            "custom_field": {"id": field_id},
            "picklist_option": None,
            "soft_deleted": False,
        }
    option = {"id": options[value]} if field_type == "picklist" else None
    if field_type == "picklist":
        value = str(options[value])
    elif isinstance(value, bool):
        value = "true" if value else "false"  # the document types every value as a string
    elif not isinstance(value, str):
        value = str(value)
    return {
        "id": f"{field_type}-{contact_id * 100 + field_id % 100}",
        "etag": etag("v", contact_id * 100 + field_id % 100),
        "field_name": name,
        "field_type": field_type,
        "value": value,
        "custom_field": {"id": field_id},
        "picklist_option": option,
        "soft_deleted": False,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def person(
    cid: int,
    first: str,
    last: str,
    dob: str | None,
    rng: random.Random,
    custom: dict[str, Any] | None = None,
) -> Record:
    """A full Person contact with an address, email and phone."""
    city, state, zip3 = CITIES[cid % len(CITIES)]
    email = f"{first.lower()}.{last.lower().replace(' ', '')}@example.com"
    phone = f"310-555-{rng.randint(100, 199):04d}"
    return {
        "id": cid,
        "etag": etag("c", cid),
        "type": "Person",
        "name": f"{first} {last}",
        "prefix": None,
        "first_name": first,
        "middle_name": None,
        "last_name": last,
        "title": None,
        "initials": first[:1] + last[:1],
        "date_of_birth": dob,
        "primary_email_address": email,
        "primary_phone_number": phone,
        "secondary_email_address": None,
        "secondary_phone_number": None,
        "is_client": False,
        "created_at": STAMP,
        "updated_at": STAMP,
        "company": None,
        "addresses": [
            {
                "id": cid * 10 + 1,
                "etag": etag("a", cid),
                "name": "Home",
                "street": f"{rng.randint(10, 9999)} {STREETS[cid % len(STREETS)]}",
                "city": city,
                "province": state,
                "postal_code": f"{zip3}{cid % 100:02d}",
                "country": "United States",
                "primary": True,
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        ],
        "email_addresses": [
            {
                "id": cid * 10 + 2,
                "etag": etag("e", cid),
                "name": "Home",
                "address": email,
                "primary": True,
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        ],
        "phone_numbers": [
            {
                "id": cid * 10 + 3,
                "etag": etag("p", cid),
                "name": "Personal",
                "number": phone,
                "primary": True,
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        ],
        "web_sites": [],
        "custom_field_values": [custom_value(cid, k, v) for k, v in (custom or {}).items()],
    }


def company(cid: int, name: str) -> Record:
    record = person(cid, name, "", None, random.Random(cid))
    email = "office@" + re.sub(r"[^a-z]", "", name.lower())[:20] + ".example"
    record.update(
        {
            "type": "Company",
            "name": name,
            "first_name": None,
            "last_name": None,
            "initials": None,
            "primary_email_address": email,
        }
    )
    record["email_addresses"][0]["address"] = email
    record["email_addresses"][0]["name"] = "Work"
    record["addresses"][0]["name"] = "Work"
    return record


def matter(
    mid: int,
    number: int,
    suffix: str,
    description: str,
    client_id: int,
    status: str,
    open_date: str,
) -> Record:
    return {
        "id": mid,
        "etag": etag("m", mid),
        "number": number,
        "display_number": f"{number:05d}-{suffix}",
        "custom_number": None,
        "description": description,
        "status": status,
        "open_date": open_date,
        "close_date": "2026-06-30" if status == "Closed" else None,
        "pending_date": None,
        "location": "Los Angeles",
        "client_reference": None,
        "billable": True,
        "billing_method": "hourly",
        "client_id": client_id,
        "client": {"id": client_id},
        "practice_area": {"id": 401, "etag": etag("pa", 401), "name": "Estate Planning"},
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def custom_field_definitions() -> list[Record]:
    return [
        {
            "id": fid,
            "etag": etag("f", fid),
            "name": name,
            "parent_type": "Contact",
            "field_type": ftype,
            "displayed": fid <= 71006,
            "deleted": False,
            "required": False,
            "display_order": i,
            "created_at": STAMP,
            "updated_at": STAMP,
            "picklist_options": [
                {
                    "id": oid,
                    "etag": etag("o", oid),
                    "option": label,
                    "deleted_at": None,
                    "created_at": STAMP,
                    "updated_at": STAMP,
                }
                for oid, label in opts
            ],
        }
        for i, (fid, name, ftype, opts) in enumerate(CUSTOM_FIELDS)
    ] + [
        {
            "id": 72001,
            "etag": etag("f", 72001),
            "name": "Court File Number",
            "parent_type": "Matter",
            "field_type": "text_line",
            "displayed": True,
            "deleted": False,
            "required": False,
            "display_order": 0,
            "created_at": STAMP,
            "updated_at": STAMP,
            "picklist_options": [],
        }
    ]


def demo_data() -> dict[str, list[Record]]:
    """The demo firm: {"matters", "contacts", "relationships", "custom_fields"} raw records."""
    rng = random.Random(2026)
    contacts = [person(cid, f, last, dob, rng, cv) for cid, f, last, dob, _, cv in FAMILY]
    contacts.append(company(COMPANY[0], COMPANY[1]))
    matters = [
        matter(
            9001,
            1,
            "Dunphy",
            "Purchase of 8 Bay Street - Claire Dunphy",
            5003,
            "Closed",
            "2025-02-11",
        ),
        matter(9002, 2, "Pritchett", "Estate planning - Jay Pritchett", 5001, "Open", "2026-03-02"),
        matter(9003, 3, "Closets", "Commercial lease review", COMPANY[0], "Open", "2026-01-20"),
        matter(9004, 4, "Tucker-Pritchett", "Adoption of Lily", 5004, "Closed", "2024-05-06"),
        # A multi-client matter (issue 17): Phil and Claire Dunphy jointly represented; Phil is
        # the default client, Claire a co-client, their children related contacts.
        {
            **matter(
                9005,
                5,
                "Dunphy",
                "Joint wills - Phil and Claire Dunphy",
                5011,
                "Open",
                "2026-04-14",
            ),
            "co_clients": [{"id": 5003}],
        },  # fmt: skip
    ]
    relationships = [
        {
            "id": 8000 + i,
            "etag": etag("r", 8000 + i),
            "description": label,
            "matter": {"id": 9002},
            "contact": {"id": cid},
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        for i, (cid, *_, label, _cv) in enumerate(FAMILY)
        if label is not None
    ]
    relationships.append(
        {
            "id": 8050,
            "etag": etag("r", 8050),
            "description": COMPANY[2],
            "matter": {"id": 9002},
            "contact": {"id": COMPANY[0]},
            "created_at": STAMP,
            "updated_at": STAMP,
        }
    )
    relationships += [
        {
            "id": 8060 + i,
            "etag": etag("r", 8060 + i),
            "description": label,
            "matter": {"id": 9005},
            "contact": {"id": cid},
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        for i, (cid, label) in enumerate(((5007, "Daughter"), (5008, "Daughter"), (5009, "Son")))
    ]
    _generated(rng, contacts, matters, relationships)
    clients = {m["client"]["id"] for m in matters}
    clients.update(c["id"] for m in matters for c in m.get("co_clients", []))
    for record in contacts:
        record["is_client"] = record["id"] in clients
    return {
        "matters": matters,
        "contacts": contacts,
        "relationships": relationships,
        "custom_fields": custom_field_definitions(),
        "notes": [  # one note a person wrote, so the matter page has one (issue 19)
            {
                "id": 60001,
                "etag": etag("n", 60001),
                "type": "Matter",
                "subject": "Intake call",
                "detail": "Jay wants his will and a trust; Gloria joins the next meeting.",
                "detail_text_type": "plain_text",
                "date": "2026-03-02",
                "created_at": STAMP,
                "updated_at": STAMP,
                "time_entries_count": 0,
                "matter": {"id": 9002},
            }
        ],
    }


def zebra_data(count: int) -> dict[str, list[Record]]:
    """The demo firm plus `count` matters of one client (Jay Pritchett), all matching "Zebra":
    a broad search (`bench/broad_search.py`, the tests of bounded broad searches)."""
    data = demo_data()
    data["matters"] += [
        {
            "id": 100_000 + n,
            "display_number": f"{20000 + n:05d}-Zebra",
            "description": f"Zebra family trust {n}",
            "status": "Open",
            "open_date": "2026-01-01",
            "client": {"id": 5001},
        }
        for n in range(count)
    ]
    return data


def _generated(
    rng: random.Random, contacts: list[Record], matters: list[Record], relationships: list[Record]
) -> None:
    """470 probate matters ("Estate of ..."), a few with company clients, a third closed."""
    for n in range(470):
        number = 10 + n
        cid = 6000 + n
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
        if n % 50 == 49:
            contacts.append(company(cid, f"{last} Family Trust Company"))
        else:
            contacts.append(
                person(
                    cid,
                    rng.choice(FIRST),
                    last,
                    f"{1940 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    rng,
                )
            )
        status = ("Open", "Pending", "Closed")[n % 3]
        when = f"{2020 + n % 6}-{1 + (n * 5) % 12:02d}-{1 + (n * 3) % 28:02d}"
        matters.append(
            matter(9100 + n, number, last, f"Estate of {first} {last}", cid, status, when)
        )
        if n % 10 == 0:  # some related contacts on generated matters too
            relationships.append(
                {
                    "id": 8100 + n,
                    "etag": etag("r", 8100 + n),
                    "description": "Executor",
                    "matter": {"id": 9100 + n},
                    "contact": {"id": 5001},
                    "created_at": STAMP,
                    "updated_at": STAMP,
                }
            )
