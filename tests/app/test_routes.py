"""The app's routes through Flask's test client, against the sandbox over real HTTP: every
screen, the per-launch token, CSRF, the Host check, the headers and the error pages."""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from mapctl.app.security import Guard
from mapctl.app.server import AppConfig
from mapctl.engine.clio.auth import TokenStore
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox
from mapctl.engine.workflow.ledger import LEDGER_FILE, Ledger

from tests.conftest import POSIX_MODES

from .conftest import MakeApp, enter

MATTER_ID = "9002"  # 00002-Pritchett: client Jay Pritchett (5001)
COMPANY = 5015  # Pritchett's Closets & Blinds, related as "Business"
BLANK = 5014  # Dylan Marshall, a blank label (falls to Party)


def post(client: FlaskClient, path: str, **data: str) -> Any:
    return client.post(
        path, data={"csrf": client.application.jinja_env.globals["csrf_token"], **data}
    )


def rows(page: str) -> list[list[str]]:
    """The text of each body row of the page's first grid."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = []
    for row in re.findall(r"<tr\b.*?</tr>", body, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        found.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return found


def open_draft(client: FlaskClient, matter: str = MATTER_ID, back: str = "/search?q=x") -> str:
    """Use Selected Matter: the matter is fetched on the Clio pool; its page leads to the draft."""
    response = post(client, "/matters", matter=matter, back=back)
    assert response.status_code == 303, response.text
    opening = str(response.headers["Location"])
    assert opening.startswith("/opening/"), opening
    for _ in range(500):
        response = client.get(opening)
        if response.status_code != 200:
            break
        time.sleep(0.02)  # still fetching: the waiting page
    assert response.status_code == 303, response.text
    return str(response.headers["Location"])


STAFF_JARGON = re.compile(
    r"mapctl (connect|clients|app|import)|CLIO_[A-Z_]+|MAPCTL_[A-Z_]+|\bHTTP\b|\b[45]\d\d\b|`"
)


def staff_part(page: str) -> str:
    """What staff read: the page without the administrator's fold."""
    return re.sub(r'<details class="admin">.*?</details>', "", page, flags=re.S)


def listing(folder: Path) -> list[str]:
    return (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        if folder.exists()
        else []
    )


# --- the guard -------------------------------------------------------------------------------


