"""Fixtures for the set-up tests: a firm in the sandbox whose Clio custom fields differ from the
bundled mapping, connected through the real CLI over HTTP, and an interview file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.sandbox.seed import demo_data
from mapctl.engine.sandbox.server import Sandbox

from tests.clio.conftest import app, connect_via_cli, connected_home, make_client, sleeps  # noqa: F401 (fixtures)


def differing_firm() -> dict[str, Any]:
    """The demo firm, changed the ways a real firm's Clio differs from the mapping:
    - "Marital Status" is typed "Martial Status" (a near-miss name);
    - "Gender" is a text field (the mapping's answers are multiple choice);
    - "Date of Death" does not exist (a missing field);
    - "Citizenship" has an option the interview lacks ("Dual Citizen").
    """
    data = demo_data()
    fields = []
    for field in data["custom_fields"]:
        if field["name"] == "Date of Death":
            continue
        if field["name"] == "Marital Status":
            field["name"] = "Martial Status"
        if field["name"] == "Gender":
            field.update(field_type="text_line", picklist_options=[])
        if field["name"] == "Citizenship":
            field["picklist_options"].append(
                {"id": 81014, "option": "Dual Citizen", "deleted_at": None}
            )
        fields.append(field)
    data["custom_fields"] = fields
    gone = {71001, 71005}  # Gender (now text) and Date of Death: no values left pointing at them
    for contact in data["contacts"]:
        contact["custom_field_values"] = [
            v
            for v in contact.get("custom_field_values") or []
            if v["custom_field"]["id"] not in gone
        ]
    return data


@pytest.fixture
def firm_sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox per test (doctor --create-fields changes it)."""
    with Sandbox(differing_firm()) as running:
        yield running


@pytest.fixture
def connected(run_cli: Any, firm_sandbox: Sandbox) -> dict[str, str]:
    """The environment of a mapctl connected to the firm's sandbox (the real OAuth flow)."""
    return connect_via_cli(run_cli, firm_sandbox)


CMP = """<?xml version="1.0" encoding="utf-8"?>
<componentLibrary xmlns="http://www.hotdocs.com/schemas/component_library/2009" version="12">
  <components>
{variables}
  </components>
</componentLibrary>
"""


def interview_file(folder: Path, choices: dict[str, list[str]], texts: list[str]) -> Path:
    """A HotDocs component file with these multiple-choice variables (name -> options) and
    text variables."""
    parts = []
    for name, options in choices.items():
        opts = "".join(f'<option name="{o}"/>' for o in options)
        parts.append(
            f'    <multipleChoice name="{name}"><options>{opts}</options></multipleChoice>'
        )
    parts += [f'    <text name="{name}"/>' for name in texts]
    path = folder / "Client Interview.cmp"
    path.write_text(CMP.format(variables="\n".join(parts)), encoding="utf-8")
    return path
