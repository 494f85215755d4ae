"""Live Clio's behaviour (issue 17 items 2-6 and 13), met over real HTTP: the sandbox playing
what integrations saw from live Clio (NOTES 12), and a scripted fake Clio (the sandbox with
answers put in front of it) for answers the sandbox does not give by itself."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from mapctl.engine.clio.client import (
    SEARCH_LIMIT,
    ClioClient,
    SearchPage,
    open_client,
    search_words,
    stub_problems,
)
from mapctl.engine.clio.fields import drop_fields, refused_names
from mapctl.engine.clio.session import Wait, parse_reset, retry_in
from mapctl.engine.errors import ClioError, MapctlError
from mapctl.engine.sandbox.query import Response
from mapctl.engine.sandbox.seed import demo_data, zebra_data
from mapctl.engine.sandbox.server import Sandbox, connect_home

from .conftest import connect_via_cli


class Scripted:
    """A fake Clio over real HTTP: the sandbox, with scripted answers (per path, in order)
    served before it answers itself."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.replies: dict[str, list[Response | Callable[[str], Response]]] = {}
        self._handle = sandbox.handle
        sandbox.handle = self.handle  # type: ignore[method-assign]

    def script(self, path: str, *replies: Response | Callable[[str], Response]) -> None:
        self.replies.setdefault(path, []).extend(replies)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        queue = self.replies.get(urlsplit(target).path)
        if queue and target.startswith("/api/"):
            self.sandbox.requests.append((method, target))
            reply = queue.pop(0)
            return reply(target) if callable(reply) else reply
        return self._handle(method, target, headers, body)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def client_for(
    sandbox: Sandbox, home: Path, sleeps: list[float] | None = None, **kwargs: Any
) -> ClioClient:
    """An in-process client connected to `sandbox` over HTTP; waits go to `sleeps`."""
    env = connect_home(sandbox, home)
    return open_client(home, env, sleep=(sleeps if sleeps is not None else []).append, **kwargs)


def api_targets(sandbox: Sandbox, path: str) -> list[dict[str, str]]:
    return [
        dict(parse_qsl(urlsplit(t).query))
        for m, t in sandbox.requests
        if m == "GET" and urlsplit(t).path == path
    ]


# --- item 2: fields Clio refuses ---------------------------------------------------------------


def test_clio_refusal_wording_is_parsed_and_exactly_those_fields_dropped() -> None:
    assert refused_names("a, b{c} are not valid fields") == ["a", "b{c}"]
    assert refused_names("suffix is not a valid field") == ["suffix"]
    assert refused_names("User is forbidden from taking that action") is None
    text = "id,name,suffix,web_sites{id,primary,address},company{id}"
    assert drop_fields(text, ["suffix", "web_sites{primary}"]) == (
        "id,name,web_sites{id,address},company{id}",
        ["suffix", "web_sites{primary}"],
    )
    assert (
        drop_fields(text, ["company{id}"])[0]
        == "id,name,suffix,web_sites{id,primary,address},company"
    )


def test_refused_fields_are_dropped_retried_once_and_warned(
    run_cli: Any, mapctl_home: Path
) -> None:
    refuse = {"contacts": ["prefix", "web_sites{default_web_site}"], "matters/{id}": ["location"]}
    with Sandbox(refuse_fields=refuse) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        result = run_cli("import", "9002", "--yes", "--format", "json", env=env)
        assert result.exit_code == 0, result.output
        contacts = api_targets(sandbox, "/api/v4/contacts.json")
        assert len(contacts) == 2  # refused once, then asked without them
        assert "prefix" in contacts[0]["fields"] and "prefix" not in contacts[1]["fields"]
        assert "web_sites{id,name,address}" in contacts[1]["fields"]
        shows = api_targets(sandbox, "/api/v4/matters/9002.json")
        assert "location" in shows[0]["fields"] and "location" not in shows[1]["fields"]
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warned == [
        "warning: Clio refused the field location on matters/{id}.json (HTTP 400: location is "
        "not a valid field); mapctl went on without them, so what they hold is left blank (run "
        "`mapctl doctor` to see every field Clio refuses)",
        "warning: Clio refused the fields prefix, web_sites{default_web_site} on contacts.json "
        "(HTTP 400: prefix, web_sites{default_web_site} are not valid fields); mapctl went on "
        "without them, so what they hold is left blank (run `mapctl doctor` to see every field "
        "Clio refuses)",
    ]
    review = json.loads(result.stdout)["review"]["warnings"]  # what the app and client.json hold
    assert [w for w in review if "Clio refused the field" in w] == [w[9:] for w in warned]


