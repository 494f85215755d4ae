"""End to end through the real CLI against the sandbox over HTTP: search -> preview -> exclude ->
import -> re-import refused -> clients; the terminal dialogue; failures that leave nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.cli import AppState
from mapctl.engine.hotdocs.answerfile import read_answer_file
from mapctl.engine.sandbox.server import Sandbox
from mapctl.engine.workflow.ledger import Ledger

from tests.conftest import with_slashes

MATTER = "00002-Pritchett"
COMPANY = 5015  # Pritchett's Closets & Blinds, related to the matter as "Business"
NOON = datetime(2026, 3, 2, 12, 0, 0, 500, tzinfo=UTC)


def clean(text: str, home: Path) -> str:
    return with_slashes(text.replace(str(home), "$MAPCTL_HOME"))


def listing(folder: Path) -> list[str]:
    return (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        if folder.exists()
        else []
    )


def api_requests(sandbox: Sandbox, since: int) -> list[str]:
    return [target for _, target in sandbox.requests[since:] if "/api/v4/" in target]


def at_noon(clio_env: dict[str, str], home: Path, *, interactive: bool = False) -> AppState:
    """A terminal-less (or not) user whose clock says 2026-03-02 12:00 UTC."""
    env = {"MAPCTL_HOME": str(home), **clio_env}
    return AppState(env=env, interactive=interactive, now=lambda: NOON)


def test_the_whole_workflow(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox, snapshot_txt: Any
) -> None:
    found = run_cli("search", "Pritchett", env=clio_env)
    assert found.exit_code == 0, found.output
    assert MATTER in found.stdout

    shown = run_cli("preview", MATTER, "--today", "2026-03-02", env=clio_env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == snapshot_txt(name="preview")

    as_json = run_cli(
        "preview", MATTER, "--format", "json", "--exclude", str(COMPANY), env=clio_env
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert list(data) == ["matter", "contacts", "unmatched_labels"]
    assert data["contacts"][0] == {
        "id": 5001,
        "name": "Jay Pritchett",
        "relationship": "",
        "role": "Client",
    }
    assert COMPANY not in [c["id"] for c in data["contacts"]]

    before = len(sandbox.requests)
    state = at_noon(clio_env, mapctl_home)
    imported = run_cli("import", MATTER, "--yes", "--exclude", str(COMPANY), state=state)
    assert imported.exit_code == 0, imported.output
    sent = api_requests(sandbox, before)
    note = [r for r in sent if r.startswith(("/api/v4/users/who_am_i", "/api/v4/notes"))]
    assert len(sent) - len(note) <= 3  # the fetch (issue 9's budget) ...
    assert len(note) == 2  # ... then the note on the matter: who is connected, the note (issue 19)
    assert clean(imported.stdout, mapctl_home) == snapshot_txt(name="import")
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    assert listing(mapctl_home / "clients") == [
        "Pritchett-Jay-5001", "Pritchett-Jay-5001/client.json", "Pritchett-Jay-5001/ils-client-interview.anx",
    ]  # fmt: skip
    answers = read_answer_file((folder / "ils-client-interview.anx").read_bytes())
    assert answers.get("Spouse Full Name TE").value == "Gloria Pritchett"  # type: ignore[union-attr]
    parties = answers.get("Other Party Name TE").value  # type: ignore[union-attr]
    assert "Pritchett's Closets & Blinds" not in parties

    again = run_cli("import", MATTER, "--yes", env=clio_env)
    assert again.exit_code == 1, again.output
    with Ledger.open(mapctl_home) as ledger:
        (entry,) = ledger.list_clients()
    assert again.stderr == (
        "error: Jay Pritchett (Clio contact 5001) already exists: created 2026-03-02T12:00:00Z from "
        f"matter {MATTER}; its answer file is {folder / 'ils-client-interview.anx'}\n"
        "  hint: mapctl creates new clients only; open the existing client in ILS instead (if it "
        "was imported by mistake or deleted in ILS: mapctl clients forget 5001)\n"
    )

    assert entry.created_at == "2026-03-02T12:00:00Z"
    table = run_cli("clients", env=clio_env)
    assert table.exit_code == 0, table.output
    assert clean(table.stdout, mapctl_home) == snapshot_txt(name="clients")
    listed = json.loads(run_cli("clients", "--format", "json", env=clio_env).stdout)
    note = listed[0].pop("clio_note")
    assert listed == [{**entry.as_json(), "folder_exists": True, "answer_file_exists": True}]
    assert (note["status"], note["matter_id"], note["message"]) == ("written", 9002, "")


def test_import_needs_a_terminal_or_yes(
    run_cli: Any, clio_env: dict[str, str], sandbox: Sandbox
) -> None:
    before = len(sandbox.requests)
    result = run_cli("import", MATTER, env=clio_env)
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(
        "Error: mapctl import asks for confirmation, and there is no terminal to ask on; "
        "pass --yes to import without questions\n"
    )
    assert api_requests(sandbox, before) == []


def interactive(clio_env: dict[str, str], home: Path) -> AppState:
    return AppState(env={"MAPCTL_HOME": str(home), **clio_env}, interactive=True)


def test_the_terminal_dialogue(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, snapshot_txt: Any
) -> None:
    # 1 is the client, 99 is not in the list, "2,x" has a typo: each refused, nothing removed;
    # then remove #15 (the company) and #14, try #15 again (already removed), Enter, confirm.
    replies = "1\n99\n2,x\n15, 14\n15\n\ny\n"
    state = interactive(clio_env, mapctl_home)
    result = run_cli("import", MATTER, "--today", "2026-03-02", state=state, input=replies)
    assert result.exit_code == 0, result.output
    assert clean(result.stdout, mapctl_home) == snapshot_txt(name="dialogue-stdout")
    assert result.stderr == snapshot_txt(name="dialogue-stderr")
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    client = json.loads((folder / "client.json").read_text())
    assert client["name"] == "Jay Pritchett"


def test_declining_writes_nothing(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    result = run_cli("import", MATTER, state=interactive(clio_env, mapctl_home), input="\nn\n")
    assert result.exit_code == 1, result.output
    assert result.stderr == "Import cancelled; nothing was written.\n"
    assert listing(mapctl_home / "clients") == []
    assert run_cli("clients", "--format", "json", env=clio_env).stdout == "[]\n"


def test_a_bad_mapping_stops_before_any_request(
    run_cli: Any, clio_env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nanswers:\n  Client Name TE: client.name[\n")
    before = len(sandbox.requests)
    result = run_cli("import", MATTER, "--yes", "-m", str(bad), env=clio_env)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"{bad}:3:")
    assert api_requests(sandbox, before) == []


def test_an_unknown_matter_is_exit_3(run_cli: Any, clio_env: dict[str, str]) -> None:
    result = run_cli("import", "00404-Nobody", "--yes", env=clio_env)
    assert result.exit_code == 3, result.output
    assert "00404-Nobody" in result.stderr


def failing_midway(sandbox: Sandbox, fail_at: int) -> httpx.MockTransport:
    """Routes to the sandbox in-process; the `fail_at`-th API request (1-based) gets 403."""
    seen = {"api": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        if "/api/v4/" in target:
            seen["api"] += 1
            if seen["api"] >= fail_at:
                return httpx.Response(
                    403, json={"error": {"type": "Forbidden", "message": "Forbidden"}}
                )
        answer = sandbox.handle(request.method, target, dict(request.headers), request.content)
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        return httpx.Response(answer.status, content=body, headers=answer.headers)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("fail_at", [2, 3])
def test_a_clio_error_midway_leaves_nothing(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox, fail_at: int
) -> None:
    env = {"MAPCTL_HOME": str(mapctl_home), **clio_env}
    state = AppState(env=env, interactive=False, transport=failing_midway(sandbox, fail_at))
    result = run_cli("import", MATTER, "--yes", state=state)
    assert result.exit_code == 3, result.output
    assert listing(mapctl_home / "clients") == []
    assert run_cli("clients", "--format", "json", env=clio_env).stdout == "[]\n"


def rewriting(sandbox: Sandbox, path: str, edit: Any) -> httpx.MockTransport:
    """Routes to the sandbox in-process; `edit(body)` changes the JSON answer for `path`."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        answer = sandbox.handle(request.method, target, dict(request.headers), request.content)
        body = answer.body
        if request.url.path == path and not isinstance(body, bytes):
            edit(body)
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(answer.status, content=content, headers=answer.headers)

    return httpx.MockTransport(handler)


