"""OAuth helpers: regions, the authorize URL, what `--code` accepts, the token store."""

from __future__ import annotations

from pathlib import Path

import pytest
from mapctl.engine.clio import auth
from mapctl.engine.errors import ClioError, MapctlError

from tests.conftest import POSIX_MODES


@pytest.mark.parametrize(
    "env, region, expected",
    [
        ({}, None, "https://app.clio.com"),
        ({"CLIO_BASE_URL": "https://eu.app.clio.com/"}, None, "https://eu.app.clio.com"),
        ({"CLIO_BASE_URL": "http://127.0.0.1:8765/api/v4"}, None, "http://127.0.0.1:8765"),
        ({"CLIO_BASE_URL": "http://127.0.0.1:8765"}, "au", "https://au.app.clio.com"),
        ({}, "CA", "https://ca.app.clio.com"),
    ],
)
def test_base_url(env: dict[str, str], region: str | None, expected: str) -> None:
    assert auth.base_url_for(env, region) == expected


def test_unknown_region() -> None:
    with pytest.raises(MapctlError) as info:
        auth.base_url_for({}, "mars")
    assert info.value.message == "unknown Clio region 'mars'; use one of: us, ca, eu, au"


def test_authorize_url() -> None:
    url = auth.authorize_url("https://eu.app.clio.com", "key", "st4te")
    assert url == (
        "https://eu.app.clio.com/oauth/authorize?response_type=code&client_id=key&"
        "redirect_uri=https%3A%2F%2Feu.app.clio.com%2Foauth%2Fapproval&state=st4te"
    )


def test_what_code_accepts(mapctl_home: Path) -> None:
    state = auth.new_state(mapctl_home, "https://app.clio.com")
    assert not POSIX_MODES or (mapctl_home / auth.STATE_FILE).stat().st_mode & 0o777 == 0o600
    approval = f"https://app.clio.com/oauth/approval?code=abc123&state={state}"
    for pasted in (
        "abc123",
        "  abc123\n",
        "Success code=abc123",
        approval,
        f"code=abc123&state={state}",
        "?code=abc123",
    ):
        assert auth.parse_code(pasted, mapctl_home) == "abc123", pasted


@pytest.mark.parametrize(
    "pasted, message",
    [
        ("", "no authorization code given"),
        ("two words", "that is not an authorization code (a code has no spaces)"),
        ("https://app.clio.com/oauth/approval?state=x", "the address has no `code`"),
        (
            "https://app.clio.com/oauth/approval?code=a&state=forged",
            "the approval address does not belong to this connection attempt (state mismatch)",
        ),
    ],
)
def test_what_code_refuses(mapctl_home: Path, pasted: str, message: str) -> None:
    auth.new_state(mapctl_home, "https://app.clio.com")
    with pytest.raises(MapctlError) as info:
        auth.parse_code(pasted, mapctl_home)
    assert info.value.message == message and info.value.exit_code == 1


@pytest.mark.parametrize(
    "pasted",
    ["Failure error=access_denied", "https://app.clio.com/oauth/approval?error=access_denied"],
)
def test_a_declined_authorization(mapctl_home: Path, pasted: str) -> None:
    with pytest.raises(ClioError) as info:
        auth.parse_code(pasted, mapctl_home)
    assert info.value.message == "Clio did not authorize mapctl (access_denied)"


def test_token_store_round_trip_and_garbage(mapctl_home: Path) -> None:
    store = auth.TokenStore(mapctl_home)
    assert store.load() is None
    tokens = auth.Tokens("a", "r", 1.0, "https://app.clio.com", "key", "secret", 0.5)
    store.save(tokens)
    assert store.load() == tokens
    assert not POSIX_MODES or store.path.stat().st_mode & 0o777 == 0o600
    store.path.write_text("{broken")
    with pytest.raises(ClioError) as info:
        store.load()
    assert info.value.message == f"the stored Clio connection ({store.path}) is unreadable"
    assert store.delete() and not store.delete()


def test_short_lived_tokens_do_not_refresh_on_every_request() -> None:
    tokens = auth.Tokens(
        "a", "r", expires_at=1000.0, base_url="b", client_id="k", issued_at=940.0
    )  # a 60-second token: refresh in its last 6 s
    assert not tokens.needs_refresh(990.0)
    assert tokens.needs_refresh(995.0)
    legacy = auth.Tokens("a", "r", expires_at=1000.0, base_url="b", client_id="k")
    assert legacy.needs_refresh(701.0) and not legacy.needs_refresh(699.0)
