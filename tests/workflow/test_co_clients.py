"""Co-clients (issue 17, Clio's multi-client matters) end to end against the sandbox over real
HTTP: the sandbox's 00005-Dunphy has Phil Dunphy as its (default) client and Claire Dunphy as a
co-client, their three children as related contacts. Preview lists Claire after the client in
the Co-client role; the import answers the spouse's variables from her and the review says so;
her role can be set by hand; a refused contact list falls back (no co-clients, a warning)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.hotdocs.answerfile import read_answer_file
from mapctl.engine.sandbox.api import ApiFailure, Request, Response, Route
from mapctl.engine.sandbox.server import Sandbox

MATTER = "00005-Dunphy"
PHIL, CLAIRE = 5011, 5003
NOON = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
PEOPLE = "/api/v4/matters/9005/contacts.json"


def api_paths(sandbox: Sandbox, since: int) -> list[str]:
    return [t.split("?")[0] for _, t in sandbox.requests[since:] if "/api/v4/" in t]


def answers_of(home: Path) -> Any:
    folder = home / "clients" / f"Dunphy-Phil-{PHIL}"
    return read_answer_file((folder / "ils-client-interview.anx").read_bytes())


def state(clio_env: dict[str, str], home: Path) -> AppState:
    return AppState(env={"MAPCTL_HOME": str(home), **clio_env}, interactive=False, now=lambda: NOON)


def test_preview_lists_the_co_client_after_the_client(
    run_cli: Any, clio_env: dict[str, str]
) -> None:
    shown = run_cli("preview", MATTER, "--format", "json", env=clio_env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["contacts"] == [
        {"id": PHIL, "name": "Phil Dunphy", "relationship": "", "role": "Client"},
        {"id": CLAIRE, "name": "Claire Dunphy", "relationship": "", "role": "Co-client"},
        {"id": 5007, "name": "Haley Dunphy", "relationship": "Daughter", "role": "Child"},
        {"id": 5008, "name": "Alex Dunphy", "relationship": "Daughter", "role": "Child"},
        {"id": 5009, "name": "Luke Dunphy", "relationship": "Son", "role": "Child"},
    ]
    table = run_cli("preview", MATTER, "--today", "2026-04-15", env=clio_env)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[2:5] == [
        "  #  Contact  Name           Label in Clio  Role",
        "  1  5011     Phil Dunphy    -              Client",
        "  2  5003     Claire Dunphy  -              Co-client",
    ]
    assert "  - Spouse answers come from the co-client Claire Dunphy" in lines


def test_import_answers_the_spouse_from_the_co_client_in_four_requests(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    (mapctl_home / "cache").mkdir(exist_ok=True)
    for cached in (mapctl_home / "cache").iterdir():
        cached.unlink()  # a cold custom-field cache
    before = len(sandbox.requests)
    imported = run_cli("import", MATTER, "--yes", state=state(clio_env, mapctl_home))
    assert imported.exit_code == 0, imported.output
    note = ["/api/v4/notes.json", "/api/v4/users/who_am_i.json"]  # the note on the matter
    assert sorted(p for p in api_paths(sandbox, before) if p not in note) == [
        "/api/v4/contacts.json",
        "/api/v4/custom_fields.json",
        "/api/v4/matters.json",  # by display number
        PEOPLE,
    ]  # no /relationships.json: the matter's contact list holds its roster
    assert "  contacts:    1 co-client: Claire Dunphy (Co-client); 3 related (Child 3)" in (
        imported.stdout
    )
    assert "    - Spouse answers come from the co-client Claire Dunphy" in imported.stdout
    answers = answers_of(mapctl_home)
    assert answers.get("Client Full Name TE").value == "Phil Dunphy"
    assert answers.get("Spouse Full Name TE").value == "Claire Dunphy"
    assert answers.get("Spouse Birth Date DA").value.isoformat() == "1972-03-03"
    assert answers.get("Client Has Spouse TF").value is True
    assert answers.get("Number of Children NU").value == 3
    assert answers.get("Other Party Name TE") is None  # a co-client is no related party


def test_a_co_clients_role_can_be_set_by_hand(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    as_party = run_cli(
        "import", MATTER, "--yes", "--role", f"{CLAIRE}=party", state=state(clio_env, mapctl_home)
    )
    assert as_party.exit_code == 0, as_party.output
    assert f"    - #2 Claire Dunphy (contact {CLAIRE}): co-client -> Party" in as_party.stdout
    assert "Spouse answers come from" not in as_party.stdout
    answers = answers_of(mapctl_home)
    assert answers.get("Spouse Full Name TE") is None  # a Party is not answered as the spouse
    assert answers.get("Other Party Name TE").value == ("Claire Dunphy",)
    recorded = json.loads((answers_of_folder(mapctl_home) / "client.json").read_text())
    assert recorded["roles_set_by_hand"] == [
        {"contact_id": CLAIRE, "name": "Claire Dunphy", "label": "", "role": "Party"}
    ]


def answers_of_folder(home: Path) -> Path:
    return home / "clients" / f"Dunphy-Phil-{PHIL}"


def test_set_as_spouse_by_hand_there_is_nothing_to_say(
    run_cli: Any, clio_env: dict[str, str]
) -> None:
    shown = run_cli("preview", MATTER, "--role", f"{CLAIRE}=Spouse", env=clio_env)
    assert shown.exit_code == 0, shown.output
    assert f"  #2 Claire Dunphy (contact {CLAIRE}): co-client -> Spouse" in shown.stdout
    assert "Spouse answers come from" not in shown.stdout
    excluded = run_cli("preview", MATTER, "--exclude", str(CLAIRE), env=clio_env)
    assert excluded.exit_code == 0, excluded.output
    assert f"  #2 Claire Dunphy (contact {CLAIRE}): co-client" in excluded.stdout
    assert "Spouse answers come from" not in excluded.stdout


def _refuse(status: int) -> Route:
    def handler(api: Any, request: Request) -> Response:
        raise ApiFailure(status, "ForbiddenError", "User is forbidden from taking that action")

    return Route("GET", "matters/{matter_id}/contacts", handler, ("fields", "limit", "order"))


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_refused_contact_list_falls_back_without_co_clients(
    run_cli: Any, mapctl_home: Path, status: int
) -> None:
    """Clio refusing matters/{id}/contacts.json (a permission, a field it will not take) is no
    failure: the roster comes from /relationships.json, the client alone (no co-clients), and
    a warning on stderr says so."""
    from tests.clio.conftest import connect_via_cli

    with Sandbox() as sandbox:
        sandbox.api.add_route(_refuse(status))
        env = connect_via_cli(run_cli, sandbox)
        before = len(sandbox.requests)
        shown = run_cli("preview", MATTER, "--format", "json", env=env)
        assert shown.exit_code == 0, shown.output
        assert [c["role"] for c in json.loads(shown.stdout)["contacts"]] == [
            "Client", "Child", "Child", "Child",
        ]  # fmt: skip
        assert api_paths(sandbox, before).count("/api/v4/relationships.json") == 1
        assert (
            f"Clio refused the matter's list of clients (HTTP {status} on "
            "matters/9005/contacts.json): only the default client comes across, without "
            "co-clients (the matter's other clients); related contacts are read from "
            "relationships.json"
        ) in shown.stderr
        fetched = run_cli("fetch", MATTER, env=env)
        assert fetched.exit_code == 0, fetched.output
        assert "co_clients" not in json.loads(fetched.stdout)  # not known, so not said


def test_two_rounds_by_id(run_cli: Any, mapctl_home: Path) -> None:
    """By id, the matter, its people and the custom fields are asked for at once: with 500 ms
    per request the fetch takes two rounds (about 1 s), not three or four. (500, not 250: a
    process's own time under Wine, on a busy machine, took 0.3 s of the third round's slack.)"""
    from tests.clio.conftest import connect_via_cli

    with Sandbox(latency=0.5) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        before = len(sandbox.requests)
        started = time.perf_counter()
        fetched = run_cli("fetch", "9005", env=env)
        elapsed = time.perf_counter() - started
        assert fetched.exit_code == 0, fetched.output
        assert len(api_paths(sandbox, before)) == 4
        assert elapsed < 0.5 * 3, elapsed
        assert json.loads(fetched.stdout)["co_clients"] == [{"id": CLAIRE}]


def test_explain_names_the_co_client_and_the_review_line(run_cli: Any) -> None:
    case = Path(__file__).resolve().parent.parent / "cases" / "joint-clients" / "bundle.json"
    shown = run_cli("explain", str(case), "Spouse Full Name TE", "--today", "2026-04-15")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[3:6] == [
        "Contacts:",
        "  Phil Dunphy (contact 5011): Client",
        "  Claire Dunphy (contact 5003): co-client -> Co-client (the mapping's co_client role)",
    ]
    assert "Warnings:\n  Spouse answers come from the co-client Claire Dunphy\n" in shown.stdout
    assert '  Spouse Full Name TE (text) = "Claire Dunphy"' in shown.stdout
