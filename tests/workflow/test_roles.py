"""Roles set by hand (`--role CONTACT_ID=ROLE`, the app's role choice), edited client records,
the answers-filled count, and the dialogue's restore and Clio ids (issue 10)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.errors import MapctlError
from mapctl.engine.workflow.importing import (
    client_record_defaults,
    import_client,
    parse_removal,
    parse_reply,
    parse_role_options,
    preview,
)
from mapctl.engine.workflow.importreport import format_import, format_preview

from .bundles import mapping, pritchett

NOW = datetime.datetime(2026, 3, 2, 10, 30, 5, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)
MATTER = "00002-Pritchett"


def test_a_role_set_by_hand_moves_the_contact_and_leaves_the_unmatched_list() -> None:
    before = preview(pritchett(), mapping(), today=TODAY)
    assert [c.id for c in before.unmatched] == [5010, 5012, 5015]
    assert before.unmatched[0].suggestion == "granddaughter"
    shown = preview(pritchett(), mapping(), today=TODAY, roles={5010: "Grandchild"})
    lily = next(c for c in shown.contacts if c.id == 5010)
    assert (lily.role, lily.role_set, lily.fell_to_otherwise) == ("Grandchild", True, True)
    assert [c.id for c in shown.unmatched] == [5012, 5015]
    assert [c.id for c in shown.roles_set] == [5010]
    assert shown.as_json()["roles_set"] == [
        {"contact_id": 5010, "name": "Lily Tucker-Pritchett", "label": "Grandaughter",
         "role": "Grandchild"},
    ]  # fmt: skip
    text = format_preview(shown)
    assert (
        "Roles set by hand:\n  #5 Lily Tucker-Pritchett (contact 5010): Grandaughter -> Grandchild"
        in text
    )
    assert "roles_set" not in before.as_json()  # the contract's shape is kept when unused


def test_roles_set_by_hand_reach_the_answers_and_client_json(mapctl_home: Path) -> None:
    result = import_client(
        pritchett(), mapping(), home=mapctl_home, now=NOW, today=TODAY, roles={5012: "Child"}
    )
    info = json.loads((result.folder / "client.json").read_text())
    assert info["roles_set_by_hand"] == [
        {"contact_id": 5012, "name": "Phil Dunphy", "label": "Son-in-law", "role": "Child"}
    ]
    xml = result.answer_file.read_text()
    assert "Phil Dunphy" in xml.split('name="Child Full Name TE"')[1].split("</Answer>")[0]
    assert "Roles set by hand:" in format_import(result)
    assert result.as_json()["review"]["roles_set"][0]["contact_id"] == 5012


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({5001: "Child"}, "contact 5001 is the matter's client: its role is always Client"),
        (
            {4242: "Child"},
            "cannot set the role of contact 4242: not a related contact of this matter",
        ),
        (
            {5012: "Cousin"},
            "cannot give contact 5012 the role 'Cousin': the mapping has no such role",
        ),
    ],
)
def test_impossible_roles_are_refused(roles: dict[int, str], message: str) -> None:
    with pytest.raises(MapctlError) as caught:
        preview(pritchett(), mapping(), today=TODAY, roles=roles)
    assert caught.value.message == message


def test_role_options_are_parsed_with_the_case_forgiven() -> None:
    assert parse_role_options(["5012=child", " 5010 = Grandchild "], mapping()) == {
        5012: "Child",
        5010: "Grandchild",
    }
    for bad, message in (
        ("5012", "'5012' is not CONTACT_ID=ROLE"),
        ("x=Child", "'x=Child' is not CONTACT_ID=ROLE"),
        ("5012=Cousin", "'5012=Cousin': the mapping has no role 'Cousin'"),
    ):
        with pytest.raises(MapctlError) as caught:
            parse_role_options([bad], mapping())
        assert caught.value.message == message


def test_edited_name_and_notes_replace_the_client_record(mapctl_home: Path) -> None:
    assert client_record_defaults(pritchett(), mapping(), today=TODAY) == (
        "Jay Pritchett",
        "Imported from Clio matter 00002-Pritchett on 2026-03-02",
    )
    with pytest.raises(MapctlError, match="the client's name is empty"):
        import_client(pritchett(), mapping(), home=mapctl_home, now=NOW, name=" ")
    assert not (mapctl_home / "clients").exists()
    result = import_client(
        pritchett(), mapping(), home=mapctl_home, now=NOW, name=" Jay P. ", notes="Edited"
    )
    info = json.loads((result.folder / "client.json").read_text())
    assert (info["name"], info["notes"]) == ("Jay P.", "Edited")
    assert (result.entry.name, result.entry.notes) == ("Jay P.", "Edited")
    assert "roles_set_by_hand" not in info


def test_answers_filled_counts_answers_with_a_value(mapctl_home: Path) -> None:
    result = import_client(pritchett(), mapping(), home=mapctl_home, now=NOW, today=TODAY)
    # 8 answers; the client's SSN is not in the bundle and no grandchild is in the role
    assert (result.filled, result.total) == (6, 8)


@pytest.mark.parametrize(
    ("reply", "removed", "restored", "problem"),
    [
        ("5012", {5012}, set(), None),  # a Clio id
        ("5012, 2", {5012, 5002}, set(), None),
        (
            "5015",
            set(),
            set(),
            "#7 (Pritchett's Closets & Blinds) is already removed (nothing removed)",
        ),
        ("restore 7", set(), {5015}, None),
        ("+5015", set(), {5015}, None),
        ("restore 2", set(), set(), "#2 (Gloria Pritchett) is not removed (nothing restored)"),
        (
            "restore",
            set(),
            set(),
            "say which contact to restore, e.g. 'restore 14' (nothing restored)",
        ),
        (
            "5001",
            set(),
            set(),
            "#1 is the client (Jay Pritchett) and cannot be removed (nothing removed)",
        ),
        ("4242", set(), set(), "there is no #4242 in the list (nothing removed)"),
    ],
)
def test_the_dialogue_takes_clio_ids_and_restores(
    reply: str, removed: set[int], restored: set[int], problem: str | None
) -> None:
    shown = preview(pritchett(), mapping(), today=TODAY, exclude=[5015])
    assert parse_reply(shown, reply) == (removed, restored, problem)


def test_list_numbers_win_over_equal_clio_ids() -> None:
    bundle = pritchett()
    shown = preview(bundle, mapping(), today=TODAY)
    assert parse_removal(shown, "2") == ({5002}, None)


# --- the command line, against the sandbox ---------------------------------------------------


def test_preview_with_role_on_the_command_line(run_cli: Any, clio_env: dict[str, str]) -> None:
    result = run_cli("preview", MATTER, "--role", "5014=child", "--format", "json", env=clio_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"id": 5014, "name": "Dylan Marshall", "relationship": "", "role": "Child"} in data[
        "contacts"
    ]
    assert [u["contact_id"] for u in data["unmatched_labels"]] == [5011, 5012, 5013, 5015]
    assert data["roles_set"] == [
        {"contact_id": 5014, "name": "Dylan Marshall", "label": "", "role": "Child"}
    ]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("5014", 2, "Invalid value for --role: '5014' is not CONTACT_ID=ROLE (e.g. 5014=Child"),
        ("5014=Cousin", 2, "Invalid value for --role: '5014=Cousin': the mapping has no role"),
        ("4242=Child", 1, "error: cannot set the role of contact 4242: not a related contact"),
        ("5001=Child", 1, "error: contact 5001 is the matter's client: its role is always Client"),
    ],
)
def test_bad_role_options(
    run_cli: Any, clio_env: dict[str, str], value: str, code: int, message: str
) -> None:
    result = run_cli("preview", MATTER, "--role", value, env=clio_env)
    assert result.exit_code == code, result.output
    assert message in result.stderr


def test_import_with_role_records_it(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    result = run_cli("import", MATTER, "--yes", "--role", "5014=Child", env=clio_env)
    assert result.exit_code == 0, result.output
    assert (
        "Roles set by hand:\n    - #14 Dylan Marshall (contact 5014): (blank) -> Child"
        in result.stdout
    )
    info = json.loads((mapctl_home / "clients/Pritchett-Jay-5001/client.json").read_text())
    assert info["roles_set_by_hand"] == [
        {"contact_id": 5014, "name": "Dylan Marshall", "label": "", "role": "Child"}
    ]


def test_the_dialogue_restores_and_takes_clio_ids(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    # remove the company by its Clio id and Dylan by number, restore Dylan by his Clio id
    replies = "5015, 14\nrestore\nrestore 5014\n\ny\n"
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **clio_env}, interactive=True)
    result = run_cli("import", MATTER, "--today", "2026-03-02", state=state, input=replies)
    assert result.exit_code == 0, result.output
    assert (
        "error: say which contact to restore, e.g. 'restore 14' (nothing restored)" in result.stderr
    )
    assert "Import Jay Pritchett as a new client with 13 related contacts?" in result.stdout
    review = result.stdout.split("Review:")[1]
    assert "Contacts excluded:\n    - #15 Pritchett's Closets & Blinds (contact 5015)" in review
    assert "Dylan Marshall" not in review.split("Contacts excluded:")[1]