def test_doctor_names_every_refused_field_on_list_and_show(run_cli: Any) -> None:
    refuse = {"matters/{id}": ["client_reference"], "contacts": ["initials", "phone_numbers{name}"]}
    with Sandbox(refuse_fields=refuse) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        result = run_cli("doctor", env=env)
    lines = result.stdout.splitlines()
    assert (
        "[ok  ] Clio matters (by display number): Matters (read) granted, every field taken"
        in lines
    )
    assert (
        "[warn] Clio refuses field for matter (by id): client_reference (client_reference is "
        "not a valid field)" in lines
    )
    assert (
        "[warn] Clio refuses fields for contacts: initials, phone_numbers{name} (initials, "
        "phone_numbers{name} are not valid fields)" in lines
    )


# --- item 3: stub records ----------------------------------------------------------------------


def test_stub_records_are_named() -> None:
    fields = (
        "id,name,addresses{id,street,city},custom_field_values{id,field_name,value,custom_field}"
    )
    record = {
        "id": 5001,
        "name": "Jay Pritchett",
        "addresses": [{"id": 1, "etag": '"a"'}, {"id": 2, "street": "1 Main", "city": None}],
        "custom_field_values": [{"id": "text_line-1", "custom_field": {"id": 7}}],
    }
    assert stub_problems(record, fields) == [
        "Clio sent addresses 1 with an id but none of street, city: left blank (unread, not empty)",
        "Clio sent custom_field_values text_line-1 with an id but none of field_name, value: "
        "left blank (unread, not empty)",
    ]
    assert stub_problems({"id": 5001, "etag": '"e"'}, fields) == [
        "Clio sent only its id (none of name, addresses, custom_field_values): its answers are "
        "blank"
    ]
    assert (
        stub_problems({"id": 5, "name": "X", "addresses": [], "custom_field_values": None}, fields)
        == []
    )


def test_stub_addresses_from_clio_warn_naming_contact_and_field(
    sandbox: Sandbox, mapctl_home: Path
) -> None:
    fake = Scripted(sandbox)
    jay = next(c for c in demo_data()["contacts"] if c["id"] == 5001)
    contact = {**jay, "addresses": [{"id": 77, "etag": '"x"'}], "custom_field_values": []}
    fake.script(
        "/api/v4/contacts.json",
        Response(200, {"data": [contact], "meta": {"paging": {}, "records": 1}}),
    )
    client_only = [{"id": 5001, "is_client": True, "relationship_name": "Client"}]
    fake.script(  # a matter with its client only
        "/api/v4/matters/9002/contacts.json",
        Response(200, {"data": client_only, "meta": {"paging": {}}}),
    )
    heard: list[str] = []
    with client_for(sandbox, mapctl_home, warn=heard.append) as client:
        bundle = client.fetch_bundle("9002")
    assert heard == [
        f"contact {contact['name']} ({contact['id']}): Clio sent addresses 77 with an id but "
        "none of name, street, city, province, ...: left blank (unread, not empty)"
    ]
    assert bundle["fetch_warnings"] == heard


# --- item 4: permissions -----------------------------------------------------------------------


def test_a_403_on_custom_fields_warns_and_the_import_goes_on(run_cli: Any) -> None:
    with Sandbox(forbidden=["custom_fields"]) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        result = run_cli("import", "9002", "--yes", "--format", "json", env=env)
        doctor = run_cli("doctor", env=env)
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["review"]["warnings"]
    (refused,) = [w for w in warnings if "custom field definitions" in w]
    assert refused.startswith(
        "Clio refused mapctl the custom field definitions (HTTP 403: the Clio app's Custom "
        "Fields (read) permission is not ticked"
    )
    assert "tick the Custom Fields (read) permission" in refused
    # the values came back stripped to their ids: named, per contact, not silent blanks
    assert any(
        w.startswith("contact Jay Pritchett (5001): Clio sent custom_field_values picklist-500101")
        for w in warnings
    )
    assert (
        "[warn] Clio permission Custom Fields (read): refused for custom fields (HTTP 403); "
        "imports go on without it" in doctor.stdout
    )


