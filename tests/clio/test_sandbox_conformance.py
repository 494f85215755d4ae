"""What a third-party conformance tester (Schemathesis, `make conformance`) found in the sandbox,
and the rest of issue 9's sandbox items, as fast regular tests: the routes against the document
(parameters, orders, methods), documented filters, offset paging, 304s, JSON errors for every
method, bad input refused with 400, a contact with id 0, a --data file nested too deep, the
registered redirect URIs, a retired API version, and next links that point elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.sandbox.api import ROUTES, Api, Store
from mapctl.engine.sandbox.query import PARAM_TYPES, PARAMS
from mapctl.engine.sandbox.seed import demo_data, matter
from mapctl.engine.sandbox.server import APP_KEY, Sandbox, load_data_file

from tests.clio.conftest import connect_via_cli, sandbox_env
from tests.clio.spec_tools import load_spec

SPEC = load_spec()
CLIO = "/api/v4"


def spec_path(pattern: str) -> str:
    return "/" + pattern + ".json"


def api(data: dict[str, Any] | None = None) -> Api:
    return Api(Store(data if data is not None else demo_data()), "http://sandbox")


def get(target: Api, path: str, *query: tuple[str, str], **headers: str) -> Any:
    response = target.handle(CLIO + path, list(query), "GET", headers)
    return response


def ids(response: Any) -> list[int]:
    assert response.status == 200, response.body
    return [r["id"] for r in response.body["data"]]


# --- the route table against the document ----------------------------------------------------


def test_routes_are_the_documents_operations_with_its_parameters() -> None:
    """Every documented operation has a route (writes answer 403), and each route takes the
    query parameters the document declares for it (plus `offset`, from the Paging doc)."""
    documented = {
        (method.upper(), path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in ("get", "post", "patch", "delete")
    }
    served = {(r.method, spec_path(r.pattern)) for r in ROUTES}
    assert served == documented
    for route in ROUTES:
        operation = SPEC["paths"][spec_path(route.pattern)][route.method.lower()]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(route.params) - {"offset"} == declared, route
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                schema = parameter["schema"]
                kind = PARAM_TYPES[PARAMS[parameter["name"]]]
                assert kind == (schema["type"], schema.get("format")), parameter["name"]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.orders], ids=lambda r: r.pattern)
def test_every_documented_order_is_served(route: Any) -> None:
    """The 400s Schemathesis met for documented matter sort orders, and the 500 for
    `display_order(asc)` (a display order of 0 compared with text)."""
    operation = SPEC["paths"][spec_path(route.pattern)]["get"]
    enum = next(p for p in operation["parameters"] if p["name"] == "order")["schema"]["enum"]
    assert sorted({e.split("(")[0] for e in enum}) == sorted(route.orders)
    target = api()
    path = "/" + route.pattern.replace("{matter_id}", "9002") + ".json"
    required = [("type", "Matter")] if route.pattern == "notes" else []  # the document's
    for value in enum:
        response = get(target, path, ("order", value), ("fields", "id"), *required)
        assert response.status == 200, (value, response.body)
    refused = get(target, path, ("order", "nickname(asc)"), *required)
    assert refused.status == 400 and refused.body["error"]["type"] == "InvalidParameter"


def test_display_order_zero_sorts_with_the_others() -> None:
    data = demo_data()
    for position, field in enumerate(data["custom_fields"]):
        field["display_order"] = position  # the first one is 0
    found = ids(get(api(data), "/custom_fields.json", ("order", "display_order(desc)")))
    assert found == [f["id"] for f in reversed(data["custom_fields"])]


# --- documented filters ------------------------------------------------------------------------


def firm() -> dict[str, Any]:
    data = demo_data()
    data["matters"] = [
        {**matter(1, 1, "A", "one", 5001, "Open", "2019-05-01"), "billable": False},
        {
            **matter(2, 2, "B", "two", 5001, "Open", "2020-06-15"),
            "updated_at": "2026-02-01T00:00:00Z",
        },
        matter(3, 3, "C", "three", 5003, "Closed", "2021-12-31"),
    ]
    data["relationships"] = []
    return data


@pytest.mark.parametrize(
    "query, expected",
    [
        ([("billable", "false")], [1]),
        ([("billable", "true")], [2, 3]),
        ([("open_date[]", ">=2020-01-01"), ("open_date[]", "<=2021-12-31")], [2, 3]),
        ([("open_date[]", "2019-05-01")], [1]),
        ([("open_date[]", "<2020-06-15")], [1]),
        ([("close_date[]", ">2026-01-01")], [3]),
        ([("updated_since", "2026-01-10T00:00:00Z")], [2]),
        ([("created_since", "2030-01-01T00:00:00+00:00")], []),
        ([("client_id", "5003")], [3]),
        ([("practice_area_id", "401")], [1, 2, 3]),
        ([("practice_area_id", "402")], []),
        ([("responsible_attorney_id", "null")], [1, 2, 3]),
        ([("status", "open,closed"), ("order", "open_date(desc)")], [3, 2, 1]),
    ],
)
def test_documented_matter_filters(query: list[tuple[str, str]], expected: list[int]) -> None:
    assert ids(get(api(firm()), "/matters.json", *query)) == expected


def test_custom_field_value_filters() -> None:
    """`custom_field_values[<id>]`: = for picklists and text, = < > <= >= for numbers."""
    target = api()
    gender = ids(get(target, "/contacts.json", ("custom_field_values[71001]", "81001")))
    assert gender and all(
        any(v["value"] == "81001" for v in target.store.contacts[i]["custom_field_values"])
        for i in gender
    )
    numeric = next(f for f in demo_data()["custom_fields"] if f["field_type"] == "numeric")
    key = f"custom_field_values[{numeric['id']}]"
    some = ids(get(target, "/contacts.json", (key, ">=1")))
    assert some and ids(get(target, "/contacts.json", (key, "[>=1, <1]"))) == []
    assert get(target, "/contacts.json", (key, ">=many")).status == 400
    assert get(target, "/contacts.json", ("custom_field_values", "AAA")).status == 400


def test_offset_paging() -> None:
    target = api()
    first = get(target, "/matters.json", ("query", "estate"), ("limit", "200"), ("offset", "0"))
    following = httpx.URL(first.body["meta"]["paging"]["next"])
    assert following.params["offset"] == "200" and "page_token" not in following.params
    second = get(target, "/matters.json", *following.params.multi_items())
    assert len(ids(second)) == 200 and set(ids(first)).isdisjoint(ids(second))
    assert ids(first) + ids(second) == sorted(ids(first) + ids(second))
    beyond = get(target, "/matters.json", ("offset", "9900"), ("limit", "200"))
    assert (beyond.status, beyond.body["error"]["type"]) == (422, "ArgumentError")


@pytest.mark.parametrize(
    "path, query",
    [
        ("/matters.json", ("client_id", "abc")),
        ("/matters.json", ("client_id", "9223372036854775808")),
        ("/matters.json", ("ids[]", "1.5")),
        ("/matters.json", ("billable", "yes")),
        ("/matters.json", ("updated_since", "yesterday")),
        ("/matters.json", ("open_date[]", ">=DATE")),
        ("/relationships.json", ("matter_id", "")),
        ("/contacts.json", ("type", "Robot")),
        ("/contacts.json", ("initial", "ab")),
        ("/custom_fields.json", ("field_type", "colour")),
        ("/contacts/5001.json", ("custom_field_ids[]", "x")),
        ("/custom_fields.json", ("field_type", "")),
        ("/custom_fields.json", ("parent_type", "")),
        ("/custom_fields.json", ("order", "")),
        ("/contacts.json", ("type", "")),
        ("/matters.json", ("status", "")),
    ],
)
def test_bad_values_are_400_not_404(path: str, query: tuple[str, str]) -> None:
    response = get(api(), path, query)
    assert response.status == 400, response.body
    assert response.body["error"]["type"] == "InvalidParameter"


@pytest.mark.parametrize(
    "path",
    ["/matters/abc.json", "/contacts/9223372036854775808.json", "/matters/1.5/contacts.json"],
)
def test_a_path_id_that_is_no_int64_is_400(path: str) -> None:
    response = get(api(), path)
    assert (response.status, response.body["error"]["type"]) == (400, "InvalidParameter")


def test_lists_of_an_unknown_matter_are_empty() -> None:
    """The document gives these lists 200, 400, 401, 403 and 429: no 404."""
    for path in ("/matters/424242/contacts.json", "/matters/424242/related_contacts.json"):
        response = get(api(), path)
        assert (response.status, response.body["data"]) == (200, []), path
    assert get(api(), "/matters/424242.json").status == 404
    related = get(api(), "/matters/9002/related_contacts.json").body["data"]
    assert set(related[0]) == {"id"}  # no `fields`: id and etag, but RelatedContacts has no etag


def test_parameters_the_path_does_not_declare_are_ignored() -> None:
    """As Clio ignores them (NOTES 1): `client_id` is no parameter of a matter's show path."""
    response = get(api(), "/matters/9002.json", ("q", "x"), ("client_id", "abc"))
    assert response.status == 200


