"""The sandbox against Clio's OpenAPI document: response bodies validate against the documented
schemas, `fields` is parsed and refused as Clio does, and auth, paging, limits and OAuth behave
as NOTES.md describes. Over real HTTP on 127.0.0.1."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from mapctl.engine.clio import client as fields_in_use
from mapctl.engine.clio import closeloop
from mapctl.engine.clio.fields import field_table
from mapctl.engine.errors import MapctlError
from mapctl.engine.sandbox.api import Api, Store
from mapctl.engine.sandbox.seed import demo_data
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox, load_data_file

from tests.clio.spec_tools import (
    NULLABLE,
    derive_field_table,
    load_spec,
    mark_nullable,
    response_schema,
)

SPEC = load_spec()
MANY_CONTACT = (
    "id,etag,name,type,first_name,last_name,date_of_birth,title,prefix,is_client,"
    "primary_address,company,addresses,email_addresses,phone_numbers,web_sites,"
    "custom_field_values,related_contacts{id,name}"
)
MANY_MATTER = (
    "id,etag,number,display_number,description,status,open_date,close_date,billable,"
    "client,practice_area,responsible_attorney{id,name},custom_field_values,"
    "relationships{id,description,created_at}"
)
# (spec path, URL path, fields the client uses, many fields)
CASES = [
    (
        "/matters.json",
        "/api/v4/matters.json?query=pritchett",
        fields_in_use.SEARCH_FIELDS,
        MANY_MATTER,
    ),
    ("/matters/{id}.json", "/api/v4/matters/9002.json", fields_in_use.MATTER_FIELDS, MANY_MATTER),
    (
        "/matters/{matter_id}/client.json",
        "/api/v4/matters/9002/client.json",
        "id,name",
        "id,name,first_name,last_name,type,date_of_birth,addresses,email_addresses,company{id,name}",
    ),
    (
        "/matters/{matter_id}/contacts.json",
        "/api/v4/matters/9002/contacts.json",
        "id,name,is_client,relationship_name",
        "id,etag,name,type,is_client,relationship_name,matter_id,matter_number,description,"
        "custom_field_values{id,value,field_type},addresses,relationship{id,description}",
    ),
    (
        "/matters/{matter_id}/related_contacts.json",
        "/api/v4/matters/9002/related_contacts.json",
        "id,contact_id,name",
        "id,contact_id,name,type,is_matter_client,custom_field_values,"
        "relationship{id,description},addresses{id,street}",
    ),
    (
        "/relationships.json",
        "/api/v4/relationships.json?matter_id=9002",
        "id,description,contact{id}",
        "id,etag,description,created_at,contact{id,name},matter",
    ),
    (
        "/relationships/{id}.json",
        "/api/v4/relationships/8001.json",
        "id,description",
        "id,etag,description,contact,matter{id,display_number}",
    ),
    (
        "/contacts.json",
        "/api/v4/contacts.json?ids[]=5001&ids[]=5015",
        fields_in_use.CONTACT_FIELDS,
        MANY_CONTACT,
    ),
    (
        "/contacts/{id}.json",
        "/api/v4/contacts/5002.json",
        fields_in_use.CONTACT_FIELDS,
        MANY_CONTACT,
    ),
    (
        "/custom_fields.json",
        "/api/v4/custom_fields.json?parent_type=contact",
        fields_in_use.CUSTOM_FIELD_FIELDS,
        "id,name,field_type,picklist_options,parent_type",
    ),
    (
        "/custom_fields/{id}.json",
        "/api/v4/custom_fields/71001.json",
        fields_in_use.CUSTOM_FIELD_FIELDS,
        "id,etag,name,picklist_options{id,option,deleted_at}",
    ),
    (
        "/users/who_am_i.json",
        "/api/v4/users/who_am_i.json",
        "id,name,email",
        "id,etag,name,first_name,last_name,email,enabled,roles,time_zone",
    ),
    # issue 19: notes and custom actions (the seed has a note; the test makes an action)
    (
        "/notes.json",
        "/api/v4/notes.json?type=Matter&matter_id=9002",
        closeloop.NOTE_FIELDS,
        "id,etag,type,subject,detail,detail_text_type,date,created_at,updated_at,"
        "time_entries_count,matter{id,display_number,description},author{id,name},contact",
    ),
    (
        "/notes/{id}.json",
        "/api/v4/notes/60001.json",
        closeloop.NOTE_FIELDS,
        "id,etag,subject,detail,matter,author{id,name,email},time_entries",
    ),
    (
        "/custom_actions.json",
        "/api/v4/custom_actions.json",
        closeloop.ACTION_FIELDS,
        "id,etag,label,target_url,ui_reference",
    ),
    (
        "/custom_actions/{id}.json",
        "/api/v4/custom_actions/{action}.json",
        closeloop.ACTION_FIELDS,
        "id,label",
    ),
]


@functools.cache
def schema_for(spec_path: str) -> jsonschema.Draft202012Validator:
    schema = response_schema(SPEC, spec_path)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def token(clio_sandbox: Sandbox) -> str:
    return str(clio_sandbox.issue_tokens()["access_token"])


def get(sandbox: Sandbox, token: str | None, url: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(sandbox.base_url + url, params=params or None, headers=headers)


def an_action(sandbox: Sandbox, token: str) -> int:
    """The id of a custom action on the sandbox (made once; labels are unique per place)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"data": {"label": "Spec check", "target_url": "http://127.0.0.1:9/x",
                     "ui_reference": "contacts/show"}}  # fmt: skip
    httpx.post(sandbox.base_url + "/api/v4/custom_actions.json", json=body, headers=headers)
    listed = httpx.get(
        sandbox.base_url + "/api/v4/custom_actions.json", params={"fields": "id,label"},
        headers=headers,
    ).json()["data"]  # fmt: skip
    return int(next(a["id"] for a in listed if a["label"] == "Spec check"))