def test_a_403_on_contacts_names_the_permission_and_stops(run_cli: Any) -> None:
    with Sandbox(forbidden=["contacts"]) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        result = run_cli("preview", "9002", env=env)
        doctor = run_cli("doctor", env=env)
    assert result.exit_code == 3
    assert "it needs the Clio app's Matters and Contacts (read) permission" in result.stderr
    assert "tick the Matters and Contacts (read) permission, then run `mapctl connect`" in (
        " ".join(result.stderr.split())
    )
    assert doctor.exit_code == 1
    assert (
        "[FAIL] Clio permission Contacts (read): refused for contacts (HTTP 403)" in doctor.stdout
    )


# --- item 5: rate-limit answers ----------------------------------------------------------------


def test_rate_limit_words_and_resets_are_read() -> None:
    assert retry_in("Rate limit of 50 exceeded. Retry in 17 seconds.") == 17.0
    assert retry_in("no number") is None
    now = 1_000_000.0
    assert parse_reset(str(now + 20), now) == now + 20
    assert parse_reset("12", now) == now + 12  # seconds, not a time
    for garbage in ("inf", "-inf", "nan", "soon", "", str(now + 3600), str(now - 5)):
        assert parse_reset(garbage, now) is None


def test_a_200_rate_limit_in_disguise_is_waited_out(sandbox: Sandbox, mapctl_home: Path) -> None:
    fake = Scripted(sandbox)
    text = base64.b64encode(b'{"error":{"type":"RateLimited"}}').decode()
    odd = Response(200, {"metadata": {"encodingDecoded": "text/plain"}, "data": text})
    odd.headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 9)}
    fake.script("/api/v4/matters.json", odd)
    sleeps: list[float] = []
    with client_for(sandbox, mapctl_home, sleeps) as client:
        rows = client.search("pritchett")
    assert len(rows) == 3
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 10  # until X-RateLimit-Reset


def test_the_sandbox_can_answer_rate_limits_the_odd_way(mapctl_home: Path) -> None:
    """The sandbox's odd answer gives no wait but its X-RateLimit-Reset (its minute starting
    now): about 60 s, more than a command waits, so it stops at once saying so."""
    with Sandbox(odd_rate_limits=True) as sandbox:
        sandbox.force_429()
        sleeps: list[float] = []
        with client_for(sandbox, mapctl_home, sleeps) as client, pytest.raises(ClioError) as info:
            client.search("pritchett")
    assert sleeps == [] and info.value.status == 429
    assert "Clio's rate limit is exceeded and Clio asks to wait" in info.value.message


def test_a_429_without_retry_after_waits_what_the_body_says(mapctl_home: Path) -> None:
    with Sandbox(no_retry_after=True) as sandbox:
        sandbox.force_429(retry_after=7)
        sleeps: list[float] = []
        ticks: list[Wait] = []
        with client_for(sandbox, mapctl_home, sleeps, on_wait=ticks.append) as client:
            assert len(client.search("pritchett")) == 3
    assert sleeps == [1.0] * 7  # counted down
    assert [t.message for t in ticks][:2] == [
        "waiting 7 s for Clio's rate limit",
        "waiting 6 s for Clio's rate limit",
    ]
    assert ticks[-1].left == 0


def test_a_429_with_an_inf_reset_and_no_words_waits_briefly(
    sandbox: Sandbox, mapctl_home: Path
) -> None:
    fake = Scripted(sandbox)
    fake.script(
        "/api/v4/matters.json",
        Response(429, {"error": {"type": "RateLimited"}}, {"X-RateLimit-Reset": "inf"}),
    )
    sleeps: list[float] = []
    with client_for(sandbox, mapctl_home, sleeps) as client:
        assert len(client.search("pritchett")) == 3
    assert sleeps == [10.0]


def test_a_storm_of_429s_stops_a_command_at_once_saying_so(run_cli: Any) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.force_429(count=50, retry_after=0)
        started = time.monotonic()
        result = run_cli("search", "pritchett", env=env)
    assert time.monotonic() - started < 10
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "error: Clio answered 'rate limit exceeded' 6 times in a row; mapctl stopped at once "
        "rather than keep asking"
    )


