"""The import workflow without HTTP: preview, new client folder + ledger row, refusals, and
nothing left behind on failure."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.errors import EvaluationError, ImportRefused, MapctlError
from mapctl.engine.hotdocs.answerfile import read_answer_file
from mapctl.engine.model import Answer
from mapctl.engine.render.context import check_bundle
from mapctl.engine.workflow.importing import import_client, parse_removal, preview
from mapctl.engine.workflow.importreport import format_clients, format_import, format_preview
from mapctl.engine.workflow.ledger import Ledger

from tests.conftest import with_slashes

from .bundles import mapping, pritchett, rule

NOW = datetime.datetime(2026, 3, 2, 10, 30, 5, 123, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)


def listing(folder: Path) -> list[str]:
    """Every path under `folder`, relative, sorted (hidden temporaries included)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _token(folder: Path) -> str:
    """The claim token of contact 5001 in a shared folder's firm-wide ledger."""
    return str(json.loads((folder / ".mapctl/clients/5001.json").read_bytes())["token"])


def run_import(home: Path, bundle: dict[str, Any] | None = None, **options: Any) -> Any:
    return import_client(
        bundle or pritchett(), options.pop("mapping", None) or mapping(), home=home, now=NOW,
        today=TODAY, **options,
    )  # fmt: skip


def test_preview_table(snapshot_txt: Any) -> None:
    shown = preview(pritchett(), mapping(), today=TODAY, exclude=[5015])
    assert format_preview(shown) == snapshot_txt


def test_preview_json_has_the_contract_shape() -> None:
    shown = preview(pritchett(), mapping(), today=TODAY)
    data = shown.as_json()
    assert list(data) == ["matter", "contacts", "unmatched_labels"]
    assert data["contacts"][0] == {
        "id": 5001,
        "name": "Jay Pritchett",
        "relationship": "",
        "role": "Client",
    }
    assert [(c["id"], c["role"]) for c in data["contacts"]] == [
        (5001, "Client"), (5002, "Spouse"), (5004, "Child"), (5005, "Child"),
        (5010, "Party"), (5012, "Party"), (5015, "Party"),
    ]  # fmt: skip
    assert data["unmatched_labels"] == [
        {
            "contact_id": 5010,
            "name": "Lily Tucker-Pritchett",
            "label": "Grandaughter",
            "role": "Party",
            "suggestion": "granddaughter",
        },
        {
            "contact_id": 5012,
            "name": "Phil Dunphy",
            "label": "Son-in-law",
            "role": "Party",
            "suggestion": None,
        },
        {
            "contact_id": 5015,
            "name": "Pritchett's Closets & Blinds",
            "label": "",
            "role": "Party",
            "suggestion": None,
        },
    ]


def test_preview_refuses_to_exclude_the_client_or_a_stranger() -> None:
    with pytest.raises(MapctlError, match="is the matter's client and cannot be excluded"):
        preview(pritchett(), mapping(), today=TODAY, exclude=[5001])
    with pytest.raises(MapctlError, match="cannot exclude contact 4242"):
        preview(pritchett(), mapping(), today=TODAY, exclude=[4242])


def test_import_writes_the_folder_and_the_ledger(mapctl_home: Path) -> None:
    result = run_import(mapctl_home, exclude=[5015])
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    assert result.folder == folder
    assert result.answer_file == folder / "ils-client-interview.anx"
    assert listing(mapctl_home / "clients") == [
        "Pritchett-Jay-5001",
        "Pritchett-Jay-5001/client.json",
        "Pritchett-Jay-5001/ils-client-interview.anx",
    ]
    xml = result.answer_file.read_bytes()
    answers = read_answer_file(xml)
    assert answers.get("Client First Name TE").value == "Jay"  # type: ignore[union-attr]
    assert answers.get("Other Party Name TE").value == ("Lily Tucker-Pritchett", "Phil Dunphy")  # type: ignore[union-attr]
    info = json.loads((folder / "client.json").read_text())
    assert info == {
        "name": "Jay Pritchett",
        "notes": "Imported from Clio matter 00002-Pritchett on 2026-03-02",
        "clio_contact_id": 5001,
        "source_matter": {
            "id": 9002, "display_number": "00002-Pritchett",
            "description": "Estate planning - Jay Pritchett", "status": "Open",
            "open_date": "2026-01-15", "client": {"id": 5001, "name": "Jay Pritchett"},
        },
        "created_at": "2026-03-02T10:30:05Z",
        "mapping_title": "ILS Client Interview",
        "mapping_file": None,  # a mapping built in code has no file
        "answer_file": "ils-client-interview.anx",
        "answer_sha256": hashlib.sha256(xml).hexdigest(),
    }  # fmt: skip
    with Ledger.open(mapctl_home) as ledger:
        assert ledger.list_clients() == [result.entry]
    assert result.entry.answer_file == str(result.answer_file)