def test_field_table_is_the_spec() -> None:
    assert field_table() == derive_field_table(SPEC)


def test_every_spec_get_path_is_served() -> None:
    served = {case[0] for case in CASES}
    documented = {p for p, ops in SPEC["paths"].items() if "get" in ops}
    assert documented == served


@pytest.mark.parametrize("kind", ["client", "many"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_responses_validate_against_the_spec(
    clio_sandbox: Sandbox, token: str, case: tuple[str, str, str, str], kind: str
) -> None:
    spec_path, url, client_fields, many = case
    if "custom_actions" in spec_path:
        url = url.replace("{action}", str(an_action(clio_sandbox, token)))
    sep = "&" if "?" in url else "?"
    response = get(
        clio_sandbox, token, f"{url}{sep}fields={client_fields if kind == 'client' else many}"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    schema_for(spec_path).validate(body)
    data = body["data"]
    assert data, "the case should return records"
    if isinstance(data, list):
        assert body["meta"]["records"] >= len(data)


def test_without_fields_only_id_and_etag(clio_sandbox: Sandbox, token: str) -> None:
    body = get(clio_sandbox, token, "/api/v4/matters/9002.json").json()
    assert list(body["data"]) == ["id", "etag"]
    nested = get(clio_sandbox, token, "/api/v4/matters/9002", fields="client").json()["data"]
    assert list(nested["client"]) == ["id", "etag"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ("id,client{id,company{name}}", "client{id,company{name}} is not a valid field"),
        (
            "id,custom_field_values{id,value,custom_field{id,name},picklist_option{id,option}}",
            "custom_field_values{id,value,custom_field{id,name},picklist_option{id,option}} "
            "is not a valid field",
        ),
        ("id,nickname", "nickname is not a valid field"),
        ("id,client{id,nickname}", "client{nickname} is not a valid field"),
        ("id,display_number{id}", "display_number is not a valid field"),
        # Every bad field, in Clio's words for several (issue 17 item 2, NOTES 12)
        (
            "id,nickname,client{id,suffix,name,alias},web{x}",
            "nickname, client{suffix}, client{alias}, web are not valid fields",
        ),
    ],
)
def test_bad_fields_are_refused_like_clio(
    clio_sandbox: Sandbox, token: str, fields: str, message: str
) -> None:
    response = get(clio_sandbox, token, "/api/v4/matters.json", fields=fields)
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "InvalidFields", "message": message}}