# --- conditional GETs --------------------------------------------------------------------------


def test_304_for_if_none_match_and_if_modified_since() -> None:
    target = api()
    plain = get(target, "/matters/9002.json")
    tag = plain.headers["ETag"]
    assert tag == target.store.matters[9002]["etag"]
    for headers, status in (
        ({"if-none-match": tag}, 304),
        ({"if-none-match": f'"other", W/{tag}'}, 304),
        ({"if-none-match": "*"}, 304),
        ({"if-none-match": '"other"'}, 200),
        ({"if-modified-since": "2030-01-01"}, 304),
        ({"if-modified-since": "Tue, 01 Jan 2030 00:00:00 GMT"}, 304),
        ({"if-modified-since": "2020-01-01"}, 200),
        ({"if-none-match": '"other"', "if-modified-since": "2030-01-01"}, 200),
        ({"if-modified-since": "soon"}, 400),
    ):
        assert get(target, "/matters/9002.json", **headers).status == status, headers


def test_304_over_http_has_no_body(clio_sandbox: Sandbox) -> None:
    token = str(clio_sandbox.issue_tokens()["access_token"])
    auth = {"Authorization": f"Bearer {token}"}
    first = httpx.get(clio_sandbox.base_url + "/api/v4/contacts/5001.json", headers=auth)
    again = httpx.get(
        clio_sandbox.base_url + "/api/v4/contacts/5001.json",
        headers={**auth, "If-None-Match": first.headers["ETag"]},
    )
    assert (again.status_code, again.content) == (304, b"")


