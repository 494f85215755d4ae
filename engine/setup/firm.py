"""Firm scaffold (`mapctl init [DIR]`): a firm's mapping extending the bundled default, an example
admin test case, a pre-commit config running mapctl's hook, and (when asked) a settings file.

Stage: set-up. Writes only files that do not exist yet (each atomically, never over an existing
one) and says which it skipped; never prints. What it writes validates, and `mapctl test` passes
on it (tests/setup/test_init.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ImportRefused
from ..fsutil import write_atomic
from ..resources import DEFAULT_MAPPING, mapping_schema

MAPPING_PATH = "mappings/firm.yaml"
CASE_FOLDER = "mapping-tests/example-rivera"
SCHEMA_PATH = "mappings/mapping.schema.json"
PRE_COMMIT = ".pre-commit-config.yaml"
SETTINGS = "settings.yaml"


@dataclass(frozen=True)
class Written:
    """One file of the scaffold: written, or skipped because it exists."""

    path: Path
    written: bool


def scaffold_firm(folder: Path, *, settings: bool = False) -> list[Written]:
    """Write the scaffold into `folder` (made if missing); existing files are left alone."""
    files: dict[str, str] = {
        MAPPING_PATH: firm_mapping(),
        SCHEMA_PATH: mapping_schema().read_text(encoding="utf-8"),
        f"{CASE_FOLDER}/bundle.json": json.dumps(example_bundle(), indent=2) + "\n",
        f"{CASE_FOLDER}/expected.yaml": EXPECTED,
        PRE_COMMIT: PRE_COMMIT_CONFIG,
    }
    if settings:
        files[SETTINGS] = SETTINGS_TEMPLATE
    done = []
    for relative, text in files.items():
        path = folder / relative
        if os.path.lexists(path):
            done.append(Written(path, False))
            continue
        try:
            write_atomic(path, text.encode("utf-8"), overwrite=False)
        except ImportRefused:  # made meanwhile by someone else: still not ours to replace
            done.append(Written(path, False))
            continue
        done.append(Written(path, True))
    return done


def firm_mapping() -> str:
    """The firm's mapping. Its modeline names the copy of the schema written beside it, by a
    path relative to the mapping: on the firm's share that works from every workstation, where
    a path into one workstation's mapctl install would not."""
    return FIRM_MAPPING.format(schema=Path(SCHEMA_PATH).name, default=DEFAULT_MAPPING)


FIRM_MAPPING = """\
# yaml-language-server: $schema={schema}
# (the schema beside this file helps editors complete and check it; after upgrading mapctl,
#  refresh it with `mapctl schema > mappings/mapping.schema.json`)
#
# This firm's mapping: how a Clio matter becomes the answers of the firm's Client Interview.
# It starts from mapctl's bundled mapping ({default}) and says only what differs here.
# mapctl import, preview and the staff app use it when run from this folder, or when the
# settings file says `mapping: mappings/firm.yaml`.
#
# What to change, then check with `mapctl validate` and `mapctl test`:
#  1. title: the name of the firm's interview (written into every answer file).
#  2. answers: the bundled names ("Client First Name TE") are HotDocs-style guesses. Compare them
#     with the firm's interview:
#       mapctl validate mappings/firm.yaml --interview "Client Interview.cmp"
#     Under answers: the same name replaces the bundled rule, `Name: null` drops it, a new
#     name adds an answer.
#  3. custom_fields: the firm's Clio contact custom fields, by their name in Clio. `mapctl doctor`
#     compares them with Clio; `mapctl doctor --create-fields` creates the ones Clio lacks as
#     `create:` says. Make a picklist's options those of the interview's multiple choice.
#  4. relationships: the labels staff type in Clio's relationship field, per role.
version: 1
extends: {default}
title: Firm Client Interview          # change: the firm's interview name

custom_fields:
  gender: {{name: Gender, create: {{type: picklist, options: [Male, Female, Non-binary]}}}}
  citizenship:
    name: Citizenship
    create: {{type: picklist, options: [US Citizen, Permanent Resident, Other]}}
  marital_status:
    name: Marital Status
    create: {{type: picklist, options: [Single, Married, Divorced, Widowed, Domestic Partnership]}}
  date_of_marriage: {{name: Date of Marriage, create: {{type: date}}}}
  date_of_death: {{name: Date of Death, create: {{type: date}}}}
  ssn: {{name: Social Security Number, sensitive: true, create: {{type: text_line}}}}

# relationships:                      # uncomment to replace a role's labels
#   Spouse: [husband, wife, spouse, partner, fiance, fiancee]

answers:
  # Examples (uncomment and adapt):
  # Client Nickname TE: client.custom.nickname    # a new answer (declare `nickname` above)
  # Client SSN TE: null                           # the interview does not ask it: drop it
  Client Full Name TE: client.name
"""

