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
    response = post(client, "/matters", matter=matter, back=back)
    assert response.status_code == 303, response.text
    return str(response.headers["Location"])


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
    for path in ("/", "/search?q=Pritchett", "/clients", "/static/app.js", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This page needs the address mapctl printed" in response.text
        assert "Open the address that `mapctl app` printed" in response.text
    assert client.get("/?token=wrong").status_code == 403


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
    assert "The form has expired" in response.text
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
    assert "the App Key and the App Secret are both needed" in refused.text
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


def test_a_bad_success_code_is_a_page_and_the_app_keeps_serving(
    make_app: MakeApp, sandbox: Sandbox
) -> None:
    app, guard, _ = make_app(env={"CLIO_BASE_URL": sandbox.base_url})
    client = enter(app, guard)
    assert post(client, "/connect/code", code="abc").status_code == 400  # no step 1 yet
    post(client, "/connect", app_key=APP_KEY, app_secret=APP_SECRET)
    response = post(client, "/connect/code", code="not a code")
    assert response.status_code == 400
    assert "that is not an authorization code (a code has no spaces)" in response.text
    response = post(client, "/connect/code", code="expired-or-made-up")
    assert response.status_code == 502
    assert "Clio refused to exchange the authorization code" in response.text
    assert "What to do:" in response.text
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
    assert "471 matters found" in page and "(3 pages from Clio)" in page
    assert len(rows(page)) == 471
    progress = client.get(f"/search/progress?job={job[1]}").get_json()
    assert progress == {"done": True, "pages": 3, "matters": 471, "total": 471, "waiting": ""}
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
                rf'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)">{title}<', page
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
    assert "Clio could not be reached or refused" in response.text
    assert "What to do:" in response.text and "Traceback" not in response.text
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
    assert "Clio is busy (rate limit)" in response.text
    assert "wait a minute, then try again" in response.text


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
    assert 'href="/search?q=Pritchett&amp;job=abc&amp;sort=opened&amp;dir=desc"' in page  # Back
    assert "Labels that fell to Party" in page
    assert post(client, f"{draft}/remove", contact=str(COMPANY)).status_code == 303
    page = client.get(draft).text
    assert (
        "Pritchett&#39;s Closets &amp; Blinds" not in page.split("<tbody>")[1].split("</tbody>")[0]
    )
    assert "Restore" in page.split("<h2>Removed</h2>")[1]
    assert post(client, f"{draft}/restore", contact=str(COMPANY)).status_code == 303
    page = client.get(draft).text
    assert "<h2>Removed</h2>" not in page
    assert post(client, f"{draft}/role", contact=str(BLANK), role="Child").status_code == 303
    assert ["Dylan Marshall", "(blank)", "Child (set by hand)"] in rows(client.get(draft).text)


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
    assert "<h2>Co-clients</h2>" in page and "Labels that fell to Party" not in page
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
    assert response.status_code == 400 and "no contact was selected" in response.text
    assert post(client, "/matters", matter="").status_code == 400
    assert client.get(draft).status_code == 200  # the draft is unchanged and still usable


def test_an_unknown_matter_and_an_expired_screen_are_pages(
    app_client: tuple[FlaskClient, Guard, AppConfig],
) -> None:
    client, _, _ = app_client
    response = post(client, "/matters", matter="99999-Nobody", back="/search?q=Nobody")
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
    assert f'href="{draft}"' in page  # Cancel goes back to the preview
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
    assert "Ready for ILS: the answer file for <strong>" in page and "Created" not in page
    assert "ILS Client Interview" in page and "the bundled mapping" in page
    review = page.split('id="review"')[1]
    assert "Roles set by hand" in review and "Dylan Marshall: (blank) → Child" in review
    assert "Contacts removed" in review and "Pritchett&#39;s Closets &amp; Blinds" in review
    download = client.get(f"{draft}/answer-file")
    assert download.status_code == 200
    assert download.data == (folder / "ils-client-interview.anx").read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]
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
    assert again.status_code == 409
    second = open_draft(client)
    for response in (client.get(f"{second}/client"), post(client, f"{second}/import", name="X")):
        assert response.status_code == 409
        text = response.text
        assert "This client already exists" in text
        assert "created 2026-03-02T15:30:05Z from matter 00002-Pritchett" in text
        assert "ils-client-interview.anx" in text and "Open the existing client in ILS" in text
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
    assert "internal error (RuntimeError): this is a bug in mapctl" in response.text
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
        section = page.split("Labels that fell to Party")[1].split("</section>")[0]
        assert "“Dauhgter”" in section and "did you mean daughter?" in section
        assert "Role for Claire Dunphy</label>" in section
        post(client, f"{draft}/role", contact="5003", role="Child")
        assert ["Claire Dunphy", "Dauhgter", "Child (set by hand)"] in rows(client.get(draft).text)
        post(client, f"{draft}/role", contact="5003", role="Party")  # back to Clio's label
        assert ["Claire Dunphy", "Dauhgter", "Party"] in rows(client.get(draft).text)


def test_warnings_are_in_plain_words(app_client: tuple[FlaskClient, Guard, AppConfig]) -> None:
    client, _, _ = app_client
    page = client.get(open_draft(client, matter="9003")).text  # a company is the client
    warnings = page.split('id="warnings"')[1].split("</section>")[0]
    assert "The client Pritchett&#39;s Closets &amp; Blinds is a Company, not a Person" in warnings


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
        assert "Loading matters from Clio: page 2, 200 of 471 matters so far" in page
        job = re.search(r"job=([\w-]+)", page)
        assert job is not None
        progress = f"/search/progress?job={job[1]}"
        waiting = {"done": False, "pages": 1, "matters": 200, "total": 471, "waiting": ""}
        assert client.get(progress).get_json() == waiting
    finally:
        held.release.set()
    for _ in range(200):
        state = client.get(progress).get_json()
        if state["done"]:
            break
        time.sleep(0.02)
    assert state == {"done": True, "pages": 3, "matters": 471, "total": 471, "waiting": ""}
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