# --- every method gets Clio's JSON -------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, status, allow",
    [
        ("PATCH", "/api/v4/matters/9002.json", 403, None),
        ("DELETE", "/api/v4/contacts/5001.json", 403, None),
        ("POST", "/api/v4/custom_fields.json", 400, None),  # served: `data` is empty
        ("POST", "/api/v4/contacts.json", 403, None),
        ("TRACE", "/api/v4/matters.json", 405, "GET, POST"),
        ("PUT", "/api/v4/matters/9002.json", 405, "DELETE, GET, PATCH"),
        ("PATCH", "/api/v4/users/who_am_i.json", 405, "GET"),
        ("OPTIONS", "/api/v4/relationships.json", 405, "GET, POST"),
    ],
)
def test_other_methods_answer_json(
    clio_sandbox: Sandbox, method: str, path: str, status: int, allow: str | None
) -> None:
    token = str(clio_sandbox.issue_tokens()["access_token"])
    response = httpx.request(
        method,
        clio_sandbox.base_url + path,
        headers={"Authorization": f"Bearer {token}"},
        json={"data": {}},
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(response.json()["error"]) == {"type", "message"}
    assert response.headers.get("Allow") == allow


@pytest.mark.parametrize(
    "method, version, status",
    [("TRACE", "0", 405), ("GET", "", 410), ("GET", "4.0.99", 410), ("GET", "4.0.4", 200)],
)
def test_versions_and_methods(
    clio_sandbox: Sandbox, method: str, version: str, status: int
) -> None:
    """A method the path does not take is a 405 whatever the version; a present but empty
    or unknown X-API-VERSION is a 410 (the document's "Minor Versions")."""
    token = str(clio_sandbox.issue_tokens()["access_token"])
    response = httpx.request(
        method,
        clio_sandbox.base_url + "/api/v4/users/who_am_i.json",
        headers={"Authorization": f"Bearer {token}", "X-API-VERSION": version},
    )
    assert response.status_code == status


def raw_exchange(sandbox: Sandbox, *requests: bytes) -> list[bytes]:
    """Each request's status line, over one connection."""
    import socket

    host, port = sandbox.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        lines = []
        reader = sock.makefile("rb")
        for request in requests:
            sock.sendall(request)
            lines.append(reader.readline())
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = reader.read(length)
            lines.append(body)
        return lines


def test_a_chunked_body_does_not_spill_into_the_next_request(clio_sandbox: Sandbox) -> None:
    token = str(clio_sandbox.issue_tokens()["access_token"]).encode()
    chunked = (
        b"POST /api/v4/matters.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    plain = (
        b"GET /api/v4/users/who_am_i.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token
        + b"\r\n\r\n"
    )
    status, _, again, body = raw_exchange(clio_sandbox, chunked, plain)
    assert status.startswith(b"HTTP/1.1 403") and again.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["data"]["id"] == 3001


def test_the_standard_librarys_refusals_are_json(clio_sandbox: Sandbox) -> None:
    status, body = raw_exchange(clio_sandbox, b"GET /api/v4/matters.json extra HTTP/1.1\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400")
    assert set(json.loads(body)["error"]) == {"type", "message"}


def test_head_is_get_without_a_body(clio_sandbox: Sandbox) -> None:
    token = str(clio_sandbox.issue_tokens()["access_token"])
    response = httpx.head(
        clio_sandbox.base_url + "/api/v4/users/who_am_i.json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (response.status_code, response.content) == (200, b"")


def test_a_route_can_be_added() -> None:
    """A write served in place of the 403 (as `POST /custom_fields.json` is, for `mapctl doctor
    --create-fields`)."""
    from mapctl.engine.sandbox.api import Route
    from mapctl.engine.sandbox.query import Response

    target = api()
    assert target.handle(CLIO + "/contacts.json", [], "POST").status == 403
    target.add_route(
        Route("POST", "contacts", lambda a, r: Response(201, {"data": {"id": 1}}), ("fields",))
    )
    assert target.handle(CLIO + "/contacts.json", [], "POST").status == 201
    assert len([r for r in target.routes if r.pattern == "contacts"]) == 2


# --- a contact with id 0, a --data file nested too deep ----------------------------------------


def test_a_contact_with_id_0(tmp_path: Path) -> None:
    data = {
        "matters": [
            {"id": 1, "display_number": "00001-Zero", "status": "Open", "client": {"id": 0}}
        ],
        "contacts": [
            {"id": 0, "name": "Zero", "type": "Person"},
            {"id": 7, "name": "Seven", "type": "Person"},
        ],
        "relationships": [],
        "custom_fields": [],
    }
    path = tmp_path / "zero.json"
    path.write_text(json.dumps(data))
    target = Api(Store(load_data_file(path)), "http://sandbox")
    assert ids(get(target, "/contacts.json")) == [0, 7]
    assert ids(get(target, "/contacts.json", ("order", "id(desc)"))) == [7, 0]
    assert get(target, "/contacts/0.json", ("fields", "id,name")).body == {
        "data": {"id": 0, "name": "Zero"}
    }
    assert get(target, "/matters/1/client.json", ("fields", "id")).body == {"data": {"id": 0}}


def test_a_matter_whose_relationships_link_back_to_it(tmp_path: Path) -> None:
    """A bundle served as --data: the store links each relationship to its matter and back, so
    the made-up etag must not walk the whole record (it answered 500: circular reference)."""
    from tests.workflow import bundles

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundles.pritchett()))
    target = Api(Store(load_data_file(path)), "http://sandbox")
    shown = get(target, "/matters/9002.json", ("fields", "id,display_number"))
    assert shown.status == 200, shown.body
    assert shown.headers["ETag"].startswith('"')