def test_every_request_needs_the_token(make_app: MakeApp) -> None:
    app, guard, _ = make_app()
    client = app.test_client()
    for path in ("/", "/search?q=Pritchett", "/clients", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Open mapctl again" in response.text
        assert "shortcut on your desktop or in the Start menu" in response.text
        assert 'href="/static/app.css"' in response.text  # styled
        assert not STAFF_JARGON.search(staff_part(response.text)), path
    assert client.get("/?token=wrong").status_code == 403
    with client.get("/static/app.css") as style:
        assert style.status_code == 200  # public: the refusal page's style


def test_the_token_becomes_a_strict_httponly_cookie_and_leaves_the_address(
    make_app: MakeApp,
) -> None:
    app, guard, _ = make_app()
    client = app.test_client()
    response = client.get(f"/clients?token={guard.token}&x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/clients?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"mapctl_app_test={guard.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert client.get("/clients").status_code == 200


def test_a_foreign_host_is_refused_even_with_the_cookie(make_app: MakeApp) -> None:
    app, guard, _ = make_app()
    client = enter(app, guard)
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", ""):
        response = client.get("/clients", headers={"Host": host})
        assert response.status_code == 400, host
        assert "Wrong address" in response.text
        assert guard.token not in response.text


def test_posts_need_the_csrf_token_and_no_foreign_origin(make_app: MakeApp) -> None:
    app, guard, _ = make_app()
    client = enter(app, guard)
    response = client.post("/matters", data={"matter": MATTER_ID})
    assert response.status_code == 400
    assert "This page has expired" in response.text
    response = client.post("/matters", data={"matter": MATTER_ID, "csrf": "guess"})
    assert response.status_code == 400
    response = client.post(
        "/matters",
        data={"matter": MATTER_ID, "csrf": guard.csrf},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "Refused" in response.text


def test_headers_forbid_inline_scripts_framing_and_cors(make_app: MakeApp) -> None:
    app, guard, _ = make_app()
    client = enter(app, guard)
    for method in ("GET", "OPTIONS"):
        response = client.open("/search", method=method, headers={"Origin": "http://evil.example"})
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        assert not [h for h in response.headers.keys() if h.lower().startswith("access-control")]


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.inline.append(tag)
        self.inline.extend(name for name in names if name.startswith("on"))
        if any((value or "").strip().lower().startswith("javascript:") for value in names.values()):
            self.inline.append(f"{tag} javascript: URL")


def test_no_page_has_an_inline_script_a_secret_or_a_token(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, guard, config = app_client
    tokens = TokenStore(config.home).load()
    assert tokens is not None
    draft = open_draft(client)
    post(client, f"{draft}/remove", contact=str(COMPANY))
    pages = [
        client.get("/connect"),
        client.get("/search?q=Pritchett", follow_redirects=True),
        client.get(draft),
        client.get(f"{draft}/client"),
        post(client, f"{draft}/import", name="Jay Pritchett", notes="x"),
        client.get(f"{draft}/done"),
        client.get("/clients"),
        client.get("/nowhere"),
    ]
    for response in pages:
        text = response.text
        parser = _Scripts()
        parser.feed(text)
        assert parser.inline == [], response.request.path
        for secret in (guard.token, tokens.access_token, tokens.refresh_token, APP_SECRET):
            assert secret and secret not in text, response.request.path
        assert "Traceback" not in text


# --- Connect ---------------------------------------------------------------------------------


def test_connect_through_the_screens(
    make_app: MakeApp, sandbox: Sandbox, mapctl_home: Path
) -> None:
    app, guard, _ = make_app(env={"CLIO_BASE_URL": sandbox.base_url})
    client = enter(app, guard)
    assert client.get("/").headers["Location"] == "/connect"
    assert client.get("/search").headers["Location"] == "/connect"
    page = client.get("/connect").text
    assert 'type="password"' in page and "Connect to Clio" in page
    refused = post(client, "/connect", app_key=APP_KEY, app_secret="")
    assert refused.status_code == 400
    assert "Type both the App Key and the App Secret." in refused.text
    started = post(client, "/connect", app_key=APP_KEY, app_secret=APP_SECRET)
    assert started.status_code == 303
    page = client.get("/connect").text
    assert "Success code" in page and APP_SECRET not in page
    link = re.search(r'href="(http://127\.0\.0\.1[^"]+/oauth/authorize[^"]+)"', page)
    assert link is not None
    approval = httpx.get(link[1].replace("&amp;", "&"), follow_redirects=True)
    title = re.search(r"<title>(.*?)</title>", approval.text)
    assert title is not None and title[1].startswith("Success code=")
    finished = post(client, "/connect/code", code=title[1])
    assert finished.status_code == 303 and finished.headers["Location"] == "/search"
    path = TokenStore(mapctl_home).path
    assert not POSIX_MODES or stat.S_IMODE(path.stat().st_mode) == 0o600
    assert client.get("/").headers["Location"] == "/search"
    assert "Connected to Clio as " in client.get("/search").text
    page = client.get("/connect").text
    assert "Connected to Clio" in page and "127.0.0.1:" in page and "Disconnect" in page
    assert post(client, "/disconnect").headers["Location"] == "/connect?disconnected=1"
    assert TokenStore(mapctl_home).load() is None
    assert "no longer signed in" in client.get("/connect?disconnected=1").text


def test_a_bad_success_code_is_a_page_and_the_app_keeps_serving(
    make_app: MakeApp, sandbox: Sandbox
) -> None:
    app, guard, _ = make_app(env={"CLIO_BASE_URL": sandbox.base_url})
    client = enter(app, guard)
    assert post(client, "/connect/code", code="abc").status_code == 400  # no step 1 yet
    post(client, "/connect", app_key=APP_KEY, app_secret=APP_SECRET)
    response = post(client, "/connect/code", code="not a code")
    assert response.status_code == 400
    assert "The success code was not accepted" in response.text
    assert "that is not an authorization code (a code has no spaces)" in response.text  # fold
    response = post(client, "/connect/code", code="expired-or-made-up")
    assert response.status_code == 400
    assert "The success code was not accepted" in response.text
    assert "What to do:" in response.text and 'href="/connect"' in response.text
    assert not STAFF_JARGON.search(staff_part(response.text))
    assert client.get("/connect").status_code == 200


# --- Search ----------------------------------------------------------------------------------


def test_a_short_query_says_so_and_asks_clio_nothing(
    app_client: tuple[FlaskClient, Guard, AppConfig], sandbox: Sandbox
) -> None:
    client, _, _ = app_client
    before = len(sandbox.requests)
    response = client.get("/search?q=P")
    assert response.status_code == 200
    assert "Type at least 2 characters" in response.text
    assert len(sandbox.requests) == before


def test_search_fetches_every_page_and_sorts_by_each_column_both_ways(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    first = client.get("/search?q=Estate")
    assert first.status_code == 302
    url = first.headers["Location"]
    job = re.search(r"job=([\w-]+)", url)
    assert job is not None
    page = client.get(url).text
    assert "471 matters found for “Estate”." in page and "page" not in page.split("found")[1][:40]
    assert len(rows(page)) == 471
    progress = client.get(f"/search/progress?job={job[1]}&since=471").get_json()
    assert progress["done"] is True and progress["rows"] == []
    assert (progress["pages"], progress["matters"], progress["total"]) == (3, 471, 471)
    for index, (column, title) in enumerate(
        [("number", "Matter"), ("description", "Description"), ("client", "Client"),
         ("status", "Status"), ("opened", "Opened")]
    ):  # fmt: skip
        for direction, aria in ((None, "ascending"), ("desc", "descending")):
            query = f"{url}&sort={column}" + (f"&dir={direction}" if direction else "")
            page = client.get(query).text
            values = [row[index] for row in rows(page)]
            order = str.casefold
            if column == "status":  # as `mapctl search --sort status`: a matter's life
                order = ["open", "pending", "closed"].index  # type: ignore[assignment]
                assert {v.casefold() for v in values} == {"open", "pending", "closed"}
            expected = sorted(
                values, key=lambda v: order(v.casefold()), reverse=direction == "desc"
            )
            assert [v.casefold() for v in values] == [v.casefold() for v in expected], query
            header = re.search(
                rf'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)" class="sort">{title}<', page
            )
            assert header is not None and header[1] == aria
            flipped = "dir=desc" in header[2].replace("&amp;", "&")
            assert flipped == (direction is None)  # clicking again reverses
            assert page.count('aria-sort="none"') == 4


def test_search_with_a_clio_error_is_a_page(make_app: MakeApp, connected: dict[str, str]) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"type": "ServerError", "message": "boom"}})

    app, guard, _ = make_app(env=connected, transport=httpx.MockTransport(broken))
    client = enter(app, guard)
    response = client.get("/search?q=Pritchett", follow_redirects=True)
    assert response.status_code == 502
    assert "Clio could not be reached" in response.text and ">Try again<" in response.text
    assert "What to do:" in response.text and "Traceback" not in response.text
    assert not STAFF_JARGON.search(staff_part(response.text))
    assert client.get("/clients").status_code == 200


def test_a_rate_limit_is_a_page_saying_to_wait(
    make_app: MakeApp, connected: dict[str, str]
) -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"message": "x"}})

    app, guard, _ = make_app(env=connected, transport=httpx.MockTransport(limited))
    client = enter(app, guard)
    response = client.get("/search?q=Pritchett", follow_redirects=True)
    assert response.status_code == 429, response.text
    assert "Clio asked mapctl to slow down" in response.text
    assert "Wait a minute, then try again." in response.text and ">Try again<" in response.text
    assert not STAFF_JARGON.search(staff_part(response.text))