def test_literal_and_encoded_braces_and_no_json_suffix(clio_sandbox: Sandbox, token: str) -> None:
    literal = get(clio_sandbox, token, "/api/v4/matters/9002.json?fields=id,client{id,name}")
    encoded = get(clio_sandbox, token, "/api/v4/matters/9002?fields=id%2Cclient%7Bid%2Cname%7D")
    assert (
        literal.json()
        == encoded.json()
        == {"data": {"id": 9002, "client": {"id": 5001, "name": "Jay Pritchett"}}}
    )


def test_paging_next_carries_every_parameter(clio_sandbox: Sandbox, token: str) -> None:
    first = get(
        clio_sandbox,
        token,
        "/api/v4/matters.json",
        query="Estate",
        limit="200",
        order="id(asc)",
        fields="id",
    ).json()
    assert first["meta"]["records"] == 471 and len(first["data"]) == 200
    following = httpx.URL(first["meta"]["paging"]["next"])
    assert str(following).startswith(clio_sandbox.base_url + "/api/v4/matters.json?")
    assert {k: following.params[k] for k in ("query", "limit", "order", "fields")} == {
        "query": "Estate",
        "limit": "200",
        "order": "id(asc)",
        "fields": "id",
    }
    second = httpx.get(following, headers={"Authorization": f"Bearer {token}"}).json()
    third = httpx.get(
        second["meta"]["paging"]["next"], headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert len(second["data"]) == 200 and len(third["data"]) == 71
    assert "next" not in third["meta"]["paging"] and "previous" in third["meta"]["paging"]
    ids = [r["id"] for page in (first, second, third) for r in page["data"]]
    assert len(set(ids)) == 471 and ids == sorted(ids)


def test_status_filter_lower_case_in_capitalised_out(clio_sandbox: Sandbox, token: str) -> None:
    body = get(
        clio_sandbox,
        token,
        "/api/v4/matters.json",
        query="estate",
        status="closed,pending",
        fields="id,status",
    ).json()
    assert {r["status"] for r in body["data"]} == {"Closed", "Pending"}
    bad = get(clio_sandbox, token, "/api/v4/matters.json", status="Nope")
    assert bad.status_code == 400


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_limit_is_1_to_200(clio_sandbox: Sandbox, token: str, limit: str) -> None:
    response = get(clio_sandbox, token, "/api/v4/matters.json", limit=limit)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "limit must be between 1 and 200"


def test_the_two_401_shapes(clio_sandbox: Sandbox) -> None:
    none = get(clio_sandbox, None, "/api/v4/matters.json")
    assert none.status_code == 401
    assert none.json() == {
        "error": {"type": "UnauthorizedError", "message": "User is not authorized"}
    }
    bad = get(clio_sandbox, "not-a-token", "/api/v4/matters.json")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    for response in (none, bad):
        assert "X-RateLimit-Limit" not in response.headers


def test_headers_and_404(clio_sandbox: Sandbox, token: str) -> None:
    response = get(clio_sandbox, token, "/api/v4/matters/424242.json")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"type": "RecordNotFound", "message": "The requested Matter could not be found"}
    }
    assert response.headers["X-API-VERSION"] == "4.0.13"
    assert int(response.headers["X-RateLimit-Limit"]) >= int(
        response.headers["X-RateLimit-Remaining"]
    )
    gone = httpx.get(
        clio_sandbox.base_url + "/api/v4/matters.json",
        headers={"Authorization": f"Bearer {token}", "X-API-VERSION": "4.9.0"},
    )
    assert gone.status_code == 410