def test_a_redacted_contact_is_a_warning(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    def hide_5007(body: dict[str, Any]) -> None:
        body["data"] = [
            {"id": 5007, "redacted": True} if c["id"] == 5007 else c for c in body["data"]
        ]

    env = {"MAPCTL_HOME": str(mapctl_home), **clio_env}
    transport = rewriting(sandbox, "/api/v4/contacts.json", hide_5007)
    state = AppState(env=env, interactive=False, transport=transport)
    result = run_cli("preview", MATTER, state=state)
    assert result.exit_code == 0, result.output
    assert (
        "  - contact 5007 is redacted by Clio (your Clio user may not see it): "
        "its answers stay blank\n"
    ) in result.stdout


@pytest.mark.parametrize("command", ["preview", "import"])
def test_a_matter_without_a_client_is_refused_and_leaves_nothing(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox, command: str
) -> None:
    def no_client(body: dict[str, Any]) -> None:
        body["data"]["client"] = None

    env = {"MAPCTL_HOME": str(mapctl_home), **clio_env}
    state = AppState(env=env, transport=rewriting(sandbox, "/api/v4/matters/9002.json", no_client))
    result = run_cli(
        command, "9002", "--yes" if command == "import" else "--format=table", state=state
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "error: Clio matter 9002: not a usable matter bundle: the matter has no client "
        "('matter.client.id' must be a number)\n",
    )
    assert listing(mapctl_home / "clients") == []
    assert not (mapctl_home / "clients.db").exists()


def test_clients_on_a_fresh_home_creates_nothing(run_cli: Any, mapctl_home: Path) -> None:
    table = run_cli("clients")
    assert (table.exit_code, table.stdout) == (
        0,
        "No clients imported yet (mapctl import MATTER creates one).\n",
    )
    assert run_cli("clients", "--format", "json").stdout == "[]\n"
    assert list(mapctl_home.iterdir()) == []


def test_matter_by_id_or_display_number(run_cli: Any, clio_env: dict[str, str]) -> None:
    by_number = run_cli("preview", MATTER, "--format", "json", env=clio_env)
    by_id = run_cli("preview", "9002", "--format", "json", env=clio_env)
    assert (by_number.exit_code, by_id.exit_code) == (0, 0), by_id.output
    assert by_id.stdout == by_number.stdout


def test_import_json_to_another_folder(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "firm share"
    state = at_noon(clio_env, mapctl_home)
    result = run_cli(
        "import",
        MATTER,
        "--yes",
        "--out",
        str(out),
        "--format",
        "json",
        "--exclude",
        "5014",
        "--exclude",
        str(COMPANY),
        state=state,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    folder = out / "Pritchett-Jay-5001"
    assert list(data) == [
        "client",
        "folder",
        "matter",
        "contacts",
        "review",
        "mapping",
        "clio_note",
    ]
    assert data["mapping"] == {
        "path": "<bundled>/ils-client-interview.yaml",
        "title": "ILS Client Interview",
        "origin": "default",
        "source": "the bundled default",
    }
    assert data["folder"] == str(folder)
    assert data["client"]["answer_file"] == str(folder / "ils-client-interview.anx")
    assert data["client"]["created_at"] == "2026-03-02T12:00:00Z"
    assert [c["id"] for c in data["review"]["excluded"]] == [5014, COMPANY]
    assert [c["label"] for c in data["review"]["unmatched_labels"]] == [
        "Son-in-law",
        "Son-in-Law",
        "Ex-Wife",
    ]
    assert data["review"]["unanswered_required"] == []
    shown = listing(out)
    assert [p for p in shown if not p.startswith(".mapctl")] == [
        "Pritchett-Jay-5001",
        "Pritchett-Jay-5001/client.json",
        "Pritchett-Jay-5001/ils-client-interview.anx",
    ]
    # --out is a shared output folder: the firm-wide ledger lives with its clients (issue 15)
    assert ".mapctl/clients/5001.json" in shown
    assert not (mapctl_home / "clients").exists()


def test_answers_that_fail_write_nothing(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "firm.yaml"
    mapping.write_text(
        "version: 1\nextends: ils-client-interview.yaml\nanswers:\n"
        "  Client Birth Date DA: {type: date, value: client.name}\n"
    )
    result = run_cli("import", MATTER, "--yes", "-m", str(mapping), env=clio_env)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"{mapping}:4:45: error: answer 'Client Birth Date DA' (date): \"Jay Pritchett\" is not a "
        "date (expected YYYY-MM-DD or an ISO date-time)\n"
        "  at answers -> 'Client Birth Date DA'\n"
        "  expression: client.name\n"
        '  value: "Jay Pritchett"\n'
        "  hint: nothing was imported; fix the mapping, then run the import again\n"
    )
    assert listing(mapctl_home / "clients") == []
    assert run_cli("clients", "--format", "json", env=clio_env).stdout == "[]\n"


def test_exclude_also_works_in_the_dialogue(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    state = interactive(clio_env, mapctl_home)
    result = run_cli("import", MATTER, "--exclude", str(COMPANY), state=state, input="\ny\n")
    assert result.exit_code == 0, result.output
    assert (
        "Excluded (not imported):\n  #15 Pritchett's Closets & Blinds (contact 5015): Business\n"
        in result.stdout
    )
    assert "as a new client with 13 related contacts? [Y/n]: y\n" in result.stdout
    assert "  Contacts excluded:\n    - #15 Pritchett's Closets & Blinds" in result.stdout


@pytest.mark.parametrize("command", ["preview", "import"])
def test_a_lone_surrogate_from_clio_is_replaced_in_every_output(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox, command: str
) -> None:
    """Issue 9: Clio text holding half a surrogate pair (JSON's "\\ud83d") made `preview` and
    `import` exit 4 (UnicodeEncodeError); every output now shows U+FFFD instead."""

    def half_pair(body: dict[str, Any]) -> None:
        for contact in body["data"]:
            if contact["id"] == 5001:
                contact["first_name"] = "Jay\ud83d"
                contact["name"] = "Jay\ud83d Pritchett"

    env = {"MAPCTL_HOME": str(mapctl_home), **clio_env}
    state = AppState(env=env, transport=rewriting(sandbox, "/api/v4/contacts.json", half_pair))
    args = ("--yes",) if command == "import" else ("--format=json",)
    result = run_cli(command, MATTER, *args, state=state)
    assert result.exit_code == 0, result.output
    assert "Jay\ufffd Pritchett" in result.stdout
    if command == "import":
        (folder,) = (mapctl_home / "clients").iterdir()
        info = json.loads((folder / "client.json").read_text(encoding="utf-8"))
        assert info["name"] == "Jay\ufffd Pritchett"
        answers = read_answer_file(next(folder.glob("*.anx")).read_bytes())
        assert answers.get("Client First Name TE").value == "Jay\ufffd"  # type: ignore[union-attr]
