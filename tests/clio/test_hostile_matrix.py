"""No Clio answer of any shape makes a command exit 4 (issue 17, "Done when"): a matrix of
hostile answers (wrong types at every level of matters, relationships, contacts, custom fields
and paging, HTML, empty bodies, huge numbers, NaN, deep nesting) through search, preview and
fetch against a Clio on 127.0.0.1. Each ends with exit 3 and one error line (and its hint)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .hostile import Server, answer, connect_home, deep, hostile_clio, mutated, raw
from .test_boundary import clean_failure

SEARCH = "/api/v4/matters.json"
MATTER = "/api/v4/matters/9002.json"
ROSTER = "/api/v4/relationships.json"  # read when Clio refuses the matter's people
PEOPLE = "/api/v4/matters/9002/contacts.json"
CONTACTS = "/api/v4/contacts.json"
FIELDS = "/api/v4/custom_fields.json"
COMMANDS: dict[str, list[tuple[str, ...]]] = {
    SEARCH: [("search", "Pritchett"), ("search", "Pritchett", "--sort", "number"),
             ("preview", "00002-Pritchett")],
    MATTER: [("preview", "9002"), ("fetch", "9002")],
    ROSTER: [("preview", "9002"), ("fetch", "9002")],
    PEOPLE: [("preview", "9002"), ("fetch", "9002")],
    CONTACTS: [("preview", "9002"), ("fetch", "9002")],
    FIELDS: [("preview", "9002"), ("fetch", "9002")],
}  # fmt: skip


def at(*path: str | int, value: Any = None, delete: bool = False) -> Callable[[Any], None]:
    """Set (or delete) body[path...]: the first record of a listing is `"data", 0, ...`."""

    def change(body: Any) -> None:
        target = body
        for step in path[:-1]:
            target = target[step]
        if delete:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


def whole(value: Any) -> Callable[[Any], Any]:
    return lambda body: value


SHAPES: list[tuple[str, str, Callable[[Any], Any]]] = [
    # matters, as a search lists them
    (SEARCH, "client is a string", at("data", 0, "client", value="Jay Pritchett")),
    (SEARCH, "client is a list", at("data", 0, "client", value=[5001])),
    (SEARCH, "client id is text", at("data", 0, "client", value={"id": "5001"})),
    (SEARCH, "client name is a number", at("data", 0, "client", "name", value=5)),
    (SEARCH, "id is a list", at("data", 0, "id", value=[9002])),
    (SEARCH, "id is true", at("data", 0, "id", value=True)),
    (SEARCH, "id is 2**64", at("data", 0, "id", value=2**64)),
    (SEARCH, "id is missing", at("data", 0, "id", delete=True)),
    (SEARCH, "display_number is a number", at("data", 0, "display_number", value=42)),
    (SEARCH, "status is a list", at("data", 0, "status", value=["Open"])),
    (SEARCH, "open_date is an object", at("data", 0, "open_date", value={})),
    (SEARCH, "a matter is text", at("data", 0, value="matter")),
    (SEARCH, "data is an object", at("data", value={"id": 1})),
    (SEARCH, "data is null", at("data", value=None)),
    (SEARCH, "body is a list", whole([])),
    # one matter
    (MATTER, "client is a string", at("data", "client", value="Jay Pritchett")),
    (MATTER, "client is a list", at("data", "client", value=[{"id": 5001}])),
    (MATTER, "client id is a float", at("data", "client", value={"id": 5001.5})),
    (MATTER, "description is an object", at("data", "description", value={"a": 1})),
    (MATTER, "practice_area is text", at("data", "practice_area", value="Family")),
    (MATTER, "billable is text", at("data", "billable", value="yes")),
    (MATTER, "data is a list", at("data", value=[])),
    (MATTER, "data is text", at("data", value="9002")),
    # relationships
    (ROSTER, "contact is a string", at("data", 0, "contact", value="Gloria")),
    (ROSTER, "contact id is a list", at("data", 0, "contact", value={"id": []})),
    (ROSTER, "contact id is 0", at("data", 0, "contact", value={"id": 0})),
    (ROSTER, "id is missing", at("data", 0, "id", delete=True)),
    (ROSTER, "description is a number", at("data", 0, "description", value=7)),
    (ROSTER, "a relationship is a list", at("data", 0, value=[1])),
    # the matter's people (clients and related contacts)
    (PEOPLE, "id is text", at("data", 0, "id", value="5001")),
    (PEOPLE, "id is missing", at("data", 0, "id", delete=True)),
    (PEOPLE, "is_client is text", at("data", 0, "is_client", value="yes")),
    (PEOPLE, "relationship is text", at("data", 0, "relationship", value="Wife")),
    (PEOPLE, "relationship id is a list", at("data", 1, "relationship", value={"id": [1]})),
    (PEOPLE, "relationship_name is a number", at("data", 1, "relationship_name", value=3)),
    # contacts
    (CONTACTS, "id is missing", at("data", 0, "id", delete=True)),
    (CONTACTS, "id is a list", at("data", 0, "id", value=[5001])),
    (CONTACTS, "id is negative", at("data", 0, "id", value=-5001)),
    (CONTACTS, "name is a number", at("data", 0, "name", value=5)),
    (CONTACTS, "first_name is true", at("data", 0, "first_name", value=True)),
    (CONTACTS, "addresses is text", at("data", 0, "addresses", value="5244 Elm Drive")),
    (CONTACTS, "an address is a number", at("data", 0, "addresses", value=[5])),
    (CONTACTS, "a street is a list", at("data", 0, "addresses", value=[{"street": ["x"]}])),
    (CONTACTS, "email address is a number", at("data", 0, "email_addresses",
                                               value=[{"address": 5}])),
    (CONTACTS, "company is text", at("data", 0, "company", value="Pritchett Closets")),
    (CONTACTS, "custom values is text", at("data", 0, "custom_field_values", value="x")),
    (CONTACTS, "a custom value is an object", at("data", 0, "custom_field_values",
                                                 value=[{"id": "x-1", "value": {}}])),
    (CONTACTS, "a custom field ref is text", at("data", 0, "custom_field_values",
                                                value=[{"custom_field": "Gender"}])),
    (CONTACTS, "picklist option id is text", at("data", 0, "custom_field_values",
                                                value=[{"picklist_option": {"id": "81001"}}])),
    # custom field definitions
    (FIELDS, "picklist_options is text", at("data", 0, "picklist_options", value="Male")),
    (FIELDS, "an option without id", at("data", 0, "picklist_options", value=[{"option": "M"}])),
    (FIELDS, "id is text", at("data", 0, "id", value="71001")),
    (FIELDS, "name is a number", at("data", 0, "name", value=5)),
    (FIELDS, "field_type is a list", at("data", 0, "field_type", value=[])),
    (FIELDS, "data is text", at("data", value="fields")),
]  # fmt: skip

BODIES: list[tuple[str, bytes]] = [
    ("HTML", b"<html><body>Service Unavailable</body></html>"),
    ("an empty body", b""),
    ("null", b"null"),
    ("NaN", b'{"data": [NaN]}'),
    ("a number too large", b'{"data": [1e999]}'),
    ("a number of 5,000 digits", b'{"data": [' + b"9" * 5000 + b"]}"),
    ("JSON nested 100,000 deep", deep(100_000)),
    ("JSON nested 100 deep", deep(100)),
    ("not UTF-8", b'{"data": ["\xff"]}'),
    ("a bare string", b'"data"'),
]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with hostile_clio() as running:
        yield running


@pytest.fixture
def fresh(server: Server) -> Server:
    server.behaviours.clear()
    server.hits.clear()
    return server


def run_all(run_cli: Any, home: Path, server: Server, path: str) -> None:
    if path == ROSTER:  # relationships.json is asked only when the matter's people are refused
        server.behaviours[PEOPLE] = answer({"error": {"message": "Forbidden"}}, 403)
    env = connect_home(home, server)
    for args in COMMANDS[path]:
        for cache in (home / "cache").glob("*"):  # the custom fields are asked every time
            cache.unlink()
        result = run_cli(*args, env=env)
        clean_failure(result)
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("path", "change"),
    [
        pytest.param(path, change, id=f"{path.split('/')[-1]}: {name}")
        for path, name, change in SHAPES
    ],
)
def test_a_record_of_the_wrong_shape_is_exit_3(
    run_cli: Any, mapctl_home: Path, fresh: Server, path: str, change: Callable[[Any], Any]
) -> None:
    fresh.behaviours[path] = mutated(change)
    run_all(run_cli, mapctl_home, fresh, path)


@pytest.mark.parametrize("path", list(COMMANDS))
@pytest.mark.parametrize(("name", "body"), BODIES, ids=[name for name, _ in BODIES])
def test_a_body_that_is_not_clio_json_is_exit_3(
    run_cli: Any, mapctl_home: Path, fresh: Server, path: str, name: str, body: bytes
) -> None:
    fresh.behaviours[path] = raw(body)
    run_all(run_cli, mapctl_home, fresh, path)


@pytest.mark.parametrize(
    "meta",
    ["paging", 5, {"paging": 5}, {"paging": {"next": 5}}, {"paging": {"next": None}},
     {"records": "many"}, {"records": 2**80}, {"paging": {"next": ""}}],
)  # fmt: skip
def test_odd_paging_meta_is_read_as_no_more_pages(
    run_cli: Any, mapctl_home: Path, fresh: Server, meta: Any
) -> None:
    fresh.behaviours[SEARCH] = mutated(at("meta", value=meta))
    result = run_cli(
        "search", "Pritchett", "--format", "json", env=connect_home(mapctl_home, fresh)
    )
    assert result.exit_code == 0, result.output
    assert '"display_number": "00002-Pritchett"' in result.stdout