def test_import_review(mapctl_home: Path, snapshot_txt: Any) -> None:
    result = run_import(mapctl_home, exclude=[5015])
    assert result.unanswered == (
        "Client SSN TE",
        "Child Birth Date DA (1 of 2 entries)",
        "Grandchild Full Name TE (no entries)",
    )
    text = with_slashes(format_import(result).replace(str(mapctl_home), "$MAPCTL_HOME"))
    assert text == snapshot_txt


def test_client_record_from_the_mapping(mapctl_home: Path) -> None:
    custom = mapping(name="upper(client.last_name)", notes="'Referred by Phil'")
    result = run_import(mapctl_home, mapping=custom)
    assert (result.entry.name, result.entry.notes) == ("PRITCHETT", "Referred by Phil")


def test_out_dir(tmp_path: Path, mapctl_home: Path) -> None:
    out = tmp_path / "firm share" / "new clients"
    result = run_import(mapctl_home, out_dir=out)
    assert result.answer_file == out / "Pritchett-Jay-5001" / "ils-client-interview.anx"
    assert not (mapctl_home / "clients").exists()


def test_a_second_import_is_refused_and_changes_nothing(mapctl_home: Path) -> None:
    first = run_import(mapctl_home)
    before = listing(mapctl_home)
    with pytest.raises(ImportRefused) as caught:
        run_import(mapctl_home, out_dir=mapctl_home / "elsewhere")
    assert str(caught.value) == (
        "Jay Pritchett (Clio contact 5001) already exists: created 2026-03-02T10:30:05Z from "
        f"matter 00002-Pritchett; its answer file is {first.answer_file}"
    )
    assert listing(mapctl_home) == before


def test_an_existing_folder_is_never_overwritten(mapctl_home: Path) -> None:
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    folder.mkdir(parents=True)
    (folder / "ils-client-interview.anx").write_text("the firm's own edits")
    with pytest.raises(
        ImportRefused, match="Pritchett-Jay-5001 already exists; mapctl never overwrites it"
    ):
        run_import(mapctl_home)
    assert (folder / "ils-client-interview.anx").read_text() == "the firm's own edits"
    assert listing(mapctl_home / "clients") == [
        "Pritchett-Jay-5001",
        "Pritchett-Jay-5001/ils-client-interview.anx",
    ]
    with Ledger.open(mapctl_home) as ledger:
        assert ledger.list_clients() == []


def assert_nothing_left(home: Path) -> None:
    clients = home / "clients"
    assert not clients.exists() or listing(clients) == []
    with Ledger.open(home) as ledger:
        assert ledger.list_clients() == []


def test_an_evaluation_error_writes_nothing(mapctl_home: Path) -> None:
    broken = mapping(rule("Number of Children NU", "length(client.no_such_field)", type="number"))
    with pytest.raises(EvaluationError) as caught:
        run_import(mapctl_home, mapping=broken)
    assert "length" in caught.value.problems[0].message or caught.value.problems[0].expression
    assert_nothing_left(mapctl_home)


def test_a_client_record_without_a_name_writes_nothing(mapctl_home: Path) -> None:
    with pytest.raises(EvaluationError, match="client_record.name"):
        run_import(mapctl_home, mapping=mapping(name="client.nickname"))
    assert_nothing_left(mapctl_home)


