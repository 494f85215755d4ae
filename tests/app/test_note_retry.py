"""The button "Write the note again" in the staff app, over real HTTP: the app on waitress, the embedded
sandbox as Clio (its Notes permission taken away, then given back), one or two workstations
sharing an output folder. The note is written once, whoever clicks and however often; what
staff read is in their words (no command line outside the administrator's details); a slow
Clio shows the wait with the time left."""

from __future__ import annotations

import html
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.app.server import AppServer
from mapctl.engine.clio.auth import TokenStore
from mapctl.engine.clio.client import open_client
from mapctl.engine.clio.closeloop import matter_notes
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.sandbox.server import APP_SECRET, Sandbox, connect_home
from mapctl.engine.workflow.firmledger import FirmLedger, Workstation

from tests.app.test_browser import JARGON, Faults
from tests.app.test_connect_wait import Staff

from .conftest import app_config, served

NOW = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
PRITCHETT, DUNPHY = 9002, 9001  # matters; their clients: Jay Pritchett (5001), Claire (5003)
IMPORTED = "Imported to ILS: "  # the import note's subject
LEFT = re.compile(r"Waiting for Clio(?:'|&#39;)s answer: at most (\d+) s more\.")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@contextmanager
def serve(home: Path, env: dict[str, str], out_dir: Path, **extra: Any) -> Iterator[AppServer]:
    with served(app_config(home, env, out_dir=out_dir, **extra)) as server:
        yield server


def local(staff: Staff, location: str) -> str:
    """A Location under the secret path, as a path for `Staff.post` (which adds the path)."""
    assert location.startswith(staff.root + "/"), location
    return location[len(staff.root) :]


def import_matter(staff: Staff, matter: int, name: str) -> str:
    """Use Selected Matter, then Add Client's OK with the note ticked -> the Done page's path."""
    response = staff.post("/matters", matter=str(matter), back="")
    assert response.status_code == 303, response.text
    opening = response.headers["Location"]
    for _ in range(500):
        response = staff.get(opening)
        if response.status_code != 200:
            break
        time.sleep(0.02)
    assert response.status_code == 303, response.text
    draft = local(staff, response.headers["Location"])
    done = staff.post(f"{draft}/import", name=name, notes="", clio_note_shown="1", clio_note="on")
    assert done.status_code == 303, done.text
    return f"{draft}/done"


def notes_on(sandbox: Sandbox, home: Path, env: dict[str, str], matter: int) -> list[Any]:
    """The import notes on the matter as Clio lists them (GET notes.json; the sandbox's own
    seeded notes left out), or, while the test forbids notes, as the sandbox keeps them."""
    stored = [
        n
        for n in sandbox.store.notes.values()
        if (n.get("matter") or {}).get("id") == matter and n["subject"].startswith(IMPORTED)
    ]
    if "notes" in sandbox.forbidden:
        return stored
    with open_client(home, env) as client:
        listed = [n for n in matter_notes(client, matter) if n["subject"].startswith(IMPORTED)]
    assert [n["id"] for n in listed] == sorted(n["id"] for n in stored)
    return listed


def staff_text(page: str) -> str:
    """What staff read: the page without the administrator's folds and the markup."""
    shown = re.sub(r'<details class="admin">.*?</details>', "", page, flags=re.S)
    shown = re.sub(r"<script.*?</script>", "", shown, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown)))


def no_secrets(home: Path, *pages: str) -> None:
    tokens = TokenStore(home).load()
    assert tokens is not None
    for page in pages:
        for secret in (APP_SECRET, tokens.access_token, tokens.refresh_token):
            assert secret and secret not in page


def clients_row(page: str, contact: int) -> str:
    found = re.search(rf'<tr id="client-{contact}">.*?</tr>', page, re.S)
    assert found is not None, page
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[0]))).strip()