def test_rate_limit_per_token() -> None:
    with Sandbox(rate_limit=3) as sandbox:
        token = str(sandbox.issue_tokens()["access_token"])
        codes = [get(sandbox, token, "/api/v4/users/who_am_i.json").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = get(sandbox, token, "/api/v4/users/who_am_i.json")
        seconds = int(limited.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert limited.json()["error"]["message"] == (
            f"Rate limit of 3 exceeded. Retry in {seconds} seconds."
        )
        other = str(sandbox.issue_tokens()["access_token"])
        assert get(sandbox, other, "/api/v4/users/who_am_i.json").status_code == 200


def test_forced_429_with_a_date_and_failures() -> None:
    with Sandbox(failure_rate=1.0) as sandbox:
        token = str(sandbox.issue_tokens()["access_token"])
        sandbox.force_429(1, retry_after=5, http_date=True)
        limited = get(sandbox, token, "/api/v4/users/who_am_i.json")
        assert limited.status_code == 429 and limited.headers["Retry-After"].endswith("GMT")
        assert get(sandbox, token, "/api/v4/users/who_am_i.json").status_code == 500


def authorize(sandbox: Sandbox, state: str = "s1") -> str:
    response = httpx.get(
        sandbox.base_url + "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": APP_KEY,
            "state": state,
            "redirect_uri": sandbox.base_url + "/oauth/approval",
        },
    )
    assert response.status_code == 302
    location = httpx.URL(response.headers["Location"])
    assert location.params["state"] == state
    return location.params["code"]


def token_request(sandbox: Sandbox, **form: str) -> httpx.Response:
    return httpx.post(
        sandbox.base_url + "/oauth/token",
        data={"client_id": APP_KEY, "client_secret": APP_SECRET, **form},
    )


def test_oauth_code_flow_refresh_and_deauthorize() -> None:
    with Sandbox(token_lifetime=120) as sandbox:
        code = authorize(sandbox)
        page = httpx.get(sandbox.base_url + "/oauth/approval", params={"code": code})
        assert f"<title>Success code={code}</title>" in page.text
        redirect = sandbox.base_url + "/oauth/approval"
        granted = token_request(
            sandbox, grant_type="authorization_code", code=code, redirect_uri=redirect
        )
        body = granted.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 120
        reused = token_request(
            sandbox, grant_type="authorization_code", code=code, redirect_uri=redirect
        )
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        wrong = httpx.post(
            sandbox.base_url + "/oauth/token",
            data={
                "client_id": APP_KEY,
                "client_secret": "nope",
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
            },
        )
        assert wrong.json()["error"] == "invalid_client"
        sandbox.expire_tokens()
        assert get(sandbox, body["access_token"], "/api/v4/matters.json").status_code == 401
        renewed = token_request(
            sandbox, grant_type="refresh_token", refresh_token=body["refresh_token"]
        ).json()
        assert "refresh_token" not in renewed  # Clio may omit it: clients keep the old one
        assert get(sandbox, renewed["access_token"], "/api/v4/matters.json").status_code == 200
        out = httpx.post(
            sandbox.base_url + "/oauth/deauthorize",
            headers={"Authorization": f"Bearer {renewed['access_token']}"},
        )
        assert out.status_code == 200
        assert get(sandbox, renewed["access_token"], "/api/v4/matters.json").status_code == 401
        again = token_request(
            sandbox, grant_type="refresh_token", refresh_token=body["refresh_token"]
        )
        assert again.json()["error"] == "invalid_grant"


def test_authorize_refuses_an_unknown_app(clio_sandbox: Sandbox) -> None:
    response = httpx.get(
        clio_sandbox.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": "other", "redirect_uri": "http://x/cb"},
    )
    assert response.status_code == 400


def test_data_file_replaces_the_seed(tmp_path: Path) -> None:
    data = {
        "matters": [
            {
                "id": 1,
                "display_number": "00001-Solo",
                "description": "Only one",
                "status": "Open",
                "client": {"id": 2},
            }
        ],
        "contacts": [{"id": 2, "name": "Solo Client", "type": "Person"}],
        "relationships": [],
        "custom_fields": [],
    }
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(data))
    with Sandbox(load_data_file(path)) as sandbox:
        token = str(sandbox.issue_tokens()["access_token"])
        body = get(sandbox, token, "/api/v4/matters.json", fields="id,display_number").json()
        assert body == {
            "data": [{"id": 1, "display_number": "00001-Solo"}],
            "meta": {"paging": {}, "records": 1},
        }