def test_a_disk_error_leaves_nothing_behind(
    mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    calls: list[int] = []

    def disk_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the second file of the client's folder
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    with Ledger.open(mapctl_home):
        pass  # the ledger exists before, as after any earlier import
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(MapctlError, match="No space left on device"):
        run_import(mapctl_home)
    monkeypatch.undo()
    assert len(calls) == 2
    assert_nothing_left(mapctl_home)


@pytest.mark.parametrize("fail", ["disk", "ledger"])
def test_a_failed_import_takes_back_the_folders_it_made(
    mapctl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: str
) -> None:
    """--out to a folder that does not exist yet: after a failure it still does not exist."""
    out = tmp_path / "firm" / "clients"
    if fail == "disk":

        def disk_full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", disk_full)
    else:

        @contextlib.contextmanager
        def locked(self: Ledger, entry: Any) -> Iterator[None]:
            raise MapctlError("cannot write the client ledger: database is locked")
            yield

        monkeypatch.setattr(Ledger, "reserve", locked)
    with pytest.raises(MapctlError):
        run_import(mapctl_home, out_dir=out)
    monkeypatch.undo()
    assert not (tmp_path / "firm").exists()
    result = run_import(mapctl_home, out_dir=out)  # and a later import creates them again
    assert result.folder == out / "Pritchett-Jay-5001"


def test_a_ledger_failure_after_the_rename_takes_the_folder_back(
    mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_reserve = Ledger.reserve

    @contextlib.contextmanager
    def commit_fails(self: Ledger, entry: Any) -> Iterator[None]:
        with real_reserve(self, entry):
            yield
            assert (mapctl_home / "clients" / "Pritchett-Jay-5001").is_dir()  # renamed into place
            raise MapctlError("cannot write the client ledger: disk I/O error")

    monkeypatch.setattr(Ledger, "reserve", commit_fails)
    with pytest.raises(MapctlError, match="disk I/O error"):
        run_import(mapctl_home)
    monkeypatch.undo()
    assert_nothing_left(mapctl_home)


def test_unsafe_names_make_safe_folders(mapctl_home: Path) -> None:
    bundle = pritchett()
    bundle["contacts"][0].update(first_name="../../..", last_name="CON", name="x")
    result = run_import(mapctl_home, bundle=bundle)
    assert result.folder == mapctl_home / "clients" / "_CON-5001"


@pytest.mark.parametrize(
    ("reply", "ids", "problem"),
    [
        ("2", {5002}, None),
        ("2, 4 6", {5002, 5005, 5012}, None),
        ("#3-4", {5004, 5005}, None),
        ("1", set(), "#1 is the client (Jay Pritchett) and cannot be removed (nothing removed)"),
        ("2, 9", set(), "there is no #9 in the list (nothing removed)"),
        ("7", set(), "#7 (Pritchett's Closets & Blinds) is already removed (nothing removed)"),
        ("two", set(), "'two' is not a number from the list (nothing removed)"),
        ("5-3", set(), "'5-3' is not a number from the list (nothing removed)"),
    ],
)
def test_parse_removal(reply: str, ids: set[int], problem: str | None) -> None:
    shown = preview(pritchett(), mapping(), today=TODAY, exclude=[5015])
    assert parse_removal(shown, reply) == (ids, problem)


def test_clients_table(mapctl_home: Path, snapshot_txt: Any) -> None:
    assert format_clients([]) == "No clients imported yet (mapctl import MATTER creates one)."
    run_import(mapctl_home)
    with Ledger.open(mapctl_home) as ledger:
        text = format_clients(ledger.list_clients())
    assert with_slashes(text.replace(str(mapctl_home), "$MAPCTL_HOME")) == snapshot_txt


def test_two_imports_of_one_client_at_once_one_wins(mapctl_home: Path, tmp_path: Path) -> None:
    with Ledger.open(mapctl_home):
        pass
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            run_import(mapctl_home, out_dir=tmp_path / name)
            outcomes[name] = "created"
        except ImportRefused as refused:
            outcomes[name] = str(refused)

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(name for name, outcome in outcomes.items() if outcome == "created")
    loser = "b" if winner == "a" else "a"
    assert "already exists" in outcomes[loser]
    assert listing(tmp_path / winner) == sorted(
        [
            ".mapctl",
            ".mapctl/clients",
            ".mapctl/clients/5001.json",
            f".mapctl/clients/5001.{_token(tmp_path / winner)}.done",
            "Pritchett-Jay-5001",
            "Pritchett-Jay-5001/client.json",
            "Pritchett-Jay-5001/ils-client-interview.anx",
        ]
    )  # fmt: skip  (--out is a shared folder: its firm-wide ledger is there, issue 15)
    assert listing(tmp_path / loser) == []  # not even a temporary folder
    with Ledger.open(mapctl_home) as ledger:
        assert [
            e.answer_file.startswith(str(tmp_path / winner)) for e in ledger.list_clients()
        ] == [True]


def test_preview_shows_what_needs_attention(snapshot_txt: Any) -> None:
    bundle = pritchett()
    jay = bundle["contacts"][0]
    jay.update(type="Company", name="Pritchett Holdings", first_name=None, last_name=None)
    bundle["matter"]["client"]["name"] = "Pritchett Holdings"
    bundle["contacts"][2].update(name=None, first_name=None, last_name=None)  # 5004: no name
    bundle["relationships"][2]["description"] = "  Husband "  # 5005: a second spouse
    shown = preview(bundle, mapping(), today=TODAY)
    text = format_preview(shown)
    assert text == snapshot_txt
    assert "Warnings:" in text


def test_a_company_client_gets_its_name_as_the_folder(mapctl_home: Path) -> None:
    bundle = pritchett()
    bundle["contacts"][0].update(
        type="Company", name="Pritchett Holdings, LLC", first_name=None, last_name=None
    )
    result = run_import(mapctl_home, bundle=bundle)
    assert result.folder.name == "Pritchett-Holdings-LLC-5001"
    assert result.entry.name == "Pritchett Holdings, LLC"
    assert "Client First Name TE" in result.unanswered


def test_names_cannot_break_the_table_or_drive_the_terminal() -> None:
    bundle = pritchett()
    bundle["contacts"][1].update(name="Gloria\nPritchett\x1b[2J", first_name="Gloria")
    text = format_preview(preview(bundle, mapping(), today=TODAY))
    assert "\x1b" not in text
    (row,) = [line for line in text.splitlines() if "5002" in line]
    assert "Gloria Pritchett " in row and row.endswith("Spouse")


def test_text_blank_once_cleaned_is_reported_when_required(mapctl_home: Path) -> None:
    """Issue 9: "\\ufffe\\u0007" was written as `<TextValue></TextValue>`, which HotDocs reads
    as unanswered (AnswerCollection.ReadValue: `string.IsNullOrEmpty(s)`), yet the review did
    not list it. Blank once cleaned is blank everywhere: left out, `unans` in a repeat, listed."""
    bundle = pritchett()
    bundle["contacts"][0]["first_name"] = "\ufffe\u0007"
    bundle["contacts"][2]["first_name"] = "\u0007"  # Mitchell, a child
    custom = mapping(
        rule("Client First Name TE", "client.first_name", required=True),
        rule("Child First Name TE", "first_name", each="children", required=True),
    )
    result = run_import(mapctl_home, bundle=bundle, mapping=custom)
    assert result.unanswered == ("Client First Name TE", "Child First Name TE (1 of 2 entries)")
    xml = result.answer_file.read_bytes()
    assert b"<TextValue></TextValue>" not in xml and b"Client First Name TE" not in xml
    assert read_answer_file(xml).get("Child First Name TE") == Answer(
        "Child First Name TE", "text", (None, "Manny"), repeated=True
    )


def test_a_lone_surrogate_is_replaced_in_the_answer_file_and_client_json(
    mapctl_home: Path,
) -> None:
    """Issue 9: a lone surrogate in Clio text ("J\\ud83d") made the import exit 4."""
    bundle = check_bundle(json.loads(json.dumps(pritchett()).replace("Jay", "J\\ud83d")))
    result = run_import(mapctl_home, bundle=bundle)
    info = json.loads((result.folder / "client.json").read_text(encoding="utf-8"))
    assert info["name"] == "J\ufffd Pritchett"
    assert "<TextValue>J\ufffd</TextValue>" in result.answer_file.read_text(encoding="utf-8")
    assert "J\ufffd Pritchett" in format_import(result)


def test_text_over_hotdocs_limit_is_in_the_import_review(mapctl_home: Path) -> None:
    bundle = pritchett()
    bundle["contacts"][0]["first_name"] = "J" * 15_001
    text = format_import(run_import(mapctl_home, bundle=bundle))
    assert (
        "    - answer 'Client First Name TE' is 15,001 characters long; HotDocs takes at most "
        "15,000 characters in a text answer, so the interview may cut it"
    ) in text.splitlines()
