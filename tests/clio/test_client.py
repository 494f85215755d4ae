"""The Clio client over httpx.MockTransport: paging, auth, refresh, limits, faults, fetch plan."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.clio.auth import TokenStore
from mapctl.engine.clio.client import ClioClient, open_client
from mapctl.engine.clio.session import API_VERSION, parse_retry_after
from mapctl.engine.errors import ClioError, MapctlError, NotFound
from mapctl.engine.sandbox.seed import demo_data

from tests.clio.conftest import ACCESS, BASE, REFRESH, SECRET, App
from tests.clio.spec_tools import declared_parameters, load_spec
from tests.conftest import POSIX_MODES

MATTERS = "/api/v4/matters.json"
PEOPLE_9002 = "/api/v4/matters/9002/contacts.json"  # the matter's clients and related contacts


def error_text(error: MapctlError) -> str:
    return error.message + (f"\nhint: {error.hint}" if error.hint else "")


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (ACCESS, REFRESH, SECRET, "access-token-SECRET-renewed"):
            assert secret not in text


# --- search and paging --------------------------------------------------------------------


def test_search_follows_every_page_verbatim(client: ClioClient, app: App) -> None:
    rows = client.search("estate")
    assert len(rows) == 471
    assert rows[0] == {
        "id": 9002,
        "display_number": "00002-Pritchett",
        "description": "Estate planning - Jay Pritchett",
        "client_name": "Jay Pritchett",
        "status": "Open",
        "open_date": "2026-03-02",
    }
    sent = app.api_requests()
    assert len(sent) == 3
    first = dict(sent[0].url.params.multi_items())
    assert first == {
        "query": "estate",
        "order": "id(asc)",
        "limit": "200",
        "fields": "id,display_number,description,status,open_date,client{id,name}",
    }
    # httpx 0.28 trap (NOTES 6): later pages keep page_token and every original parameter
    for request in sent[1:]:
        assert "page_token" in request.url.params
        assert request.url.params["query"] == "estate"
    assert sent[1].url.params["page_token"] != sent[2].url.params["page_token"]


def test_search_sorts_the_whole_result(client: ClioClient) -> None:
    rows = client.search("estate", sort="client")
    names = [r["client_name"].casefold() for r in rows]
    assert names == sorted(names) and len(rows) == 471


def test_search_refuses_short_queries_locally(client: ClioClient, app: App) -> None:
    with pytest.raises(MapctlError) as info:
        client.search(" x ")
    assert info.value.message == "the search text must have at least 2 characters"
    assert app.requests == []


def test_a_page_that_repeats_stops_the_listing(client: ClioClient, app: App) -> None:
    loop = {"data": [], "meta": {"paging": {"next": f"{BASE}{MATTERS}?page_token=same"}}}
    app.script(MATTERS, *(httpx.Response(200, json=loop) for _ in range(3)))
    with pytest.raises(ClioError) as info:
        client.search("estate")
    assert error_text(info.value) == (
        "Clio's link to page 3 of matters.json leads back to a page already fetched (its "
        "paging goes round in a circle); stopped\n"
        "hint: try again; if it persists, report it with the command you ran"
    )
    assert len(app.requests) == 2


def test_every_request_sends_auth_version_and_only_declared_parameters(
    client: ClioClient, app: App
) -> None:
    client.search("pritchett")
    client.fetch_bundle("00002-Pritchett")
    client.fetch_bundle("9002")
    client.who_am_i()
    spec = load_spec()
    templates = [
        (re.compile("^/api/v4" + re.sub(r"\{[^}]+\}", r"\\d+", p) + "$"), p) for p in spec["paths"]
    ]
    for request in app.api_requests():
        assert request.headers["Authorization"] == f"Bearer {ACCESS}"
        assert request.headers["X-API-VERSION"] == API_VERSION
        path = next(p for rx, p in templates if rx.match(request.url.path))
        assert set(request.url.params.keys()) <= declared_parameters(spec, path), request.url


def test_fields_constants_have_one_level_of_braces() -> None:
    from mapctl.engine.clio import client as module

    for name in ("SEARCH_FIELDS", "MATTER_FIELDS", "CONTACT_FIELDS", "CUSTOM_FIELD_FIELDS"):
        value = getattr(module, name)
        assert not re.search(r"\{[^}]*\{", value), name


# --- fetch plan ----------------------------------------------------------------------------


def family_with(related: int) -> dict[str, Any]:
    data = demo_data()
    base = next(c for c in data["contacts"] if c["id"] == 5002)
    for i in range(related):
        data["contacts"].append({**base, "id": 70000 + i, "name": f"Relative {i}"})
        data["relationships"].append(
            {
                "id": 90000 + i,
                "description": f"Cousin {i}",
                "matter": {"id": 9001},
                "contact": {"id": 70000 + i},
            }
        )
    return data


@pytest.mark.parametrize(
    "related, requests", [(0, 4), (1, 4), (10, 4), (100, 4), (199, 4), (200, 6), (450, 8)]
)
@pytest.mark.parametrize("matter", ["9001", "00001-Dunphy"])
def test_fetch_takes_at_most_four_requests(
    related: int, requests: int, matter: str, connected_home: Path
) -> None:
    """4 requests (matter, its people, contacts, custom fields) while the matter's people
    (client + related: matters/{id}/contacts.json) and the contacts fit one page of 200; +1
    per further 200 of each. Whether the matter is given by id or by display number."""
    app = App(family_with(related))
    client = open_client(connected_home, {}, transport=httpx.MockTransport(app))
    bundle = client.fetch_bundle(matter)
    assert client.request_count == requests == len(app.requests)
    assert len(bundle["relationships"]) == related
    ids = [c["id"] for c in bundle["contacts"]]
    assert ids == [5003, *(70000 + i for i in range(related))]  # client, then labels' order
    for request in app.requests:
        assert "relationships" not in request.url.params.get("fields", "")


class Rendezvous:
    """A transport that holds the first round's requests until all three have arrived: a
    client that sends them one after another times out here instead of passing."""

    def __init__(self, app: App, paths: set[str]) -> None:
        self.app = app
        self.paths = paths
        self.barrier = threading.Barrier(len(paths), timeout=5)
        self.order: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.order.append(request.url.path)  # on arrival
        if request.url.path in self.paths:
            self.paths.discard(request.url.path)
            self.barrier.wait()
        return self.app(request)


def test_fetch_by_id_sends_matter_people_and_fields_at_once(connected_home: Path) -> None:
    """Two rounds: the matter, its people (clients and related contacts: issue 17) and the
    custom fields together, then the contacts."""
    app = App()
    first = {
        "/api/v4/matters/9002.json",
        "/api/v4/matters/9002/contacts.json",
        "/api/v4/custom_fields.json",
    }
    meeting = Rendezvous(app, set(first))
    client = open_client(connected_home, {}, transport=httpx.MockTransport(meeting))
    bundle = client.fetch_bundle("9002")
    assert set(meeting.order[:3]) == first
    assert meeting.order[3:] == ["/api/v4/contacts.json"]
    assert len(bundle["contacts"]) == 15
    people = next(r for r in app.requests if r.url.path == "/api/v4/matters/9002/contacts.json")
    assert dict(people.url.params) == {
        "fields": "id,is_client,relationship_name,relationship{id,description}",
        "order": "id(asc)",
        "limit": "200",
    }


def test_bundle_shape_for_the_demo_matter(client: ClioClient) -> None:
    bundle = client.fetch_bundle("00002-Pritchett")
    assert list(bundle) == [
        "bundle_version",
        "matter",
        "contacts",
        "relationships",
        "co_clients",
        "custom_fields",
    ]
    assert bundle["co_clients"] == []  # Jay Pritchett is the matter's only client
    assert bundle["bundle_version"] == 1
    assert bundle["matter"]["client"]["id"] == bundle["contacts"][0]["id"] == 5001
    assert "relationships" not in bundle["matter"]
    assert bundle["relationships"][0] == {
        "id": 8001,
        "description": "Wife",
        "contact": {"id": 5002},
    }
    rel_ids = [r["contact"]["id"] for r in bundle["relationships"]]
    assert [c["id"] for c in bundle["contacts"][1:]] == rel_ids
    gender = bundle["contacts"][0]["custom_field_values"][0]
    assert gender["value"] == "81001" and gender["picklist_option"]["id"] == 81001
    assert {f["id"] for f in bundle["custom_fields"]} >= set(range(71001, 71016))


def test_fetch_by_id_and_by_display_number_agree(client: ClioClient, app: App) -> None:
    by_number = client.fetch_bundle("00002-Pritchett")
    by_id = client.fetch_bundle("9002")
    assert by_number == by_id
    assert client.fetch_bundle("00002-pritchett") == by_id  # case does not matter


def test_fetch_unknown_matter(client: ClioClient) -> None:
    with pytest.raises(NotFound) as info:
        client.fetch_bundle("99999")
    assert error_text(info.value) == (
        "Clio has no matter with id or display number '99999'\n"
        "hint: find it with: mapctl search '99999'"
    )
    with pytest.raises(NotFound) as info:
        client.fetch_bundle("00099-Nobody")
    assert info.value.message == "Clio has no matter with display number '00099-Nobody'"
    assert info.value.exit_code == 3


@pytest.mark.parametrize("text", ["²", "١٢", str(2**63), "9" * 40])
def test_digits_that_are_no_clio_id_are_display_numbers(
    client: ClioClient, app: App, text: str
) -> None:
    """Python's isdigit() takes "²" (int() does not) and 2**63 is past Clio's int64 ids: both
    are looked up as display numbers, never sent as /matters/<id>.json."""
    with pytest.raises(NotFound):
        client.fetch_bundle(text)
    assert [r.url.path for r in app.requests if r.url.path.startswith(MATTERS[:-5])] == [MATTERS]


def test_custom_fields_are_cached_in_mapctl_home(connected_home: Path, app: App) -> None:
    clock = [1000.0]

    def make() -> ClioClient:
        return open_client(
            connected_home, {}, transport=httpx.MockTransport(app), clock=lambda: clock[0]
        )

    make().fetch_bundle("9002")
    second = make()
    second.fetch_bundle("9002")
    assert second.request_count == 3  # no custom_fields request
    clock[0] += 601
    third = make()
    third.fetch_bundle("9002")
    assert third.request_count == 4
    assert [r.url.path for r in app.requests].count("/api/v4/custom_fields.json") == 2


# --- auth ------------------------------------------------------------------------------------


def test_not_connected(mapctl_home: Path) -> None:
    with pytest.raises(ClioError) as info:
        open_client(mapctl_home, {})
    assert error_text(info.value) == "not connected to Clio\nhint: run `mapctl connect` first"


def test_connected_elsewhere(connected_home: Path) -> None:
    with pytest.raises(ClioError) as info:
        open_client(connected_home, {}, region="eu")
    assert info.value.message == (
        "mapctl is connected to https://app.clio.com, not https://eu.app.clio.com"
    )


def test_401_object_shape_means_not_connected(client: ClioClient, app: App) -> None:
    body = {"error": {"type": "UnauthorizedError", "message": "User is not authorized"}}
    app.script(MATTERS, httpx.Response(401, json=body))
    with pytest.raises(ClioError) as info:
        client.search("estate")
    assert error_text(info.value) == (
        "not connected to Clio (Clio says the request is not authorized)\n"
        "hint: run `mapctl connect` to connect mapctl to Clio again"
    )
    assert len(app.requests) == 1  # no refresh for this shape


def test_401_invalid_token_refreshes_once_and_retries(
    client: ClioClient, app: App, connected_home: Path
) -> None:
    app.valid_tokens = set()
    rows = client.search("pritchett")
    assert len(rows) == 3
    paths = [r.url.path for r in app.requests]
    assert paths == [MATTERS, "/oauth/token", MATTERS]
    form = dict(httpx.QueryParams(app.requests[1].content.decode()))
    assert form == {
        "client_id": "app-key",
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
    }
    stored = TokenStore(connected_home).load()
    assert stored is not None and stored.access_token == "access-token-SECRET-renewed"
    assert stored.refresh_token == REFRESH  # the response had none: the old one is kept
    assert not POSIX_MODES or (connected_home / "clio-token.json").stat().st_mode & 0o777 == 0o600


def test_401_after_refresh_gives_up(client: ClioClient, app: App) -> None:
    app.valid_tokens = set()
    app.token_replies.append(
        httpx.Response(200, json={"access_token": "still-bad", "expires_in": 3600})
    )
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert error_text(info.value) == (
        "Clio rejected mapctl's access token (expired or revoked)\n"
        "hint: run `mapctl connect` to connect mapctl to Clio again"
    )
    assert len(app.requests) == 3


def test_failed_refresh_says_connect_again(client: ClioClient, app: App) -> None:
    app.valid_tokens = set()
    app.token_replies.append(httpx.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    text = error_text(info.value)
    assert text == (
        "Clio refused to refresh the access token (invalid_grant)\n"
        "hint: run `mapctl connect` to connect mapctl to Clio again"
    )
    assert info.value.exit_code == 3
    assert_no_secrets(text, repr(info.value), str(info.value.__dict__))


def test_token_is_refreshed_before_it_expires(connected_home: Path, app: App) -> None:
    store = TokenStore(connected_home)
    tokens = store.load()
    assert tokens is not None
    tokens.expires_at = time.time() + 60  # inside the 5-minute margin
    store.save(tokens)
    client = open_client(connected_home, {}, transport=httpx.MockTransport(app))
    client.who_am_i()
    assert [r.url.path for r in app.requests] == ["/oauth/token", "/api/v4/users/who_am_i.json"]


def test_reprs_hide_secrets(connected_home: Path) -> None:
    tokens = TokenStore(connected_home).load()
    assert_no_secrets(repr(tokens))


# --- errors and faults -----------------------------------------------------------------------


def test_403_names_the_permission(client: ClioClient, app: App) -> None:
    body = {"error": {"type": "Forbidden", "message": "User is forbidden from taking that action"}}
    app.script("/api/v4/contacts.json", httpx.Response(403, json=body))
    with pytest.raises(ClioError) as info:
        client.fetch_bundle("9002")
    assert error_text(info.value) == (
        "Clio refused access to contacts (HTTP 403: User is forbidden from taking that "
        "action); it needs the Clio app's Contacts (read) permission\n"
        "hint: in developers.clio.com, open mapctl's app and tick the Contacts (read) "
        "permission, then run `mapctl connect` again (Clio applies a changed permission only "
        "when the app is authorized again); if it is ticked, the Clio user's role may not allow "
        "it: ask a Clio administrator"
    )


@pytest.mark.parametrize(
    "body, shown",
    [
        (
            {"error": {"type": "InvalidFields", "message": "foo is not a valid field"}},
            "foo is not a valid field",
        ),
        ({"error": "invalid_request", "error_description": "Bad things"}, "Bad things"),
        ({"error": "invalid_request"}, "invalid_request"),
    ],
)
def test_400_shows_clios_message(client: ClioClient, app: App, body: Any, shown: str) -> None:
    app.script(MATTERS, httpx.Response(400, json=body))
    with pytest.raises(ClioError) as info:
        client.search("estate")
    assert info.value.message == (
        f"Clio rejected the request to {BASE}{MATTERS} (HTTP 400): {shown}"
    )


def test_429_waits_retry_after_then_succeeds(
    client: ClioClient, app: App, sleeps: list[float]
) -> None:
    app.script(
        MATTERS,
        httpx.Response(
            429,
            headers={"Retry-After": "7"},
            json={"error": {"message": "Rate limit of 50 exceeded."}},
        ),
    )
    assert len(client.search("pritchett")) == 3
    assert sleeps == [7.0]


def test_429_with_an_http_date(client: ClioClient, app: App, sleeps: list[float]) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    app.script(MATTERS, httpx.Response(429, headers={"Retry-After": when}))
    client.search("pritchett")
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30


def test_rate_limit_waits_are_bounded(client: ClioClient, app: App, sleeps: list[float]) -> None:
    app.script(MATTERS, *(httpx.Response(429, headers={"Retry-After": "25"}) for _ in range(5)))
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert sleeps == [25.0]  # a second 25 s would pass the 45 s a command may wait
    assert error_text(info.value) == (
        "Clio's rate limit is exceeded and Clio asks to wait 25 s; mapctl stopped after "
        "waiting 25 s rather than wait that long (it waits 45 s at most per command)\n"
        "hint: try again in 25 s"
    )


def test_a_retry_after_longer_than_the_budget_says_how_long(
    client: ClioClient, app: App, sleeps: list[float]
) -> None:
    app.script(MATTERS, httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert sleeps == []
    assert error_text(info.value) == (
        "Clio's rate limit is exceeded and Clio asks to wait 3600 s; mapctl stopped at once "
        "rather than wait that long (it waits 45 s at most per command)\n"
        "hint: try again in 3600 s"
    )


def test_long_waits_are_announced(
    make_client: Callable[..., ClioClient], app: App, sleeps: list[float]
) -> None:
    heard: list[str] = []
    client = make_client(notice=heard.append)
    app.script(
        MATTERS,
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(429, headers={"Retry-After": "12"}),
    )
    assert len(client.search("pritchett")) == 3
    assert sleeps == [0.0, 12.0]
    assert heard == ["waiting 12 s for Clio's rate limit"]


def test_low_remaining_sleeps_until_reset(
    client: ClioClient, app: App, sleeps: list[float]
) -> None:
    reset = int(time.time()) + 20
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    app.script(
        MATTERS,
        httpx.Response(
            200,
            json={"data": [], "meta": {"paging": {"next": f"{BASE}{MATTERS}?page_token=abc"}}},
            headers=headers,
        ),
    )
    app.script(MATTERS, httpx.Response(200, json={"data": [], "meta": {"paging": {}}}))
    client.search("pritchett")
    assert len(sleeps) == 1 and 15 <= sleeps[0] <= 20


def test_a_far_reset_only_slows_down_never_fails(
    client: ClioClient, app: App, sleeps: list[float]
) -> None:
    """X-RateLimit-Reset an hour away (a skewed clock), `inf` or garbage: nothing worth waiting
    for (issue 17 item 5: it stalled a command for a minute); a real 429 would decide."""
    for reset in (str(int(time.time()) + 3600), "inf", "NaN", "soon", "-5"):
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        page = {"data": [], "meta": {"paging": {"next": f"{BASE}{MATTERS}?page_token=abc"}}}
        app.script(MATTERS, httpx.Response(200, json=page, headers=headers))
        app.script(MATTERS, httpx.Response(200, json={"data": [], "meta": {"paging": {}}}))
        assert client.search("pritchett") == []
    assert sleeps == []


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("12", 12.0),
        ("0", 0.0),
        ("nan", 10.0),
        ("NaN", 10.0),
        ("soon", 10.0),
        (None, 10.0),
        ("", 10.0),
        ("-5", 0.0),
        ("inf", 10.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float) -> None:
    assert parse_retry_after(value, now=time.time()) == seconds


def test_500_then_success(client: ClioClient, app: App, sleeps: list[float]) -> None:
    app.script(MATTERS, httpx.Response(500), httpx.Response(503))
    assert len(client.search("pritchett")) == 3
    assert sleeps == [0.5, 1.0]


def test_500_three_times_gives_up(client: ClioClient, app: App) -> None:
    app.script(MATTERS, *(httpx.Response(502) for _ in range(3)))
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert error_text(info.value) == (
        "Clio failed with HTTP 502 3 times in a row\n"
        "hint: Clio may be having trouble: try again in a few minutes"
    )


def test_timeout_then_success(client: ClioClient, app: App, sleeps: list[float]) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    app.script(MATTERS, timeout)
    assert len(client.search("pritchett")) == 3
    assert sleeps == [0.5]


def test_timeouts_and_connection_errors_give_one_line(client: ClioClient, app: App) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    app.script(MATTERS, timeout, timeout, timeout)
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert error_text(info.value) == (
        "Clio at app.clio.com did not answer in time (3 tries)\n"
        "hint: check the network connection and CLIO_BASE_URL, then try again"
    )

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    app.script(MATTERS, refused, refused, refused)
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert info.value.message == "could not reach Clio at app.clio.com (ConnectError, 3 tries)"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"records": []}),
    ],
)
def test_malformed_body(client: ClioClient, app: App, response: httpx.Response) -> None:
    app.script(MATTERS, response)
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert info.value.message == (
        f"Clio sent a response mapctl cannot read from {BASE}{MATTERS} "
        "(HTTP 200, expected JSON with `data`)"
    )


def test_custom_field_cache_file_is_private(client: ClioClient, connected_home: Path) -> None:
    client.fetch_bundle("9002")
    (cache,) = (connected_home / "cache").iterdir()
    assert not POSIX_MODES or cache.stat().st_mode & 0o777 == 0o600
    assert json.loads(cache.read_text())["custom_fields"][0]["id"] == 71001


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.Response(
            400,
            json={"error": {"type": "InvalidFields", "message": "contact is not a valid field"}},
        ),
        httpx.Response(400, json={"message": "Bad Request"}),
        httpx.Response(400, text="Bad Request"),
        httpx.Response(400, json={"error": "bad_request"}),
    ],
    ids=["clio-error", "top-level-message", "plain-text", "string-error"],
)
def test_the_roster_falls_back_on_any_400(
    client: ClioClient, app: App, refusal: httpx.Response
) -> None:
    """Should Clio refuse `contact{id}`, whatever the 400 says, the bare `contact` (its default
    fields, the id among them) is asked for once more. (The roster is read from
    relationships.json when Clio refuses the matter's contact list.)"""
    app.script(PEOPLE_9002, httpx.Response(403, json={"error": {"message": "Forbidden"}}))
    app.script("/api/v4/relationships.json", refusal)
    bundle = client.fetch_bundle("9002")
    asked = [
        r.url.params["fields"] for r in app.requests if r.url.path == "/api/v4/relationships.json"
    ]
    assert asked == ["id,description,contact{id}", "id,description,contact"]
    assert len(app.requests) == 6
    assert bundle["relationships"][0] == {
        "id": 8001,
        "description": "Wife",
        "contact": {"id": 5002},
    }
    assert len(bundle["contacts"]) == 15


def test_a_roster_refused_twice_is_reported(client: ClioClient, app: App) -> None:
    app.script(PEOPLE_9002, httpx.Response(404, json={"error": {"message": "Not found"}}))
    app.script(
        "/api/v4/relationships.json",
        httpx.Response(400, text="Bad Request"),
        httpx.Response(400, json={"message": "matter_id is not valid"}),
    )
    with pytest.raises(ClioError) as info:
        client.fetch_bundle("9002")
    assert info.value.message == (
        f"Clio rejected the request to {BASE}/api/v4/relationships.json (HTTP 400): "
        "matter_id is not valid"
    )


def test_other_400s_are_not_retried(client: ClioClient, app: App) -> None:
    app.script("/api/v4/matters/9002.json", httpx.Response(400, json={"error": "bad_request"}))
    with pytest.raises(ClioError):
        client.fetch_bundle("9002")
    paths = [r.url.path for r in app.requests]
    assert paths.count("/api/v4/matters/9002.json") == 1
    assert paths.count(PEOPLE_9002) == 1


def test_a_retired_api_version_says_upgrade(client: ClioClient, app: App) -> None:
    app.script(MATTERS, httpx.Response(410, json={"error": {"type": "Gone", "message": "x"}}))
    with pytest.raises(ClioError) as info:
        client.search("estate")
    assert error_text(info.value) == (
        "Clio no longer serves the API version this mapctl speaks (4.0.13); upgrade mapctl\n"
        "hint: install a newer version of mapctl, then run the command again"
    )
    assert info.value.exit_code == 3 and len(app.requests) == 1


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/api/v4/matters.json?page_token=abc",
        "https://app.clio.com:8443/api/v4/matters.json?page_token=abc",
        "http://app.clio.com/api/v4/matters.json?page_token=abc",
        "https://app.clio.com.evil.example/api/v4/matters.json?page_token=abc",
        "//evil.example/api/v4/matters.json",
    ],
)
def test_a_next_link_to_another_host_gets_no_token(
    client: ClioClient, app: App, elsewhere: str
) -> None:
    page = {"data": [], "meta": {"paging": {"next": elsewhere}}}
    app.script(MATTERS, httpx.Response(200, json=page))
    with pytest.raises(ClioError) as info:
        client.search("estate")
    assert len(app.requests) == 1  # the first page only: nothing went to the other host
    assert info.value.message.startswith("Clio's link to the next page of matters.json points to ")
    assert info.value.message.endswith(
        ", not to https://app.clio.com; stopped (mapctl sends the Clio access token only to the "
        "host it was issued for)"
    )
    assert info.value.exit_code == 3


