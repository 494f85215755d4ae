"""Issue 19 in the app (Flask's test client; the sandbox over real HTTP): Clio's custom action
request verified with Clio's nonce before anything is shown, the session it gives, what an
unverifiable request gets; the Add Client checkbox and the note's status on Done; Open in Clio."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from mapctl.engine.clio.client import open_client
from mapctl.engine.clio.closeloop import create_custom_action, target_url
from mapctl.engine.sandbox.server import Sandbox
from mapctl.engine.workflow.ledger import LEDGER_FILE

from tests.app.conftest import MakeApp, enter


def clio_link(sandbox: Sandbox, home: Path, env: dict[str, str]) -> str:
    """What choosing "Import to ILS" on matter 9002 in Clio gives: the app's path and Clio's
    parameters (a fresh nonce)."""
    if not sandbox.store.custom_actions:
        with open_client(home, env) as client:
            create_custom_action(client, target_url(8770))
    page = httpx.get(sandbox.matter_url(9002)).text
    launch = re.search(r'href="(/nc/custom_actions/[^"]+)"', page)
    assert launch is not None, page
    location = httpx.get(sandbox.base_url + launch.group(1).replace("&amp;", "&")).headers[
        "Location"
    ]
    parts = urlsplit(location)
    assert parts.path == "/clio/action"
    return f"{parts.path}?{parts.query}"


def test_a_verified_request_opens_the_preview_and_gives_a_session(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox, mapctl_home: Path
) -> None:
    app, guard, _ = make_app(env=connected)
    browser = app.test_client()  # never opened the app: no cookie
    response = browser.get(clio_link(sandbox, mapctl_home, connected))
    assert response.status_code == 200, response.text
    refresh = re.search(r'http-equiv="refresh" content="0; url=(/drafts/[\w-]+)"', response.text)
    assert refresh is not None, response.text
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{guard.cookie_name}={guard.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    preview = browser.get(refresh.group(1))
    assert preview.status_code == 200, preview.text
    assert "<h1>Preview</h1>" in preview.text and "Jay Pritchett" in preview.text
    assert f'href="{sandbox.base_url}/nc/matters/9002"' in preview.text  # Open in Clio


def test_forged_replayed_and_malformed_requests_show_no_matter(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox, mapctl_home: Path
) -> None:
    app, guard, _ = make_app(env=connected)
    real = clio_link(sandbox, mapctl_home, connected)
    forged = re.sub(r"custom_action_nonce=[^&]+", "custom_action_nonce=made-up", real)
    other_matter = real.replace("matters%2F9002", "matters%2F9003")
    cases = [
        forged,
        other_matter,  # a real nonce, for another matter than the one Clio issued it for
        "/clio/action",
        "/clio/action?subject_url=%2Fapi%2Fv4%2Fcontacts%2F5001&custom_action_nonce=x",
        "/clio/action?subject_url=https%3A%2F%2Fevil.example%2Fapi%2Fv4%2Fmatters%2F9002"
        "&custom_action_nonce=x",
    ]
    for path in cases:
        browser = app.test_client()
        response = browser.get(path)
        assert response.status_code == 403, (path, response.text)
        assert "could not be verified" in response.text
        assert "Pritchett" not in response.text
        assert "Set-Cookie" not in response.headers
        assert browser.get("/search").status_code == 403  # still no session
    # The real link was spent by the `other_matter` attempt (Clio's nonce is single-use) ...
    assert app.test_client().get(real).status_code == 403
    # ... and a fresh one works once, then never again.
    fresh = clio_link(sandbox, mapctl_home, connected)
    assert app.test_client().get(fresh).status_code == 200
    again = app.test_client().get(fresh)
    assert again.status_code == 403 and "Pritchett" not in again.text
    assert not (mapctl_home / LEDGER_FILE).exists()  # nothing was imported


def test_with_a_session_an_unverifiable_request_shows_the_search_page(
    make_app: MakeApp, connected: dict[str, str]
) -> None:
    app, guard, _ = make_app(env=connected)
    browser = enter(app, guard)
    response = browser.get(
        "/clio/action?subject_url=%2Fapi%2Fv4%2Fmatters%2F9002&custom_action_nonce=made-up"
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/search")


def _to_add_client(browser: Any, guard: Any, matter: str) -> str:
    from tests.app.test_routes import open_draft

    return open_draft(browser, matter)


def test_add_client_checkbox_and_the_note_on_done(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox
) -> None:
    app, guard, _ = make_app(env=connected)
    browser = enter(app, guard)
    draft = _to_add_client(browser, guard, "9002")
    form = browser.get(f"{draft}/client").text
    assert '<input id="clio_note" name="clio_note" type="checkbox" checked>' in form
    assert '<label for="clio_note">Write a note on the matter in Clio</label>' in form
    before = len(sandbox.store.notes)
    done = browser.post(
        f"{draft}/import",
        data={"name": "Jay Pritchett", "notes": "", "csrf": guard.csrf, "clio_note_shown": "1",
              "clio_note": "on"},
    )  # fmt: skip
    assert done.status_code == 303, done.text
    page = browser.get(f"{draft}/done").text
    assert len(sandbox.store.notes) == before + 1
    note = max(sandbox.store.notes)
    assert f'href="{sandbox.base_url}/nc/matters/9002#note-{note}"' in page
    assert "Open the note" in page


def test_the_checkbox_off_writes_no_note_and_the_setting_presets_it(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox
) -> None:
    app, guard, _ = make_app(env=connected, clio_note=False)
    browser = enter(app, guard)
    draft = _to_add_client(browser, guard, "9003")
    form = browser.get(f"{draft}/client").text
    assert '<input id="clio_note" name="clio_note" type="checkbox">' in form
    before = len(sandbox.store.notes)
    done = browser.post(
        f"{draft}/import",
        data={"name": "Closets", "notes": "", "csrf": guard.csrf, "clio_note_shown": "1"},
    )
    assert done.status_code == 303, done.text
    assert len(sandbox.store.notes) == before
    assert "Not written (turned off)" in browser.get(f"{draft}/done").text


def test_a_refused_note_is_shown_on_done_and_the_import_stands(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox, mapctl_home: Path
) -> None:
    app, guard, _ = make_app(env=connected)
    browser = enter(app, guard)
    draft = _to_add_client(browser, guard, "9004")
    sandbox.forbidden.add("notes")
    try:
        done = browser.post(
            f"{draft}/import",
            data={"name": "Mitchell", "notes": "", "csrf": guard.csrf, "clio_note_shown": "1",
                  "clio_note": "on"},
        )  # fmt: skip
    finally:
        sandbox.forbidden.discard("notes")
    assert done.status_code == 303, done.text
    page = browser.get(f"{draft}/done").text
    assert "Ready for ILS" in page
    assert "Not written: Clio refused it or could not be reached." in page  # staff words
    fold = page.split('<details class="admin">')[1]  # the administrator's details
    assert "Clio refused access to notes (HTTP 403" in fold
    assert "mapctl clients note 5004" in fold
    assert list((mapctl_home / "clients").glob("*/client.json"))


def test_a_head_request_does_not_spend_the_nonce(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox, mapctl_home: Path
) -> None:
    app, _, _ = make_app(env=connected)
    link = clio_link(sandbox, mapctl_home, connected)
    assert app.test_client().head(link).status_code == 405
    assert app.test_client().get(link).status_code == 200


def test_the_clients_page_links_each_matter_to_clio(
    make_app: MakeApp, connected: dict[str, str], sandbox: Sandbox
) -> None:
    app, guard, _ = make_app(env=connected)
    browser = enter(app, guard)
    draft = _to_add_client(browser, guard, "9001")
    form = {"name": "Claire Dunphy", "notes": "", "csrf": guard.csrf, "clio_note_shown": "1"}
    assert browser.post(f"{draft}/import", data=form).status_code == 303
    page = browser.get("/clients").text
    assert f'<a href="{sandbox.base_url}/nc/matters/9001" target="_blank"' in page