def test_done_page_writes_the_note_again_once(sandbox: Sandbox, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = connect_home(sandbox, home)
    with serve(home, env, home / "clients") as server, Staff(server) as staff:
        sandbox.forbidden.add("notes")
        done = import_matter(staff, PRITCHETT, "Jay Pritchett")
        page = staff.get(done).text
        assert "Not written: Clio refused it or could not be reached." in page
        assert f'action="{staff.root}{done.removesuffix("/done")}/note"' in page
        assert ">Write the note again</button>" in page

        # The form's token is needed, as on every other form
        bare = staff.http.post(staff.root + done.removesuffix("/done") + "/note", data={})
        assert bare.status_code == 400 and "This page has expired" in bare.text

        # Still forbidden: still not written, said in staff words; nothing written
        again = staff.post(done.removesuffix("/done") + "/note")
        assert again.status_code == 303, again.text
        assert again.headers["Location"] == f"{staff.root}{done}#clio-note"
        page = staff.get(done).text
        shown = staff_text(page)
        assert "Still not written. Clio refused it: the firm's Clio app may not write notes." in (
            shown
        )
        assert "tick Notes (read and write)" in shown and "Connection page" in shown
        assert not JARGON.search(shown), JARGON.search(shown)
        fold = page.split('<details class="admin">')[1]
        assert "mapctl clients note 5001" in fold and "403" in fold
        assert ">Write the note again</button>" in page
        assert notes_on(sandbox, home, env, PRITCHETT) == []

        # Allowed now: written once, with the link to it
        sandbox.forbidden.discard("notes")
        assert staff.post(done.removesuffix("/done") + "/note").status_code == 303
        page = staff.get(done).text
        (note,) = notes_on(sandbox, home, env, PRITCHETT)
        assert "Written just now: the note is on the matter in Clio." in page
        assert f'href="{sandbox.base_url}/nc/matters/{PRITCHETT}#note-{note["id"]}"' in page
        assert "Open the note" in page and ">Write the note again</button>" not in page
        assert note["subject"] == "Imported to ILS: Jay Pritchett"

        # The same form sent again (Back, a second click): already there, nothing more
        third = staff.post(done.removesuffix("/done") + "/note")
        assert third.status_code == 303
        page = staff.get(done).text
        assert "The note is already on the matter in Clio" in page
        assert len(notes_on(sandbox, home, env, PRITCHETT)) == 1
        clients = staff.get("/clients").text
        assert "Written Open the note" in clients_row(clients, 5001)
        no_secrets(home, page, clients)


def two_desks(
    sandbox: Sandbox, tmp_path: Path
) -> tuple[Path, dict[str, str], Path, dict[str, str]]:
    home_a = tmp_path / "home-a"
    env_a = {**connect_home(sandbox, home_a), "MAPCTL_TEST_USER": "ann"}
    env_a["MAPCTL_TEST_COMPUTER"] = "DESK-A"
    home_b = tmp_path / "home-b"
    shutil.copytree(home_a, home_b)
    env_b = {**env_a, "MAPCTL_TEST_USER": "bob", "MAPCTL_TEST_COMPUTER": "DESK-B"}
    return home_a, env_a, home_b, env_b


def test_clients_page_writes_another_desks_note_once(sandbox: Sandbox, tmp_path: Path) -> None:
    home_a, env_a, home_b, env_b = two_desks(sandbox, tmp_path)
    shared = tmp_path / "share" / "clients"
    with (
        serve(home_a, env_a, shared) as server_a,
        serve(home_b, env_b, shared) as server_b,
        Staff(server_a) as desk_a,
        Staff(server_b) as desk_b,
    ):
        sandbox.forbidden.add("notes")
        import_matter(desk_a, PRITCHETT, "Jay Pritchett")  # at A, the note refused
        sandbox.forbidden.discard("notes")
        import_matter(desk_a, DUNPHY, "Claire Dunphy")  # at A, the note written

        listed = desk_b.get("/clients").text
        assert '<th scope="col">Clio note</th>' in listed
        row = clients_row(listed, 5001)
        assert "ann (DESK-A)" in row and "Not written" in row
        assert f'action="{desk_b.root}/clients/5001/note"' in listed
        assert "Written Open the note" in clients_row(listed, 5003)
        assert f'action="{desk_b.root}/clients/5003/note"' not in listed
        assert desk_b.http.post(desk_b.root + "/clients/5001/note", data={}).status_code == 400

        # Refused again at B: said so, nothing written
        sandbox.forbidden.add("notes")
        response = desk_b.post("/clients/5001/note")
        assert response.status_code == 303
        location = response.headers["Location"]
        assert re.fullmatch(rf"{desk_b.root}/clients\?note=[\w-]+#client-5001", location)
        page = desk_b.get(location).text
        shown = staff_text(page)
        assert "Clio note for Jay Pritchett: Still not written. Clio refused it" in shown
        assert not JARGON.search(shown), JARGON.search(shown)
        assert notes_on(sandbox, home_a, env_a, PRITCHETT) == []

        # Allowed: B writes A's note, once
        sandbox.forbidden.discard("notes")
        page = desk_b.get(desk_b.post("/clients/5001/note").headers["Location"]).text
        assert "Clio note for Jay Pritchett: Written just now" in staff_text(page)
        (note,) = notes_on(sandbox, home_a, env_a, PRITCHETT)
        assert "Jay Pritchett was imported to InterActive LegalSuite" in note["detail"]
        assert "Written Open the note" in clients_row(page, 5001)

        # A's page still shows the button from before: a click there is told, not written
        stale = desk_a.post("/clients/5001/note")
        page = desk_a.get(stale.headers["Location"]).text
        assert "The note is already on the matter in Clio" in staff_text(page)
        assert "Written Open the note" in clients_row(page, 5001)
        assert len(notes_on(sandbox, home_a, env_a, PRITCHETT)) == 1
        no_secrets(home_a, page)


def test_another_desk_writing_the_note_now_is_said(sandbox: Sandbox, tmp_path: Path) -> None:
    home_a, env_a, home_b, env_b = two_desks(sandbox, tmp_path)
    shared = tmp_path / "share" / "clients"
    with serve(home_a, env_a, shared) as server_a, Staff(server_a) as desk_a:
        sandbox.forbidden.add("notes")
        import_matter(desk_a, PRITCHETT, "Jay Pritchett")
        sandbox.forbidden.discard("notes")
    with serve(home_b, env_b, shared) as server_b, Staff(server_b) as desk_b:
        firm = FirmLedger(shared)
        client = firm.get(5001)
        assert client is not None
        carol = Workstation("carol", "DESK-C", pid=1)
        with firm.turn(5001, client.token, "note", carol):  # DESK-C is writing it now
            response = desk_b.post("/clients/5001/note")
            page = desk_b.get(response.headers["Location"]).text
        shown = staff_text(page)
        assert (
            "Another workstation is writing this note on the matter right now (carol on DESK-C)"
            in shown
        )
        assert "open the Clients page again" in shown
        assert notes_on(sandbox, home_b, env_b, PRITCHETT) == []
        assert "Not written" in clients_row(page, 5001)
        # DESK-C's turn over (its write failed, say): B writes it
        page = desk_b.get(desk_b.post("/clients/5001/note").headers["Location"]).text
        assert "Written just now" in staff_text(page)
        assert len(notes_on(sandbox, home_b, env_b, PRITCHETT)) == 1


def test_two_desks_clicking_at_once_write_one_note(sandbox: Sandbox, tmp_path: Path) -> None:
    home_a, env_a, home_b, env_b = two_desks(sandbox, tmp_path)
    shared = tmp_path / "share" / "clients"
    slow = Faults()

    def late(request: httpx.Request) -> None:  # Clio takes a moment to take a note
        if request.method == "POST" and request.url.path.endswith("/notes.json"):
            time.sleep(0.8)

    with (
        serve(home_a, env_a, shared) as server_a,
        serve(home_b, env_b, shared, transport=slow) as server_b,
        Staff(server_a) as desk_a,
        Staff(server_b) as desk_b,
    ):
        sandbox.forbidden.add("notes")
        import_matter(desk_a, PRITCHETT, "Jay Pritchett")
        sandbox.forbidden.discard("notes")
        slow.fault = late
        answers: dict[str, str] = {}

        def click(name: str, staff: Staff) -> None:
            response = staff.post("/clients/5001/note")
            location = response.headers["Location"]
            for _ in range(100):  # a slow Clio: the page that follows the work, until it ends
                page = staff.get(location)
                if page.status_code != 200 or "Writing the note" not in page.text:
                    break
                time.sleep(0.1)
            if page.status_code == 303:
                page = staff.get(page.headers["Location"])
            answers[name] = staff_text(page.text)

        first = threading.Thread(target=click, args=("b", desk_b))
        first.start()
        time.sleep(0.3)  # B's turn is taken, its note on its way to Clio
        click("a", desk_a)
        first.join(timeout=30)
        assert "Written just now" in answers["b"], answers["b"]
        assert (
            "writing this note on the matter right now (bob on DESK-B)" in answers["a"]
            or "already on the matter" in answers["a"]
        ), answers["a"]
        assert len(notes_on(sandbox, home_a, env_a, PRITCHETT)) == 1
    slow.close()


def test_a_slow_clio_shows_the_wait_with_the_time_left(sandbox: Sandbox, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = connect_home(sandbox, home)
    slow = Faults()

    def late(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/notes.json"):
            time.sleep(2.0)

    with (
        serve(home, env, home / "clients", transport=slow, deadline=10.0) as server,
        Staff(server) as staff,
    ):
        sandbox.forbidden.add("notes")
        done = import_matter(staff, PRITCHETT, "Jay Pritchett")
        sandbox.forbidden.discard("notes")
        slow.fault = late
        started = time.monotonic()
        response = staff.post(done.removesuffix("/done") + "/note")
        assert response.status_code == 303 and time.monotonic() - started < 1.8
        waiting = response.headers["Location"]
        assert re.fullmatch(rf"{staff.root}/notes/[\w-]+", waiting), waiting
        page = staff.get(waiting)
        assert page.status_code == 200
        assert "<h1>Writing the note on the matter in Clio</h1>" in page.text
        left = LEFT.search(page.text)
        assert left is not None and 5 <= int(left[1]) <= 10, page.text
        assert ">Back to the client<" in page.text
        # A second click meanwhile (another tab): told, not written twice
        second = staff.post(done.removesuffix("/done") + "/note")
        assert second.headers["Location"] == f"{staff.root}{done}#clio-note"
        shown = staff_text(staff.get(done).text)
        assert "writing this note on the matter right now (another window of mapctl" in shown
        with httpx.Client(base_url=staff.http.base_url) as stranger:  # locked like the others
            assert stranger.get(waiting).status_code == 403
            assert stranger.get(f"{waiting}/progress").status_code == 403
        state = staff.until_done(f"{waiting}/progress")
        assert state["done"] is True
        back = staff.get(waiting)
        assert back.status_code == 303
        assert back.headers["Location"] == f"{staff.root}{done}#clio-note"
        assert "Written just now" in staff.get(done).text
        assert len(notes_on(sandbox, home, env, PRITCHETT)) == 1
    slow.close()


def test_clients_page_note_column_for_old_and_turned_off_entries(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from mapctl.engine.clio.client import open_client as clio
    from mapctl.engine.workflow import importing

    home = tmp_path / "home"
    env = connect_home(sandbox, home)
    with clio(home, env) as client:  # imported before notes existed: no note recorded
        bundle = importing.fetch_checked_bundle(client, str(DUNPHY))
    importing.import_client(
        bundle, compile_mapping(None), home=home, now=NOW, today=NOW.date(),
        out_dir=home / "clients",
    )  # fmt: skip
    with (
        serve(home, env, home / "clients", clio_note=False) as server,
        Staff(server) as staff,
    ):
        response = staff.post("/matters", matter=str(PRITCHETT), back="")
        opening = response.headers["Location"]
        for _ in range(500):
            response = staff.get(opening)
            if response.status_code != 200:
                break
            time.sleep(0.02)
        draft = local(staff, response.headers["Location"])
        staff.post(f"{draft}/import", name="Jay Pritchett", notes="", clio_note_shown="1")
        page = staff.get("/clients").text
        assert clients_row(page, 5003).endswith("Unknown")
        assert clients_row(page, 5001).endswith("Turned off")
        assert "Write the note again" not in page
        # A contact nobody imported: said on the page, never an error page
        response = staff.post("/clients/5999/note")
        assert response.status_code == 303
        shown = staff_text(staff.get(response.headers["Location"]).text)
        assert "Not written. This client is not among the clients mapctl has imported" in shown, (
            shown
        )
        assert not JARGON.search(shown), JARGON.search(shown)
