"""POST /custom_fields.json: the client sends what Clio's OpenAPI document defines, and the
sandbox answers as it documents (201 CustomField_Show; 400/422 in the Error shape), over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from mapctl.engine.clio.auth import Tokens, TokenStore
from mapctl.engine.clio.client import (
    ClioClient,
    create_custom_field,
    list_custom_fields,
    open_client,
)
from mapctl.engine.errors import ClioError, MapctlError
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox

from tests.clio.spec_tools import _nullable, load_spec

SPEC = load_spec()
SCHEMAS = SPEC["components"]["schemas"]
CREATE = SPEC["paths"]["/custom_fields.json"]["post"]


def response_validator(status: str) -> Draft202012Validator:
    content = CREATE["responses"][status]["content"]
    return Draft202012Validator(_nullable(next(iter(content.values()))["schema"], SCHEMAS))


def request_validator() -> Draft202012Validator:
    schema = CREATE["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator(_nullable(schema, SCHEMAS))


class Recording(httpx.BaseTransport):
    """Real HTTP, with every request kept (to check what the client sent)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the module: each test creates only names of its own."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def recording() -> Recording:
    return Recording()


@pytest.fixture
def client(sandbox: Sandbox, mapctl_home: Path, recording: Recording) -> Iterator[ClioClient]:
    issued = sandbox.issue_tokens()
    tokens = Tokens(
        issued["access_token"], issued["refresh_token"], time.time() + 3600,
        sandbox.base_url, APP_KEY, APP_SECRET,
    )  # fmt: skip
    TokenStore(mapctl_home).save(tokens)
    with open_client(mapctl_home, {}, transport=recording) as opened:
        yield opened


def test_create_a_picklist_field(
    client: ClioClient, recording: Recording, sandbox: Sandbox
) -> None:
    made = create_custom_field(client, "Marital Status 2", "picklist", ("Single", "Married"))
    assert made["name"] == "Marital Status 2" and made["field_type"] == "picklist"
    assert made["parent_type"] == "Contact" and made["deleted"] is False
    assert [o["option"] for o in made["picklist_options"]] == ["Single", "Married"]
    (post,) = [r for r in recording.requests if r.method == "POST"]
    assert post.url.path == "/api/v4/custom_fields.json"
    sent = json.loads(post.content)
    assert list(request_validator().iter_errors(sent)) == []
    assert sent == {
        "data": {
            "name": "Marital Status 2",
            "parent_type": "Contact",
            "field_type": "picklist",
            "picklist_options": [{"option": "Single"}, {"option": "Married"}],
        }
    }
    assert set(post.url.params) <= {p["name"] for p in CREATE["parameters"] if p["in"] == "query"}
    listed = {f["id"]: f for f in list_custom_fields(client)}
    assert listed[made["id"]]["name"] == "Marital Status 2"


def test_the_201_body_is_a_custom_field_show(sandbox: Sandbox) -> None:
    token = sandbox.issue_tokens()["access_token"]
    response = httpx.post(
        f"{sandbox.base_url}/api/v4/custom_fields.json",
        params={"fields": "id,name,field_type,parent_type,deleted,picklist_options{id,option}"},
        json={"data": {"name": "Pets", "parent_type": "Contact", "field_type": "text_line"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(response_validator("201").iter_errors(body)) == []
    assert body["data"]["picklist_options"] == []
    assert set(body["data"]) == {"id", "name", "field_type", "parent_type", "deleted",
                                 "picklist_options"}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"name": "Gender", "parent_type": "Contact", "field_type": "text_line"}, 422,
         "Validation failed: Name has already been taken"),
        ({"name": " gender ", "parent_type": "Contact", "field_type": "text_line"}, 422,
         "Validation failed: Name has already been taken"),
        ({"name": "", "parent_type": "contact", "field_type": "text"}, 422,
         "Validation failed: Name can't be blank, Parent type is not included in the list, "
         "Field type is not included in the list"),
        ({"name": "Colour", "parent_type": "Contact", "field_type": "picklist"}, 422,
         "Validation failed: Picklist options can't be blank"),
        (None, 400, "param is missing or the value is empty: data"),
        # What schemathesis sent (`make conformance`): any JSON where a string or a number goes.
        ({"name": "", "parent_type": "Contact", "field_type": {}, "display_order": 0,
          "displayed": True, "picklist_options": [], "required": False}, 422,
         "Validation failed: Name can't be blank, Field type is not included in the list"),
        ({"name": "X", "parent_type": ["Contact"], "field_type": "date", "display_order": {},
          "displayed": "yes"}, 422,
         "Validation failed: Parent type is not included in the list, Displayed is not a "
         "boolean, Display order is not a number"),
    ],
)  # fmt: skip
def test_clio_shaped_errors(sandbox: Sandbox, data: Any, status: int, message: str) -> None:
    token = sandbox.issue_tokens()["access_token"]
    count = len(sandbox.store.custom_fields)
    response = httpx.post(
        f"{sandbox.base_url}/api/v4/custom_fields.json",
        json={"data": data} if data is not None else {},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message
    assert list(response_validator(str(status)).iter_errors(response.json())) == []
    assert len(sandbox.store.custom_fields) == count


def test_the_sandbox_stays_read_only_elsewhere(sandbox: Sandbox) -> None:
    token = sandbox.issue_tokens()["access_token"]
    response = httpx.post(
        f"{sandbox.base_url}/api/v4/contacts.json",
        json={"data": {"name": "X"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    # Documented writes the sandbox's app may not make answer 403, as Clio does (issue 9).
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "ForbiddenError"


def test_a_refusal_is_a_clio_error(client: ClioClient) -> None:
    with pytest.raises(ClioError) as caught:
        create_custom_field(client, "Gender", "picklist", ("A",))
    assert caught.value.status == 422
    assert "Name has already been taken" in caught.value.message
    assert caught.value.exit_code == 3


def test_a_5xx_is_never_retried(client: ClioClient, sandbox: Sandbox) -> None:
    """A POST may have been done before the failure: one try, then a clear error."""
    posts = [m for m, _ in sandbox.requests].count("POST")
    sandbox.failure_rate = 1.0
    try:
        with pytest.raises(ClioError) as caught:
            create_custom_field(client, "Hobbies", "text_line")
    finally:
        sandbox.failure_rate = 0.0
    assert caught.value.status == 500
    assert "check in Clio" in (caught.value.hint or "")
    assert [m for m, _ in sandbox.requests].count("POST") == posts + 1


def test_a_403_names_the_write_permission(make_client: Any, app: Any) -> None:
    app.script(
        "/api/v4/custom_fields.json",
        httpx.Response(403, json={"error": {"type": "Forbidden", "message": "User is forbidden"}}),
    )
    with make_client() as opened:
        with pytest.raises(ClioError) as caught:
            create_custom_field(opened, "Pets", "text_line")
    assert caught.value.message == "Clio refused to create the custom field 'Pets' (HTTP 403)"
    assert "Custom Fields (write)" in (caught.value.hint or "")


def test_an_unknown_type_is_refused_before_asking_clio(make_client: Any, app: Any) -> None:
    with make_client() as opened:
        with pytest.raises(MapctlError):
            create_custom_field(opened, "Pets", "textline")
    assert app.api_requests() == []