def test_data_nested_100000_deep_is_a_clear_error(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = run_cli("sandbox", "--data", str(path), "--port", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path} is nested too deeply to be Clio records\n")


# --- OAuth: the registered redirect URIs ---------------------------------------------------------


def authorize(sandbox: Sandbox, redirect: str) -> httpx.Response:
    return httpx.get(
        sandbox.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": APP_KEY, "redirect_uri": redirect},
    )


def test_only_registered_redirect_uris_get_a_code() -> None:
    with Sandbox() as sandbox:
        approval = sandbox.base_url + "/oauth/approval"
        assert sandbox.redirect_uris == [approval]  # the default: its own approval page
        assert authorize(sandbox, approval).status_code == 302
        assert authorize(sandbox, approval + "?from=mapctl").status_code == 302
        for elsewhere in (
            "https://evil.example/oauth/approval",
            sandbox.base_url + "/oauth/approval/",
            sandbox.base_url.replace("127.0.0.1", "localhost") + "/oauth/approval",
        ):
            refused = authorize(sandbox, elsewhere)
            assert refused.status_code == 400 and "Location" not in refused.headers
            assert "The redirect uri included is not valid." in refused.text
        sandbox.redirect_uris = ["https://firm.example/clio/callback"]
        granted = authorize(sandbox, "https://firm.example/clio/callback")
        assert granted.headers["Location"].startswith("https://firm.example/clio/callback?code=")
        assert authorize(sandbox, approval).status_code == 400


def test_the_token_exchange_checks_the_redirect_uri_too() -> None:
    with Sandbox() as sandbox:
        approval = sandbox.base_url + "/oauth/approval"
        code = httpx.URL(authorize(sandbox, approval).headers["Location"]).params["code"]
        form = {
            "client_id": APP_KEY,
            "client_secret": "sandbox-secret",
            "grant_type": "authorization_code",
            "code": code,
        }
        for redirect in ("https://evil.example/cb", approval + "?other=1", ""):
            wrong = httpx.post(
                sandbox.base_url + "/oauth/token", data={**form, "redirect_uri": redirect}
            )
            assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
        right = httpx.post(
            sandbox.base_url + "/oauth/token", data={**form, "redirect_uri": approval}
        )
        assert right.status_code == 200 and right.json()["token_type"] == "bearer"


def test_connect_sends_the_redirect_uri_a_firm_registers(run_cli: Any) -> None:
    """mapctl's redirect URI is Clio's approval page on the same host (cli.md): what a firm
    registers for it. A Clio app registered with another one refuses mapctl's authorize URL."""
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)  # registered: <host>/oauth/approval
        assert run_cli("search", "Pritchett", env=env).exit_code == 0
        sandbox.redirect_uris = [sandbox.base_url + "/clio/callback"]
        printed = run_cli("connect", "--print-url", env=sandbox_env(sandbox))
        refused = httpx.get(printed.stdout.strip())
        assert refused.status_code == 400 and "Location" not in refused.headers