def test_a_long_wait_stops_at_once_and_says_how_long(run_cli: Any) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.force_429(retry_after=3600)
        result = run_cli("search", "pritchett", env=env)
    assert result.exit_code == 3
    assert "Clio asks to wait 3600 s; mapctl stopped at once" in result.stderr
    assert "hint: try again in 3600 s" in result.stderr


# --- item 6: broad searches --------------------------------------------------------------------


@pytest.fixture(scope="module")
def broad() -> Iterator[Sandbox]:
    with Sandbox(zebra_data(2500)) as running:
        yield running


def test_a_broad_search_stops_at_about_1000_and_says_how_many_match(
    run_cli: Any, broad: Sandbox
) -> None:
    env = connect_via_cli(run_cli, broad)
    before = len(broad.requests)
    result = run_cli("search", "zebra", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == SEARCH_LIMIT
    pages = [t for _, t in broad.requests[before:] if "/matters.json" in t]
    assert len(pages) == 5
    assert result.stderr.splitlines()[-1] == (
        "Showing the first 1,000 of 2,500 matters matching 'zebra'. Refine the search (more of "
        "the number or the client's name), or use --limit N or --all."
    )
    limited = run_cli("search", "zebra", "--limit", "250", "--format", "json", env=env)
    assert len(json.loads(limited.stdout)) == 250
    everything = run_cli("search", "zebra", "--all", "--format", "json", env=env)
    assert len(json.loads(everything.stdout)) == 2500
    assert everything.stderr.splitlines()[-1] == "2,500 matters found."
    both = run_cli("search", "zebra", "--all", "--limit", "5", env=env)
    assert both.exit_code == 2


def test_pages_reach_the_caller_as_they_come(broad: Sandbox, mapctl_home: Path) -> None:
    pages: list[SearchPage] = []
    with client_for(broad, mapctl_home) as client:
        result = client.search_matters("zebra", limit=450, on_page=pages.append)
    assert [(p.page, p.fetched, p.total, p.more, len(p.rows)) for p in pages] == [
        (1, 200, 2500, True, 200),
        (2, 400, 2500, True, 200),
        (3, 450, 2500, False, 50),
    ]
    assert result.truncated and result.total == 2500 and len(result.rows) == 450


def test_a_table_off_a_terminal_comes_page_by_page(run_cli: Any, broad: Sandbox) -> None:
    env = connect_via_cli(run_cli, broad)
    result = run_cli("search", "zebra", "--limit", "450", env=env)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ID") and len(lines) == 451
    status = {line.index("Open") for line in lines[1:]}  # one set of columns for every page
    assert len(status) == 1


def test_sorts_clio_can_do_use_its_order(run_cli: Any, broad: Sandbox) -> None:
    env = connect_via_cli(run_cli, broad)
    before = len(broad.requests)
    for sort, order in (
        ("number", "display_number"),
        ("client", "client.name"),
        ("open_date", "open_date"),
    ):
        assert run_cli("search", "closets", "--sort", sort, "--reverse", env=env).exit_code == 0
        asked = dict(parse_qsl(urlsplit(broad.requests[-1][1]).query))
        assert asked["order"] == f"{order}(desc)"
    assert run_cli("search", "closets", "--sort", "status", env=env).exit_code == 0
    assert dict(parse_qsl(urlsplit(broad.requests[-1][1]).query))["order"] == "id(asc)"
    assert len(broad.requests) - before == 4


@pytest.mark.parametrize("query", ["Pritchett, Jay", "Jay Pritchett", "jay   pritchett"])
def test_last_first_and_first_last_find_the_same_matters(
    run_cli: Any, clio_sandbox: Sandbox, query: str
) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    result = run_cli("search", query, "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    assert [m["display_number"] for m in json.loads(result.stdout)] == ["00002-Pritchett"]
    asked = dict(parse_qsl(urlsplit(clio_sandbox.requests[-1][1]).query))
    assert asked["query"].casefold() == "pritchett"  # the longest word; others matched here


def test_search_words() -> None:
    assert search_words("Pritchett, Jay") == ["Pritchett", "Jay"]
    with pytest.raises(MapctlError):
        search_words("a, b")


def test_clio_refusing_a_sort_order_falls_back_to_id(sandbox: Sandbox, mapctl_home: Path) -> None:
    fake = Scripted(sandbox)
    fake.script(
        "/api/v4/matters.json",
        Response(400, {"error": {"type": "InvalidParameter", "message": "order is not valid"}}),
    )
    with client_for(sandbox, mapctl_home) as client:
        rows = client.search("pritchett", sort="number")
    assert [r["display_number"] for r in rows] == sorted(r["display_number"] for r in rows)
    assert dict(parse_qsl(urlsplit(sandbox.requests[-1][1]).query))["order"] == "id(asc)"


# --- item 13: paging that never ends -----------------------------------------------------------


def endless(base: str) -> Callable[[str], Response]:
    """A page of 10 new records with a link to a page never seen before."""

    def reply(target: str) -> Response:
        token = int(dict(parse_qsl(urlsplit(target).query)).get("page_token", "0"))
        data = [{"id": token * 10 + i + 1, "display_number": f"N{token}-{i}"} for i in range(10)]
        nxt = f"{base}/api/v4/matters.json?page_token={token + 1}"
        return Response(200, {"data": data, "meta": {"paging": {"next": nxt}}})

    return reply


def test_a_next_link_that_never_ends_stops_early_saying_so(
    sandbox: Sandbox, mapctl_home: Path
) -> None:
    fake = Scripted(sandbox)
    fake.script("/api/v4/matters.json", *[endless(sandbox.base_url) for _ in range(200)])
    with client_for(sandbox, mapctl_home) as client:
        result = client.search_matters("zebra", limit=None)
        assert result.pages <= 50 and result.truncated
        with pytest.raises(ClioError) as info:
            client._list("matters.json", [("fields", "id")])
    assert info.value.message == (
        "Clio still linked to a next page of matters.json after 50 pages (500 records); "
        "stopped, as it looks like paging that never ends"
    )
    assert len(sandbox.requests) < 130


def test_new_links_to_the_same_records_are_a_cycle(sandbox: Sandbox, mapctl_home: Path) -> None:
    fake = Scripted(sandbox)

    def same(target: str) -> Response:
        token = int(dict(parse_qsl(urlsplit(target).query)).get("page_token", "0"))
        nxt = f"{sandbox.base_url}/api/v4/matters.json?page_token={token + 1}"
        return Response(200, {"data": [{"id": 1}], "meta": {"paging": {"next": nxt}}})

    fake.script("/api/v4/matters.json", *[same for _ in range(10)])
    with client_for(sandbox, mapctl_home) as client, pytest.raises(ClioError) as info:
        client.search("zebra")
    assert info.value.message == (
        "Clio sent page 2 of matters.json with only records it had sent already (its paging "
        "goes round in a circle); stopped"
    )


def test_the_wait_is_counted_down_on_a_terminal_and_said_once_otherwise(
    run_cli: Any, mapctl_home: Path
) -> None:
    from mapctl.cli import AppState

    with Sandbox(no_retry_after=True) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.force_429(retry_after=2)
        plain = run_cli("search", "closets", env=env)
        sandbox.force_429(retry_after=2)
        state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
        terminal = run_cli("search", "closets", state=state)
    assert plain.exit_code == 0 and terminal.exit_code == 0
    assert plain.stderr.splitlines()[0] == "waiting 2 s for Clio's rate limit"
    shown = terminal.stderr.split("\r")
    assert shown[1:3] == ["waiting 2 s for Clio's rate limit", "waiting 1 s for Clio's rate limit"]
    assert shown[3] == " " * len("waiting 1 s for Clio's rate limit")  # cleared after


def test_summaries_say_how_many_and_what_to_do() -> None:
    from mapctl.engine.clio.client import SearchResult

    rows = [{"id": n} for n in range(3)]
    assert SearchResult(rows, 3, 3, False, "x", ["x"], 1000).summary() == "3 matters found."
    assert SearchResult(rows, None, 3, True, "zebra", ["zebra"], 3).summary() == (
        "Showing the first 3 matters matching 'zebra'; Clio has more. Refine the search (more "
        "of the number or the client's name), or use --limit N or --all."
    )
    narrowed = SearchResult(rows, 20000, 1000, True, "Pritchett", ["Jay", "Pritchett"], 1000)
    assert narrowed.summary().startswith(
        "Clio has 20,000 matters matching 'Pritchett'; of the first 1,000, 3 matters match "
        "'Jay Pritchett'."
    )