EXPECTED = """\
# An admin test case (`mapctl test`): the bundle is a matter as `mapctl fetch` saves it, and
# these are answers the firm's mapping must give for it. Only the answers listed are checked.
# Add a case per family shape that matters to the firm (fetch with --redact to keep it private):
#   mapctl fetch 00042-Smith --redact -o mapping-tests/smith/bundle.json
today: 2026-03-01
answers:
  Client First Name TE: Ana
  Client Birth Date DA: 1970-04-02             # dates as YYYY-MM-DD
  Client Gender MC: Female                     # a multiple choice: one string or a list
  Client Marital Status MC: Married
  Spouse Full Name TE: Luis Rivera
  Child Full Name TE: [Sofia Rivera]           # a repeated answer: one entry per child
  Number of Children NU: 1
"""

PRE_COMMIT_CONFIG = """\
# pre-commit (https://pre-commit.com): check the firm's mapping before each commit.
#   pip install pre-commit && pre-commit install
# The hooks run the mapctl installed on this machine (language: system).
repos:
  - repo: local
    hooks:
      - id: mapctl-validate
        name: mapctl validate
        entry: mapctl validate
        language: system
        files: ^mappings/.*\\.ya?ml$
      - id: mapctl-test
        name: mapctl test
        entry: mapctl test
        language: system
        files: ^(mappings|mapping-tests)/
        pass_filenames: false
"""

SETTINGS_TEMPLATE = """\
# mapctl's settings for this firm. mapctl reads $MAPCTL_HOME/settings.yaml, or the file that
# MAPCTL_SETTINGS names (keep this one on the firm's share and point MAPCTL_SETTINGS at it).
# Relative paths are relative to this file. A command-line option or an environment variable
# wins over a setting here; `mapctl settings` shows what is in effect and where it came from.
# Never put the App Secret here: CLIO_CLIENT_SECRET, or `mapctl connect` asks for it.

mapping: mappings/firm.yaml
# output_folder: //fileserver/ILS/Clients     # where new clients go (default: $MAPCTL_HOME/clients)
# clio_region: us                             # us, ca, eu or au (or clio_base_url: https://...)
# app_key: your-clio-app-key                  # the Clio app's App Key (CLIO_CLIENT_ID)
# interview: Client Interview.cmp             # the firm's interview, for `mapctl doctor`
"""


def _contact(
    ident: int, first: str, last: str, born: str, values: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": ident,
        "etag": f'"c{ident}"',
        "type": "Person",
        "name": f"{first} {last}",
        "prefix": None,
        "first_name": first,
        "middle_name": None,
        "last_name": last,
        "date_of_birth": born,
        "is_client": ident == 1001,
        "primary_email_address": f"{first.lower()}.{last.lower()}@example.com",
        "addresses": [],
        "email_addresses": [],
        "phone_numbers": [],
        "custom_field_values": values,
    }


def _picklist_value(ident: int, field: int, option: int, name: str) -> dict[str, Any]:
    return {
        "id": f"picklist-{ident}",
        "field_name": name,
        "field_type": "picklist",
        "value": str(option),
        "custom_field": {"id": field},
        "picklist_option": {"id": option},
    }


def _field(ident: int, name: str, kind: str, options: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "parent_type": "Contact",
        "field_type": kind,
        "displayed": True,
        "deleted": False,
        "picklist_options": [{"id": i, "option": o, "deleted_at": None} for i, o in options],
    }


def example_bundle() -> dict[str, Any]:
    """A small fictional matter (a client, her husband and their daughter), as `mapctl fetch`
    saves one (bundle_version 1)."""
    return {
        "bundle_version": 1,
        "matter": {
            "id": 9001,
            "display_number": "00001-Rivera",
            "description": "Estate plan (example)",
            "status": "Open",
            "open_date": "2026-02-02",
            "client": {"id": 1001, "name": "Ana Rivera"},
        },
        "contacts": [
            _contact(
                1001,
                "Ana",
                "Rivera",
                "1970-04-02",
                [
                    _picklist_value(100101, 501, 5012, "Gender"),
                    _picklist_value(100102, 502, 5022, "Marital Status"),
                ],
            ),
            _contact(1002, "Luis", "Rivera", "1968-09-14", []),
            _contact(1003, "Sofia", "Rivera", "2001-12-24", []),
        ],
        "relationships": [
            {"id": 8001, "description": "Husband", "contact": {"id": 1002}},
            {"id": 8002, "description": "Daughter", "contact": {"id": 1003}},
        ],
        "custom_fields": [
            _field(501, "Gender", "picklist", [(5011, "Male"), (5012, "Female")]),
            _field(502, "Marital Status", "picklist", [(5021, "Single"), (5022, "Married")]),
        ],
    }