# --- a retired API version; next links elsewhere --------------------------------------------------


def test_a_retired_api_version_is_exit_3_with_upgrade(run_cli: Any) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.retired_versions = {"4.0.13"}
        result = run_cli("search", "Pritchett", env=env)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "error: Clio no longer serves the API version this mapctl speaks (4.0.13); upgrade mapctl\n"
    )
    assert "HTTP 410" not in result.stderr


def with_related(count: int) -> dict[str, Any]:
    data = demo_data()
    template = next(c for c in data["contacts"] if c["id"] == 5002)
    for i in range(count):
        data["contacts"].append({**template, "id": 60000 + i, "name": f"Cousin {i}"})
        data["relationships"].append(
            {
                "id": 61000 + i,
                "description": "Cousin",
                "matter": {"id": 9002},
                "contact": {"id": 60000 + i},
            }
        )
    return data


@pytest.mark.parametrize(
    "command",
    [("search", "estate"), ("import", "9002", "--yes"), ("fetch", "00002-Pritchett")],
    ids=lambda c: c[0],
)
def test_a_next_link_to_another_host_never_gets_the_token(
    run_cli: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Clio (here: the sandbox) answers a `next` link on another port; mapctl stops with exit 3
    and the other host receives nothing."""
    with Sandbox(with_related(250)) as sandbox, Sandbox() as other:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.api.base_url = other.base_url  # the next links now point at the other port
        out = tmp_path / "out"
        extra = ("--out", str(out)) if command[0] == "import" else ()
        result = run_cli(*command, *extra, env=env)
        assert other.requests == []
    assert result.exit_code == 3, result.output
    assert "points to " + other.base_url in result.stderr
    assert "mapctl sends the Clio access token only to the host it was issued for" in result.stderr
    assert not out.exists() or not any(out.iterdir())  # the import made nothing


def test_the_sandbox_command_takes_the_registered_redirect_uris() -> None:
    import subprocess
    import sys

    with subprocess.Popen(
        [sys.executable, "-m", "mapctl", "sandbox", "--port", "0", "--quiet"]
        + ["--redirect-uri", "https://firm.example/clio/callback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base = process.stdout.readline().split(" listening on ")[1].split()[0]
            elsewhere = authorize_at(base, base + "/oauth/approval")
            registered = authorize_at(base, "https://firm.example/clio/callback")
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert elsewhere.status_code == 400
    assert registered.status_code == 302


def authorize_at(base: str, redirect: str) -> httpx.Response:
    return httpx.get(
        base + "/oauth/authorize",
        params={"response_type": "code", "client_id": APP_KEY, "redirect_uri": redirect},
    )


def test_the_conformance_hooks_correct_the_document_with_nullable_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make conformance` reads the document through scripts/conformance_hooks.py: the nulls
    it allows are NULLABLE's, and the keyword `null` only where a description documents it.
    (Loaded here with a stand-in for Schemathesis, which `make test` does not install.)"""
    import copy
    import importlib.util
    import types

    from tests.clio.spec_tools import NULLABLE

    monkeypatch.setitem(
        __import__("sys").modules, "schemathesis", types.SimpleNamespace(hook=lambda f: f)
    )
    path = Path(__file__).resolve().parents[2] / "scripts" / "conformance_hooks.py"
    spec = importlib.util.spec_from_file_location("conformance_hooks_under_test", path)
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    document = copy.deepcopy(SPEC)
    hooks.before_load_schema(None, document)
    schemas = document["components"]["schemas"]
    nullable = {
        (name, prop)
        for name, schema in schemas.items()
        for part in [schema, *schema.get("allOf", [])]
        for prop, sub in part.get("properties", {}).items()
        if sub.get("nullable")
    }
    assert nullable == {(n, p) for n, props in NULLABLE.items() for p in props}
    matters = {p["name"]: p for p in document["paths"]["/matters.json"]["get"]["parameters"]}
    assert matters["grant_id"]["schema"]["anyOf"][1] == {"type": "string", "enum": ["null"]}
    assert matters["client_id"]["schema"] == {"type": "integer", "format": "int64"}