def test_a_redacted_contact_comes_back_as_its_id_only() -> None:
    """Contacts Visibility (NOTES 4.3): a hidden contact is `{"id", "redacted": true}` whatever
    `fields` asks, in lists and alone."""
    data = demo_data()
    hidden = next(c for c in data["contacts"] if c["id"] == 5007)
    hidden["redacted"] = True
    api = Api(Store(data), "http://sandbox")
    fields = [("fields", "id,name,date_of_birth")]
    listed = api.handle("/api/v4/contacts.json", [("ids[]", "5007"), ("ids[]", "5008"), *fields])
    assert [c.get("redacted") for c in listed.body["data"]] == [True, None]
    assert listed.body["data"][0] == {"id": 5007, "redacted": True}
    alone = api.handle("/api/v4/contacts/5007.json", fields)
    assert (alone.status, alone.body) == (200, {"data": {"id": 5007, "redacted": True}})
    assert schema_for("/contacts/{id}.json").is_valid(alone.body)
    assert schema_for("/contacts.json").is_valid(listed.body)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        ("[]", "expected an object with matters, contacts, relationships, custom_fields"),
        (
            '{"matters": [], "contacts": [], "relationships": []}',
            "'custom_fields' must be a list of Clio records",
        ),
        (
            '{"matters": [{"id": "x"}], "contacts": [], "relationships": [], "custom_fields": []}',
            "every record in 'matters' needs an integer 'id'",
        ),
        (
            '{"matters": [], "contacts": [], "custom_fields": [], "relationships": '
            '[{"id": 1, "matter": {"id": 5}, "contact": {"id": 6}}]}',
            "relationship 1 refers to a matter or contact that is not in the file",
        ),
        (
            '{"matters": [], "contacts": [], "custom_fields": [], "relationships": '
            '[{"id": 1, "matter": 5, "contact": {"id": 6}}]}',
            "relationship 1: 'matter' must be an object with an integer id",
        ),
        (
            '{"matters": [{"id": 1, "client": "Jay"}], "contacts": [], "relationships": [], '
            '"custom_fields": []}',
            "matter 1: 'client' must be null or an object with an integer id",
        ),
        (
            '{"matters": [{"id": true}], "contacts": [], "relationships": [], "custom_fields": []}',
            "every record in 'matters' needs an integer 'id'",
        ),
        (
            '{"matters": [], "contacts": [{"id": 1, "custom_field_values": [1]}], '
            '"relationships": [], "custom_fields": []}',
            "contact 1: 'custom_field_values' must be a list of objects",
        ),
        (
            '{"matters": [], "contacts": [{"id": 1, "custom_field_values": '
            '[{"custom_field": 71001}]}], "relationships": [], "custom_fields": []}',
            "contact 1: 'custom_field_values' must be a list of objects",
        ),
        (
            '{"matters": [], "contacts": [], "relationships": [], "custom_fields": '
            '[{"id": 1, "picklist_options": [{"option": "Male"}]}]}',
            "custom field 1: 'picklist_options' must be a list of objects with an integer id",
        ),
        (
            '{"matters": [{"id": 1, "client": {"id": 2}, "co_clients": [3]}], "contacts": '
            '[{"id": 2}], "relationships": [], "custom_fields": []}',
            "matter 1: 'co_clients' (the matter's other clients) must be a list of objects",
        ),
        (
            '{"matters": [{"id": 1, "client": {"id": 2}, "co_clients": [{"id": 3}]}], '
            '"contacts": [{"id": 2}], "relationships": [], "custom_fields": []}',
            "matter 1 has unknown co-client 3",
        ),
        (
            '{"matters": [{"id": 1, "client": {"id": 2}, "co_clients": ['
            + ", ".join(f'{{"id": {i}}}' for i in range(3, 14))
            + ']}], "contacts": ['
            + ", ".join(f'{{"id": {i}}}' for i in range(2, 14))
            + '], "relationships": [], "custom_fields": []}',
            "matter 1 has 12 clients; Clio allows 11",
        ),
    ],
)
def test_bad_data_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(MapctlError) as info:
        load_data_file(path)
    assert str(path) in info.value.message and message in info.value.message