def test_the_session_sends_the_token_to_its_own_host_only(client: ClioClient, app: App) -> None:
    with pytest.raises(ClioError) as info:
        client.session.get("https://evil.example/api/v4/matters.json")
    assert info.value.message == (
        "mapctl sends the Clio access token only to https://app.clio.com, not to "
        "https://evil.example; stopped"
    )
    assert app.requests == []
    assert client.session.get("https://APP.clio.com:443/api/v4/users/who_am_i.json")["data"]


def test_endless_429_with_zero_retry_after_stops(
    client: ClioClient, app: App, sleeps: list[float]
) -> None:
    app.script(MATTERS, *(httpx.Response(429, headers={"Retry-After": "0"}) for _ in range(20)))
    with pytest.raises(ClioError) as info:
        client.search("pritchett")
    assert info.value.message == (
        "Clio answered 'rate limit exceeded' 6 times in a row; mapctl stopped at once rather "
        "than keep asking"
    )
    assert info.value.exit_code == 3
    assert len(app.requests) == 6 and sleeps == [0.0] * 5


# --- co-clients (issue 17: Clio's multi-client matters) -------------------------------------


def test_co_clients_come_from_the_matters_contact_list(connected_home: Path) -> None:
    """00005-Dunphy: Phil Dunphy the default client, Claire Dunphy a co-client (listed by
    matters/9005/contacts.json with is_client, never by /relationships.json): two rounds, four
    requests; co-clients' records are fetched with the related contacts'."""
    app = App()
    first = {
        "/api/v4/matters/9005.json",
        "/api/v4/matters/9005/contacts.json",
        "/api/v4/custom_fields.json",
    }
    meeting = Rendezvous(app, set(first))
    client = open_client(connected_home, {}, transport=httpx.MockTransport(meeting))
    bundle = client.fetch_bundle("9005")
    assert set(meeting.order[:3]) == first
    assert meeting.order[3:] == ["/api/v4/contacts.json"]
    assert client.request_count == 4 and client.warnings == []
    assert bundle["matter"]["client"]["id"] == 5011
    assert bundle["co_clients"] == [{"id": 5003}]
    assert [c["id"] for c in bundle["contacts"]] == [5011, 5003, 5007, 5008, 5009]
    assert bundle["relationships"] == [
        {"id": 8060, "description": "Daughter", "contact": {"id": 5007}},
        {"id": 8061, "description": "Daughter", "contact": {"id": 5008}},
        {"id": 8062, "description": "Son", "contact": {"id": 5009}},
    ]
    contacts = next(r for r in app.requests if r.url.path == "/api/v4/contacts.json")
    assert contacts.url.params.get_list("ids[]") == ["5011", "5003", "5007", "5008", "5009"]