def test_not_connected_search_goes_to_connect(make_app: MakeApp) -> None:
    app, guard, _ = make_app()
    client = enter(app, guard)
    assert client.get("/search?q=Pritchett").headers["Location"] == "/connect"


# --- Preview ---------------------------------------------------------------------------------


def test_preview_remove_restore_and_set_a_role(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    draft = open_draft(client, back="/search?q=Pritchett&job=abc&sort=opened&dir=desc")
    page = client.get(draft).text
    assert "00002-Pritchett" in page and "Estate planning - Jay Pritchett" in page
    table = rows(page)
    assert table[0] == ["Jay Pritchett", "", "Client"]
    assert ["Gloria Pritchett", "Wife", "Spouse"] in table
    assert ["Dylan Marshall", "(blank)", "Party"] in table
    back = 'href="/search?q=Pritchett&amp;job=abc&amp;sort=opened&amp;dir=desc&amp;pick=9002"'
    assert back in page  # Back: the same results, sort and selection
    assert "Check these roles" in page
    removed = post(client, f"{draft}/remove", contact=str(COMPANY))
    assert removed.status_code == 303
    assert removed.headers["Location"].startswith(f"{draft}?note=")
    assert "Blinds removed" in client.get(removed.headers["Location"]).text  # with Undo
    page = client.get(draft).text
    assert (
        "Pritchett&#39;s Closets &amp; Blinds" not in page.split("<tbody>")[1].split("</tbody>")[0]
    )
    assert "Restore" in page.split('id="removed-title">Removed</h2>')[1]
    assert post(client, f"{draft}/restore", contact=str(COMPANY)).status_code == 303
    page = client.get(draft).text
    assert 'id="removed-title"' not in page
    assert post(client, f"{draft}/role", contact=str(BLANK), role="Child").status_code == 303
    page = client.get(draft).text
    assert ["Dylan Marshall", "(blank)", "Child (set by hand)"] in rows(page)
    check = page.split("Check these roles")[1].split("</section>")[0]
    assert "Dylan Marshall" not in check  # set by hand: no longer listed as unrecognised
    # any contact's role can be changed, not only unrecognised labels
    assert post(client, f"{draft}/role", contact="5002", role="Party").status_code == 303
    assert ["Gloria Pritchett", "Wife", "Party (set by hand)"] in rows(client.get(draft).text)
    post(client, f"{draft}/role", contact="5002", role="")  # back to Clio's label
    assert ["Gloria Pritchett", "Wife", "Spouse"] in rows(client.get(draft).text)


def test_a_co_client_is_listed_after_the_client_and_its_role_can_be_set(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    """Issue 17: 00005-Dunphy (the sandbox's multi-client matter), Claire Dunphy a co-client."""
    client, _, _ = app_client
    draft = open_draft(client, matter="9005")
    page = client.get(draft).text
    assert rows(page)[:2] == [
        ["Phil Dunphy", "", "Client"],
        ["Claire Dunphy", "(co-client)", "Co-client"],
    ]
    assert "Check these roles" not in page  # a co-client's label falls to no role
    choice = page.split('<select id="role-5003" name="role">')[1].split("</select>")[0]
    assert '<option value="Co-client" selected>' in choice  # any contact's role can be set
    assert "Spouse answers come from the co-client Claire Dunphy." in page
    assert post(client, f"{draft}/role", contact="5003", role="Spouse").status_code == 303
    page = client.get(draft).text
    assert ["Claire Dunphy", "(co-client)", "Spouse (set by hand)"] in rows(page)
    assert "Spouse answers come from" not in page
    assert post(client, f"{draft}/role", contact="5003", role="Co-client").status_code == 303
    assert ["Claire Dunphy", "(co-client)", "Co-client"] in rows(client.get(draft).text)


def test_preview_refuses_removing_the_client_and_unknown_roles(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    draft = open_draft(client)
    response = post(client, f"{draft}/remove", contact="5001")
    assert response.status_code == 400
    assert "contact 5001 is the matter&#39;s client and cannot be excluded" in response.text
    response = post(client, f"{draft}/role", contact=str(BLANK), role="Cousin")
    assert response.status_code == 400
    assert "the mapping has no such role" in response.text
    response = post(client, f"{draft}/remove", contact="")
    assert response.status_code == 400 and "Click a contact in the list first." in response.text
    assert post(client, "/matters", matter="").status_code == 400
    assert client.get(draft).status_code == 200  # the draft is unchanged and still usable


def test_an_unknown_matter_and_an_expired_screen_are_pages(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    response = post(client, "/matters", matter="99999-Nobody", back="/search?q=Nobody")
    response = client.get(response.headers["Location"])
    for _ in range(200):
        if response.status_code != 200:
            break
        time.sleep(0.02)
        response = client.get(response.request.path)
    assert response.status_code == 404
    assert "Clio has no matter with display number" in response.text
    response = client.get("/drafts/nothing-here")
    assert response.status_code == 404 and "this import screen has expired" in response.text


def test_the_back_address_stays_inside_the_app(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    draft = open_draft(client, back="https://evil.example/search?q=x")
    assert 'href="/search"' in client.get(draft).text
    assert "evil.example" not in client.get(draft).text


# --- Add Client, Done, Clients ---------------------------------------------------------------


def test_add_client_cancel_writes_nothing(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, config = app_client
    draft = open_draft(client)
    page = client.get(f"{draft}/client").text
    assert 'value="Jay Pritchett"' in page
    assert "Imported from Clio matter 00002-Pritchett on 2026-03-02</textarea>" in page
    assert f'href="{draft}" class="button secondary" role="button" data-cancel' in page  # Esc
    assert client.get(draft).status_code == 200
    assert listing(config.home / "clients") == []
    assert not (config.home / LEDGER_FILE).exists()


def test_import_with_edited_values_then_done_download_and_clients(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, config = app_client
    draft = open_draft(client)
    post(client, f"{draft}/remove", contact=str(COMPANY))
    post(client, f"{draft}/role", contact=str(BLANK), role="Child")
    response = post(client, f"{draft}/import", name=" Jay P. ", notes="Line one\r\nLine two")
    assert response.status_code == 303 and response.headers["Location"] == f"{draft}/done"
    folder = config.home / "clients" / "Pritchett-Jay-5001"
    info = json.loads((folder / "client.json").read_text())
    assert (info["name"], info["notes"]) == ("Jay P.", "Line one\nLine two")
    assert info["roles_set_by_hand"] == [
        {"contact_id": BLANK, "name": "Dylan Marshall", "label": "", "role": "Child"}
    ]
    page = client.get(f"{draft}/done").text
    assert str(folder / "ils-client-interview.anx") in page
    assert re.search(r"\b\d+ of 53 answers pre-filled", page)
    assert "<h1>Ready for ILS: Jay P.</h1>" in page and "not in ILS yet" in page
    assert 'id="done-name" type="text" readonly value="Jay P."' in page
    assert ">Line one\nLine two</textarea>" in page and 'data-copy="done-notes"' in page
    assert "SmartContent" in page and "Add New Client" in page
    assert "Client Interview" in page and "the bundled mapping" in page
    review = page.split('id="review"')[1]
    assert "Roles set by hand" in review and "Dylan Marshall: (no label) → Child" in review
    assert "Contacts removed" in review and "Pritchett&#39;s Closets &amp; Blinds" in review
    download = client.get(f"{draft}/answer-file")
    assert download.status_code == 200
    assert download.data == (folder / "ils-client-interview.anx").read_bytes()
    assert download.headers["Content-Disposition"] == 'attachment; filename="Jay P (5001).anx"'

    clients = client.get("/clients").text
    assert "Jay P." in clients and "/clients/5001/answer-file" in clients
    assert client.get("/clients/5001/answer-file").data == download.data
    assert client.get("/clients/42/answer-file").status_code == 404


def test_an_existing_client_is_refused_with_when_where_and_what_to_do(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, config = app_client
    first = open_draft(client)
    post(client, f"{first}/import", name="Jay Pritchett", notes="")
    again = post(client, f"{first}/import", name="Jay Pritchett", notes="")
    assert again.headers["Location"] == f"{first}/done"  # pressed twice: the same Done
    assert client.get(f"{first}/client").headers["Location"] == f"{first}/done"
    assert "already exists" not in client.get(first).text  # back from Done: no red refusal
    second = open_draft(client)
    page = client.get(second).text  # said at once on the preview
    assert "Already imported" in page and "from matter 00002-Pritchett" in page
    assert "/clients/5001/answer-file" in page and "Import to ILS" not in page
    for response in (client.get(f"{second}/client"), post(client, f"{second}/import", name="X")):
        assert response.status_code == 409
        text = response.text
        assert "This client was already imported" in text
        assert "from matter 00002-Pritchett" in text
        assert "Open the existing client&#39;s answer file" in text
        assert "/clients/5001/answer-file" in text
        assert not STAFF_JARGON.search(staff_part(text))
    found = client.get("/search?q=Pritchett", follow_redirects=True).text
    marked = [r for r in rows(found) if "Imported" in r[0]]
    assert [r[0].split()[0] for r in marked] == ["00002-Pritchett"]
    with Ledger.open(config.home) as ledger:
        assert [e.name for e in ledger.list_clients()] == ["Jay Pritchett"]


def test_an_empty_client_name_is_refused(app_client: tuple[FlaskClient, Guard, AppConfig]) -> None:
    client, _, config = app_client
    draft = open_draft(client)
    response = post(client, f"{draft}/import", name="  ", notes="x")
    assert response.status_code == 400 and "the client&#39;s name is empty" in response.text
    assert listing(config.home / "clients") == []


def test_two_tabs_importing_one_client_one_wins(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, guard, config = app_client
    drafts = [open_draft(client), open_draft(client)]
    second = config  # noqa: F841 - the same app, two tabs of one browser

    def submit(draft: str) -> int:
        tab = client.application.test_client()
        tab.set_cookie("mapctl_app_test", guard.token)
        return int(post(tab, f"{draft}/import", name="Jay Pritchett", notes="").status_code)

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(submit, drafts))
    assert statuses == [303, 409]
    assert listing(config.home / "clients") == [
        "Pritchett-Jay-5001", "Pritchett-Jay-5001/client.json",
        "Pritchett-Jay-5001/ils-client-interview.anx",
    ]  # fmt: skip


def test_clients_newest_first(app_client: tuple[FlaskClient, Guard, AppConfig]) -> None:
    client, _, _ = app_client
    assert "No clients imported yet" in client.get("/clients").text
    for matter in ("9001", MATTER_ID):  # Claire Dunphy's purchase, then Jay Pritchett's estate
        post(client, f"{open_draft(client, matter)}/import", name=f"client of {matter}", notes="")
    page = client.get("/clients").text
    assert page.index("client of 9002") < page.index("client of 9001")


def test_a_bug_is_a_page_without_a_traceback_and_the_app_keeps_serving(
    app_client: tuple[FlaskClient, Guard, AppConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapctl.engine.workflow import importing

    client, _, _ = app_client
    draft = open_draft(client)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(importing, "preview", broken)
    response = client.get(draft)
    assert response.status_code == 500
    assert "internal error (RuntimeError): this is a bug in mapctl" in response.text  # the fold
    assert "Something went wrong" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text
    monkeypatch.undo()
    assert client.get(draft).status_code == 200


def test_unknown_pages_and_methods_are_pages(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    assert client.get("/nowhere").status_code == 404
    response = client.get("/matters")
    assert response.status_code == 405 and "What to do:" in response.text


def test_labels_that_fell_to_party_show_did_you_mean_and_the_role_can_be_reset(
    make_app: MakeApp, mapctl_home: Path
) -> None:
    from mapctl.engine.sandbox.seed import demo_data
    from mapctl.engine.sandbox.server import connect_home

    data = demo_data()
    for rel in data["relationships"]:
        if rel["contact"]["id"] == 5003 and rel["matter"]["id"] == 9002:
            rel["description"] = "Dauhgter"  # Claire Dunphy, typed in a hurry
    with Sandbox(data) as own:
        env = {"MAPCTL_HOME": str(mapctl_home), **connect_home(own, mapctl_home)}
        app, guard, _ = make_app(env=env)
        client = enter(app, guard)
        draft = open_draft(client)
        page = client.get(draft).text
        assert ["Claire Dunphy", "Dauhgter", "Party"] in rows(page)
        section = page.split("Check these roles")[1].split("</section>")[0]
        assert "“Dauhgter”" in section and "did you mean daughter?" in section
        assert "Role for Claire Dunphy</label>" in section
        assert '<option value="Child" selected>' in section  # the suggestion, chosen already
        post(client, f"{draft}/role", contact="5003", role="Child")
        assert ["Claire Dunphy", "Dauhgter", "Child (set by hand)"] in rows(client.get(draft).text)
        post(client, f"{draft}/role", contact="5003", role="Party")  # back to Clio's label
        page = client.get(draft).text
        assert ["Claire Dunphy", "Dauhgter", "Party"] in rows(page)
        assert "Check these roles" in page


def test_warnings_are_in_plain_words(app_client: tuple[FlaskClient, Guard, AppConfig]) -> None:
    client, _, _ = app_client
    page = client.get(open_draft(client, matter="9003")).text  # a company is the client
    warnings = page.split('id="warnings"')[1].split("</section>")[0]
    assert "The client Pritchett&#39;s Closets &amp; Blinds is a Company, not a Person" in warnings
    assert "`" not in warnings


class HeldPages(httpx.BaseTransport):
    """Real HTTP to the sandbox, holding every request for a second page until released."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.release = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "page_token" in str(request.url):
            assert self.release.wait(20)
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


def test_a_slow_search_shows_its_progress(make_app: MakeApp, connected: dict[str, str]) -> None:
    held = HeldPages()
    app, guard, _ = make_app(env=connected, transport=held)
    client = enter(app, guard)
    try:
        page = client.get("/search?q=Estate", follow_redirects=True).text
        assert 'role="status" data-progress="/search/progress?job=' in page
        assert "Loading matters from Clio: 200 of 471 so far" in page
        assert len(rows(page)) == 200  # the first page is on the screen at once
        job = re.search(r"job=([\w-]+)", page)
        assert job is not None
        progress = f"/search/progress?job={job[1]}"
        state = client.get(progress).get_json()
        assert (state["done"], state["pages"], state["matters"], state["total"]) == (
            False,
            1,
            200,
            471,
        )
    finally:
        held.release.set()
    for _ in range(200):
        state = client.get(progress).get_json()
        if state["done"]:
            break
        time.sleep(0.02)
    assert (state["done"], state["pages"], state["matters"], len(state["rows"])) == (
        True,
        3,
        471,
        471,
    )
    assert "471 matters found" in client.get(f"/search?q=Estate&job={job[1]}").text


def test_sensitive_custom_fields_never_reach_a_page(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    draft = open_draft(client)
    pages = [client.get(draft), client.get(f"{draft}/client")]
    pages.append(post(client, f"{draft}/import", name="Jay Pritchett", notes=""))
    pages += [client.get(f"{draft}/done"), client.get("/clients")]
    for response in pages:
        assert "900-12-3456" not in response.text  # Jay's Social Security Number (sensitive)


# --- issue 18: pages as they come, one HTTP pool, text helpers ---------------------------------


def test_a_search_shows_each_page_as_it_arrives_and_caps_what_it_shows(
    app_client: tuple[FlaskClient, Guard, AppConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one seam (`searching.run_search`) hands rows over page by page: the first page is on
    the screen at once, later ones come through the progress address (`since`)."""
    from mapctl.app import searching, workspace

    client, _, _ = app_client
    second = threading.Event()

    def paged(clio: Any, query: str, search: Any) -> None:
        page = [{"id": n, "display_number": f"{n:05d}-Smith"} for n in range(3)]
        search.progress(1, 3, 5000, True)
        search.add_rows(page)
        assert second.wait(10)
        search.progress(2, 5000, 5000, False)
        later = [{"id": n, "display_number": f"{n:05d}-Smith"} for n in range(3, 5000)]
        later[0]["client_name"] = "\u202enoS"  # a bidi override from Clio
        search.add_rows(later)

    monkeypatch.setattr(searching, "run_search", paged)
    page = client.get("/search?q=Smith", follow_redirects=True).text
    assert [r[0] for r in rows(page)] == ["00000-Smith", "00001-Smith", "00002-Smith"]
    assert 'data-since="3"' in page
    assert "Loading the first 1,000 of 5,000 matters from Clio: 3 so far" in page
    job = re.search(r"job=([\w-]+)", page)
    assert job is not None
    second.set()
    for _ in range(200):
        state = client.get(f"/search/progress?job={job[1]}&since=3").get_json()
        if state["done"]:
            break
        time.sleep(0.02)
    assert len(state["rows"]) == workspace.SHOWN - 3 and state["rows"][0]["id"] == 3
    assert state["rows"][0]["client_name"] == " noS"  # shown by script: neutralised too
    page = client.get(f"/search?q=Smith&job={job[1]}").text
    assert "Showing the first 1,000 of 5,000 matters for “Smith”: refine the search" in page
    assert len(rows(page)) == 1000


def test_one_http_pool_for_the_apps_life(make_app: MakeApp, connected: dict[str, str]) -> None:
    class Counting(httpx.BaseTransport):
        def __init__(self) -> None:
            self.real = httpx.HTTPTransport()
            self.requests = 0
            self.closed = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.requests += 1
            return self.real.handle_request(request)

        def close(self) -> None:
            self.closed += 1
            self.real.close()

    counting = Counting()
    app, guard, config = make_app(env=connected, transport=counting)
    client = enter(app, guard)
    client.get("/search?q=Pritchett", follow_redirects=True)
    open_draft(client)
    client.get("/connect")  # asks Clio who is connected
    assert counting.requests >= 4 and counting.closed == 0  # kept between actions
    shared = config.workspace.transport
    client.get("/search?q=Garcia", follow_redirects=True)
    assert config.workspace.transport is shared
    config.workspace.close()  # the app stops
    assert counting.closed == 1


def test_download_names_are_the_clients_and_safe_on_windows() -> None:
    from mapctl.app.text import download_name, local_time, neutral, staff_warning

    assert download_name("Jay Pritchett", 5001) == "Jay Pritchett (5001).anx"
    assert download_name('A/B\\C:D*E?"F<G>H|I', 7) == "A B C D E F G H I (7).anx"
    assert download_name("CON", 1) == "client CON (1).anx"
    assert download_name("...", 2) == "client (2).anx"
    assert download_name("\u202enoS", 3) == "noS (3).anx"
    assert len(download_name("x" * 500, 4)) < 100
    assert neutral("a\u202eb\u2066c\u200fd\u061ce\nf") == "a b c d e\nf"
    assert local_time("not a time") == "not a time" and local_time(None) == ""
    assert re.fullmatch(r"\d{1,2} \w{3} 2026, \d\d:\d\d", local_time("2026-03-02T15:30:05Z"))
    assert staff_warning(
        "2 contacts are in the Spouse role (Gloria, DeDe): the first is `spouse`, all are in "
        "`spouses`"
    ) == (
        "2 contacts have the role Spouse (Gloria, DeDe). Where the interview asks about one "
        "Spouse, it gets the first of them; check that this is right."
    )
    assert staff_warning(
        'Jay Pritchett: custom field "Gender" has picklist option id 81009, which the field '
        "does not define; treated as blank"
    ) == (
        "Jay Pritchett: the Clio field “Gender” holds a choice that Clio no longer lists; that "
        "answer is left blank."
    )
    assert staff_warning(
        'Jay: custom field "Date of Death" (date) has the value "soon", which is not a valid '
        "date value; treated as blank"
    ) == 'Jay: the Clio field “Date of Death” holds "soon", which is not a valid date; that ' + (
        "answer is left blank."
    )
    assert staff_warning("contact 5 (a child) has no name") == (
        "A child has no name in Clio (Clio contact 5)."
    )


def test_a_folder_in_the_way_asks_for_the_administrator(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, config = app_client
    stray = config.out_dir / "Pritchett-Jay-5001"
    stray.mkdir(parents=True)
    (stray / "ils-client-interview.anx").write_text("left by an import that was stopped")
    draft = open_draft(client)
    response = post(client, f"{draft}/import", name="Jay Pritchett", notes="")
    assert response.status_code == 409
    assert "A folder for this client is in the way" in response.text
    assert "ask your administrator" in response.text.lower()
    assert not STAFF_JARGON.search(staff_part(response.text))
    assert str(stray) in response.text.split('<details class="admin">')[1]  # which folder


def test_every_cause_has_staff_words_only() -> None:
    from mapctl.app.errors import CAUSES

    for name, cause in CAUSES.items():
        for text in (cause.title, cause.happened, cause.advice):
            assert not STAFF_JARGON.search(text), (name, text)


def test_a_wait_clio_asks_for_is_a_countdown_and_not_the_deadline() -> None:
    from mapctl.app.jobs import Job

    now = [1000.0]
    job = Job("Fetching matter 00002-Pritchett from Clio", deadline=10.0, clock=lambda: now[0])
    job.waiting(55)
    assert job.as_json() == {
        "done": False, "what": "Fetching matter 00002-Pritchett from Clio", "wait": 55,
        "left": 65,  # the deadline moved on by the wait: given up 65 s from now at the latest
    }  # fmt: skip
    now[0] += 50  # past the 10 s deadline, but Clio asked for 55 s
    assert job.as_json()["wait"] == 5 and not job.done.is_set()
    now[0] += 16
    assert job.as_json()["done"] is True
    assert job.error is not None and "did not answer in time" in job.error.message


def test_a_role_the_mapping_does_not_list_stays_chosen(
    app_client: tuple[FlaskClient, Guard, AppConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contact whose role is none of the mapping's (a co-client) keeps it in its choice, so
    Set Role on it never changes it by accident; any contact's role can be changed."""
    import dataclasses

    from mapctl.app import views

    client, _, _ = app_client
    draft = open_draft(client)
    real = views._preview

    def with_co_client(d: Any) -> Any:
        shown = real(d)
        contacts = tuple(
            dataclasses.replace(c, role="Co-client") if c.id == 5002 else c for c in shown.contacts
        )
        return dataclasses.replace(shown, contacts=contacts)

    monkeypatch.setattr(views, "_preview", with_co_client)
    page = client.get(draft).text
    choice = page.split('<select id="role-5002" name="role">')[1].split("</select>")[0]
    assert '<option value="Co-client" selected>' in choice  # a role of the mapping's now
    assert choice.count(" selected>") == 1
    assert '<option value="Spouse">' in choice