def test_a_multi_client_matter_lists_every_client_and_no_relationship_to_them(
    clio_sandbox: Sandbox, token: str
) -> None:
    """Issue 17: 00005-Dunphy's clients (Phil the default, Claire a co-client) are in its
    contact list with is_client and relationship_name "Client"; /relationships.json lists
    only the children; the matter's `client` is the default one; search finds it by Claire."""
    auth = {"Authorization": f"Bearer {token}"}
    api = clio_sandbox.base_url + "/api/v4"
    fields = "id,name,is_client,relationship_name,relationship{id,description}"
    listed = httpx.get(f"{api}/matters/9005/contacts.json", params={"fields": fields}, headers=auth)
    assert schema_for("/matters/{matter_id}/contacts.json").is_valid(listed.json())
    rows = {r["id"]: r for r in listed.json()["data"]}
    assert {i: (r["is_client"], r["relationship_name"]) for i, r in rows.items()} == {
        5011: (True, "Client"), 5003: (True, "Client"),
        5007: (False, "Daughter"), 5008: (False, "Daughter"), 5009: (False, "Son"),
    }  # fmt: skip
    assert rows[5003]["relationship"] is None and rows[5007]["relationship"]["id"] == 8060
    roster = httpx.get(
        f"{api}/relationships.json",
        params={"matter_id": "9005", "fields": "id,contact{id}"},
        headers=auth,
    )
    assert [r["contact"]["id"] for r in roster.json()["data"]] == [5007, 5008, 5009]
    matter = httpx.get(f"{api}/matters/9005.json", params={"fields": "client{id}"}, headers=auth)
    assert matter.json()["data"]["client"]["id"] == 5011
    found = httpx.get(
        f"{api}/matters.json", params={"query": "claire", "fields": "id"}, headers=auth
    )
    assert 9005 in [m["id"] for m in found.json()["data"]]


def test_the_translated_schemas_do_reject_wrong_shapes() -> None:
    """The faithfulness check is not vacuous: wrong types and a missing `data` fail."""
    validator = schema_for("/matters/{id}.json")
    bad: dict[str, Any]
    for bad in (
        {"data": {"id": "9002"}},
        {"data": {"client": {"name": 5}}},
        {"matter": {}},
        {"data": {"relationships": {"id": 1}}},
        {"data": {"description": None}},  # a null the document and NULLABLE do not allow
        {"data": {"client": None}},
    ):
        assert not validator.is_valid(bad), bad
    assert validator.is_valid({"data": {"id": 1, "close_date": None, "client": {"id": 5}}})


def test_nullable_names_only_what_the_document_defines() -> None:
    """Each NULLABLE entry is a property of that schema (mark_nullable raises otherwise), and
    nothing else became nullable."""
    marked = mark_nullable(copy.deepcopy(SPEC))["components"]["schemas"]
    found = {
        (name, prop)
        for name, schema in marked.items()
        for part in [schema, *schema.get("allOf", [])]
        for prop, sub in part.get("properties", {}).items()
        if sub.get("nullable")
    }
    assert found == {(n, p) for n, props in NULLABLE.items() for p in props}