def test_a_contact_list_without_the_default_client_is_not_trusted(
    client: ClioClient, app: App
) -> None:
    """Rows whose ids are not contact ids (the document calls `id` the MatterContacts' own):
    the default client is not among the clients, so the roster comes from relationships.json,
    without co-clients, and a warning says why."""
    rows = [{"id": 1, "is_client": True, "relationship_name": "Client", "relationship": None}]
    app.script("/api/v4/matters/9005/contacts.json", httpx.Response(200, json={"data": rows}))
    heard: list[str] = []
    client.warn = heard.append
    bundle = client.fetch_bundle("9005")
    assert "co_clients" not in bundle
    assert [c["id"] for c in bundle["contacts"]] == [5011, 5007, 5008, 5009]
    assert (
        heard
        == client.warnings
        == [
            "Clio's list of the matter's clients (matters/9005/contacts.json) lacks its client: only "
            "the default client comes across, without co-clients (the matter's other clients); "
            "related contacts are read from relationships.json"
        ]
    )
    assert [r.url.path for r in app.requests].count("/api/v4/relationships.json") == 1


def test_other_failures_of_the_contact_list_are_not_hidden(client: ClioClient, app: App) -> None:
    """Only a refusal (400, 403, 404) falls back; a 401 that survives a refresh, or a 5xx after
    retries, is Clio failing: exit 3 as for any other request."""
    app.script(
        "/api/v4/matters/9005/contacts.json",
        *(httpx.Response(503, text="unavailable") for _ in range(5)),
    )
    with pytest.raises(ClioError) as info:
        client.fetch_bundle("9005")
    assert info.value.status == 503


def test_split_matter_contacts_reads_each_row() -> None:
    from mapctl.engine.clio.client import split_matter_contacts

    rows: list[dict[str, Any]] = [
        {"id": 7, "is_client": False, "relationship_name": "Wife", "relationship": None},
        {"id": 8, "is_client": False, "relationship": {"id": 80, "description": "Son"}},
        {"id": 5, "is_client": True, "relationship_name": "Client"},
        {"id": 6, "is_client": True},
        {"id": 5, "is_client": True},
    ]
    assert split_matter_contacts(rows) == (
        [
            {"id": None, "description": "Wife", "contact": {"id": 7}},
            {"id": 80, "description": "Son", "contact": {"id": 8}},
        ],
        [5, 6],
    )
