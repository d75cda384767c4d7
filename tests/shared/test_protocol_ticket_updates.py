"""The ticket-update messages of the wire protocol: shapes, limits, refusals (pure)."""

from __future__ import annotations

import json

import pytest

from shared import protocol as p

UPDATE = {"type": "ticket_update", "ticket_id": 7, "number": "INC-000007", "title": "Jams",
          "status": "resolved", "change": "resolved", "requester_login": "alice",
          "event_id": 42}
RATING = {"type": "rating", "id": "r1", "ticket_id": 7, "requester_login": "alice",
          "score": 4}


def test_update_rating_and_status_messages_round_trip() -> None:
    """Each message decodes on the side that receives it as it was sent."""
    update = p.decode_server_message(json.dumps(UPDATE))
    assert isinstance(update, p.TicketUpdate) and update.text == ""
    assert p.decode_server_message(p.encode(update)) == update
    rating = p.decode_agent_message(json.dumps(RATING))
    assert rating == p.Rating(id="r1", ticket_id=7, requester_login="alice", score=4)
    ask = p.TicketStatusRequest(id="s1", requester_login="bob", ticket_ids=[1, 2])
    assert p.decode_agent_message(p.encode(ask)) == ask
    answer = p.TicketStatuses(id="s1", tickets=[p.TicketStatusItem(
        ticket_id=1, number="INC-000001", title="x", status="new")])
    assert p.decode_server_message(p.encode(answer)) == answer


@pytest.mark.parametrize(("change", "code"), [
    ({"score": 0}, p.INVALID_MESSAGE), ({"score": 6}, p.INVALID_MESSAGE),
    ({"score": 4.5}, p.INVALID_MESSAGE), ({"ticket_id": 0}, p.INVALID_MESSAGE),
    ({"requester_login": ""}, p.INVALID_MESSAGE), ({"requester_login": "a b"}, p.INVALID_MESSAGE),
    ({"comment": "x" * 1001}, p.INVALID_MESSAGE), ({"extra": 1}, p.INVALID_MESSAGE),
])
def test_bad_ratings_are_refused(change: dict[str, object], code: str) -> None:
    """Scores out of 1-5, bad ids, bad logins, long comments and unknown fields are refused."""
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(json.dumps({**RATING, **change}))
    assert (info.value.code, info.value.msg_id) == (code, "r1")


def test_status_requests_are_bounded_and_updates_are_server_only() -> None:
    """Up to 50 ids, at least one; an agent cannot send a ticket_update."""
    for ids in ([], list(range(1, 52))):
        with pytest.raises(p.ProtocolError) as info:
            p.decode_agent_message(json.dumps({"type": "ticket_status", "id": "s",
                                               "requester_login": "a", "ticket_ids": ids}))
        assert info.value.code == p.INVALID_MESSAGE
    with pytest.raises(p.ProtocolError) as info:
        p.decode_agent_message(json.dumps(UPDATE))
    assert info.value.code == p.UNKNOWN_TYPE
    with pytest.raises(p.ProtocolError) as info:
        p.decode_server_message(json.dumps({**UPDATE, "change": "commented"}))
    assert info.value.code == p.INVALID_MESSAGE