def test_matter_contacts_lists_the_client_too(clio_sandbox: Sandbox, token: str) -> None:
    body = get(
        clio_sandbox,
        token,
        "/api/v4/matters/9002/contacts.json",
        fields="id,name,is_client,relationship_name",
    ).json()
    assert body["data"][-1] == {
        "id": 5001,
        "name": "Jay Pritchett",
        "is_client": True,
        "relationship_name": "Client",
    }
    assert body["data"][0] == {
        "id": 5002,
        "name": "Gloria Pritchett",
        "is_client": False,
        "relationship_name": "Wife",
    }
    assert body["meta"]["records"] == 15
    related = get(
        clio_sandbox,
        token,
        "/api/v4/matters/9002/related_contacts.json",
        fields="id,contact_id,relationship{description}",
    ).json()
    assert related["data"][0] == {
        "id": 8001,
        "contact_id": 5002,
        "relationship": {"description": "Wife"},
    }
    rels = get(
        clio_sandbox,
        token,
        "/api/v4/relationships.json",
        matter_id="9002",
        fields="id,description,contact{id,name}",
    ).json()
    assert rels["data"][-1] == {
        "id": 8050,
        "description": "Business",
        "contact": {"id": 5015, "name": "Pritchett's Closets & Blinds"},
    }


def test_custom_field_ids_restrict_the_values(clio_sandbox: Sandbox, token: str) -> None:
    response = httpx.get(
        clio_sandbox.base_url + "/api/v4/contacts/5001.json",
        params=[
            ("custom_field_ids[]", "71003"),
            ("custom_field_ids[]", "71001"),
            ("fields", "id,custom_field_values{field_name,value}"),
        ],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["custom_field_values"] == [
        {"field_name": "Gender", "value": "81001"},
        {"field_name": "Marital Status", "value": "81022"},
    ]


def test_a_displayed_but_empty_value_has_a_null_id(clio_sandbox: Sandbox, token: str) -> None:
    values = get(
        clio_sandbox,
        token,
        "/api/v4/contacts/5004.json",
        fields="id,custom_field_values{id,field_name,value,picklist_option}",
    ).json()["data"]["custom_field_values"]
    assert {
        "id": None,
        "field_name": "Citizenship",
        "value": None,
        "picklist_option": None,
    } in values


def test_error_bodies_follow_the_error_schema(clio_sandbox: Sandbox, token: str) -> None:
    schemas = SPEC["components"]["schemas"]
    error_schema = {**schemas["Error"], "components": {"schemas": schemas}}
    validator = jsonschema.Draft202012Validator(error_schema)
    for url, params in (
        ("/api/v4/matters/1.json", {}),
        ("/api/v4/matters.json", {"fields": "x"}),
        ("/api/v4/matters.json", {"limit": "0"}),
    ):
        body = get(clio_sandbox, token, url, **params).json()
        assert validator.is_valid(body), body
        assert isinstance(body["error"]["type"], str) and body["error"]["message"]


def test_real_requests_use_only_declared_parameters(run_cli: Any) -> None:
    """The client's requests as the sandbox saw them, checked against the document."""
    import re
    import urllib.parse

    from tests.clio.conftest import connect_via_cli
    from tests.clio.spec_tools import declared_parameters

    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        start = len(sandbox.requests)
        assert run_cli("search", "estate", env=env).exit_code == 0
        assert run_cli("fetch", "00002-Pritchett", env=env).exit_code == 0
        assert run_cli("fetch", "9002", env=env).exit_code == 0
        templates = [
            (re.compile("^/api/v4" + re.sub(r"\{[^}]+\}", r"\\d+", p) + "$"), p)
            for p in SPEC["paths"]
        ]
        seen = sandbox.requests[start:]
        assert len(seen) == 3 + 4 + 3  # search: 3 pages; fetch: 4; again: 3 (cached fields)
        for _, target in seen:
            parts = urllib.parse.urlsplit(target)
            path = next(p for rx, p in templates if rx.match(parts.path))
            names = {k for k, _ in urllib.parse.parse_qsl(parts.query)}
            assert names <= declared_parameters(SPEC, path), target
