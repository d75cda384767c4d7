"""The ``login_languages`` message of the wire protocol: shape, limits, refusals (pure)."""

from __future__ import annotations

import json

import pytest

from shared import protocol as p


def test_login_languages_round_trips() -> None:
    """The message decodes on the agent's side as the server sent it; empty is allowed."""
    message = p.LoginLanguages(languages={"alice": "id", "bob.s@corp": "pt-BR"})
    assert p.decode_server_message(p.encode(message)) == message
    assert p.decode_server_message('{"type":"login_languages","languages":{}}') \
        == p.LoginLanguages(languages={})


@pytest.mark.parametrize("languages", [
    {"a b": "id"}, {"": "id"}, {"alice\n": "id"}, {"alice": "i"}, {"alice": "id\n"},
    {"alice": "id; rm"}, {"alice": None}, {"alice": "x" * 36},
    {f"user{i}": "id" for i in range(p.MAX_LOGIN_LANGUAGES + 1)},
])
def test_bad_logins_languages_and_too_many_are_refused(languages: dict[str, object]) -> None:
    """Logins outside the login pattern, codes that are no language tag, nulls and more
    than the limit of entries are invalid."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_server_message(json.dumps({"type": "login_languages",
                                            "languages": languages}))
    assert info.value.code == p.INVALID_MESSAGE


def test_only_the_server_sends_it() -> None:
    """An agent sending login_languages sends an unknown type."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message('{"type":"login_languages","languages":{}}')
    assert info.value.code == p.UNKNOWN_TYPE
