"""Issue 19's pure helpers: which `subject_url` names a matter, the links back to Clio."""

from __future__ import annotations

import pytest
from mapctl.engine.clio.closeloop import (
    find_action,
    matter_page,
    notes_page,
    subject_matter_id,
    target_url,
)

BASE = "https://app.clio.com"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("/api/v4/matters/9002", 9002),
        ("/api/v4/matters/9002.json", 9002),
        ("https://app.clio.com/api/v4/matters/9002", 9002),
        ("HTTPS://APP.CLIO.COM/api/v4/matters/9002", 9002),  # host names have no case
        ("http://app.clio.com/api/v4/matters/9002", None),  # not over plain http
        ("https://eu.app.clio.com/api/v4/matters/9002", None),  # another host: never
        ("https://evil.example/api/v4/matters/9002", None),
        ("/api/v4/contacts/5001", None),
        ("/api/v4/matters/9002/notes", None),
        ("/api/v4/matters/9002?fields=x", None),
        ("/api/v4/matters/-1", None),
        ("/api/v4/matters/99999999999999999999", None),
        ("", None),
    ],
)
def test_only_a_matter_on_the_connected_host_is_a_subject(
    subject: str, expected: int | None
) -> None:
    assert subject_matter_id(subject, BASE) == expected


def test_links_back_to_clio() -> None:
    assert matter_page(BASE, 9002) == "https://app.clio.com/nc/#/matters/9002"
    assert notes_page(BASE, 9002) == "https://app.clio.com/nc/#/matters/9002/notes"
    sandbox = "http://127.0.0.1:8765"
    assert matter_page(sandbox, 9002, sandbox=True) == "http://127.0.0.1:8765/nc/matters/9002"
    assert notes_page(sandbox, 9002, sandbox=True) == "http://127.0.0.1:8765/nc/matters/9002#notes"
    assert target_url(8770) == "http://127.0.0.1:8770/clio/action"


def test_our_action_is_found_by_label_and_place() -> None:
    actions = [
        {"id": 1, "label": "Import to ILS", "ui_reference": "contacts/show"},
        {"id": 2, "label": "Send to DocuSign", "ui_reference": "matters/show"},
        {"id": 3, "label": "Import to ILS", "ui_reference": "matters/show"},
    ]
    assert find_action(actions) == actions[2]
    assert find_action(actions[:2]) is None
