"""Ticket updates for the tray: the server tells the agent, the agent tells the tray."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from endpoint_agent.tray import local
from server.keys import DATABASE, TICKET_NOTIFIER
from server.tickets import device_updates
from shared import protocol as p
from tests.endpoint_agent.test_tray_channel import ask, serving
from tests.support.agents import enroll_device, raw_agent, start_agent
from tests.support.server import Client, RunningServer
from tests.support.waiting import eventually

RESOLVE = {"status": "resolved", "resolution_code": "fixed",
           "resolution_note": "Replaced the toner cartridge."}


@contextlib.asynccontextmanager
async def watching(path: Path) -> AsyncIterator[list[dict[str, Any]]]:
    """Follow the local channel's ticket updates in a thread, as the tray does."""
    got: list[dict[str, Any]] = []
    stop, started = threading.Event(), threading.Event()

    def run() -> None:
        with contextlib.suppress(local.LocalError):
            for update in local.watch(path, stop=stop, started=started.set):
                got.append(update)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not await asyncio.to_thread(started.wait, 10):
        raise AssertionError("the watch was not answered")
    try:
        yield got
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 5)


async def test_reply_and_resolution_reach_the_tray_and_the_rating_lands_on_the_ticket(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """One public reply gives one update, an internal note none, a resolution a rating prompt."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    notifier = server.app[TICKET_NOTIFIER]
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)
        async with serving(running, state) as path:
            created = await ask(path, {"op": "ticket", "title": "Printer jams"})
            ticket_id = created["ticket_id"]
            async with watching(path) as seen:
                reply = await technician.post(f"/api/v1/tickets/{ticket_id}/comments",
                                              json={"body": "Which tray do you use?"})
                assert reply.status == 201
                await eventually(lambda: len(seen) == 1)
                note = await technician.post(f"/api/v1/tickets/{ticket_id}/comments",
                                             json={"body": "toner low?", "internal": True})
                assert note.status == 201
                resolved = await technician.patch(f"/api/v1/tickets/{ticket_id}", json=RESOLVE)
                assert resolved.status == 200, resolved.body
                await eventually(lambda: len(seen) == 2)
                assert [(u["change"], u["status"]) for u in seen] == [
                    ("replied", "new"), ("resolved", "resolved")]
                assert seen[0]["text"] == "Which tray do you use?"
                assert seen[1]["text"] == "Replaced the toner cartridge."
                assert {u["number"] for u in seen} == {"INC-000001"}
            # A merge into the resolved ticket publishes "updated" but announces nothing.
            other = await technician.post("/api/v1/tickets", json={"title": "Same printer"})
            merged = await technician.post(f"/api/v1/tickets/{other.json['id']}/merge",
                                           json={"into_id": ticket_id})
            assert merged.status == 200, merged.body
            await eventually(lambda: not notifier._tasks)
            # (Not only because it was sent before: the lookup itself finds no news.)
            assert await server.app[DATABASE].read(
                lambda c: device_updates.update_for(c, ticket_id, "updated")) is None
            # Exactly these two reached the agent: the internal note sent nothing.
            assert [u.change for u in running.agent.stats.ticket_updates] == [
                "replied", "resolved"]
            assert notifier.stats.sent == 2

            mine = await ask(path, {"op": "my_tickets"})
            assert mine["live"] is True
            assert [(t["status"], t["rated"]) for t in mine["tickets"]] == [  # type: ignore[attr-defined]
                ("resolved", False)]
            assert await ask(path, {"op": "rate", "ticket_id": ticket_id, "score": 4}) == {
                "ok": True, "rated": True}
            with pytest.raises(local.LocalError, match="already rated"):
                await ask(path, {"op": "rate", "ticket_id": ticket_id, "score": 1})
            for bad, error in (({"op": "rate", "ticket_id": ticket_id, "score": 6}, "score"),
                               ({"op": "rate", "ticket_id": ticket_id, "score": "5"}, "score"),
                               ({"op": "rate", "ticket_id": 0, "score": 3}, "ticket_id"),
                               ({"op": "rate", "score": 3}, "ticket_id"),
                               ({"op": "rate", "ticket_id": 99, "score": 3}, "no ticket 99")):
                with pytest.raises(local.LocalError, match=error):
                    await ask(path, bad)
            mine = await ask(path, {"op": "my_tickets"})
            assert [t["rated"] for t in mine["tickets"]] == [True]  # type: ignore[attr-defined]
    finally:
        await running.stop()
    events = (await admin.get(f"/api/v1/tickets/{ticket_id}/events")).json["items"]
    ratings = [e for e in events if e["type"] == "rating"]
    assert [(e["changes"]["rating"]["score"], e["public"]) for e in ratings] == [(4, False)]
    assert ratings[0]["actor"]["id"] == created_requester(events)


def created_requester(events: list[dict[str, Any]]) -> int:
    return int(next(e for e in events if e["type"] == "created")["actor"]["id"])


async def next_frame(ws: ClientConnection, *types: str) -> Any:
    """Return the next server message of one of ``types`` (heartbeat acks skipped)."""
    while True:
        message = p.decode_server_message(await asyncio.wait_for(ws.recv(), 10))
        if type(message).__name__ != "HeartbeatAck" or "heartbeat_ack" in types:
            return message


@contextlib.asynccontextmanager
async def raw_ticket(server: RunningServer, admin: Client,
                     state_dir: Path) -> AsyncIterator[tuple[ClientConnection, int]]:
    """A hand-driven agent without capabilities and a ticket it raised for 'alice'."""
    state, _ = await enroll_device(server, admin, state_dir)
    async with raw_agent(server, state) as (ws, _welcome):
        await ws.send(p.encode(p.TicketRequest(id="t1", title="No sound",
                                               requester_login="alice")))
        created = await next_frame(ws, "ticket_created")
        assert isinstance(created, p.TicketCreated)
        yield ws, created.ticket_id


async def test_bad_ratings_and_status_requests_are_refused_with_named_codes(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """Out-of-range, unknown, foreign, unresolved and repeated ratings are refused by name."""
    async with raw_ticket(server, admin, tmp_path / "a") as (ws, ticket_id), \
            raw_ticket(server, admin, tmp_path / "b") as (other, _):

        async def refused(frame: str, code: str, ws: ClientConnection = ws) -> None:
            await ws.send(frame)
            answer = await next_frame(ws, "error")
            assert isinstance(answer, p.Error), answer
            assert (answer.code, answer.fatal) == (code, False), answer

        def rating(**kw: Any) -> str:
            body = {"type": "rating", "id": "r1", "ticket_id": ticket_id,
                    "requester_login": "alice", "score": 5, **kw}
            return json.dumps(body)

        await refused(rating(score=0), p.INVALID_MESSAGE)
        await refused(rating(score=6), p.INVALID_MESSAGE)
        await refused(rating(score="5"), p.INVALID_MESSAGE)
        await refused(rating(stars=5), p.INVALID_MESSAGE)
        await refused(rating(comment="x" * 1001), p.INVALID_MESSAGE)
        await refused(rating(requester_login="alice; rm"), p.INVALID_MESSAGE)
        await refused(rating(ticket_id=424242), p.UNKNOWN_TICKET)
        await refused(rating(requester_login="mallory"), p.UNKNOWN_TICKET)
        await refused(rating(), p.NOT_RESOLVED)
        await refused('{"type": "ticket_status", "id": "s1", "requester_login": "alice", '
                      '"ticket_ids": []}', p.INVALID_MESSAGE)
        await refused(p.encode(p.TicketStatusRequest(id="s2", requester_login="alice",
                                                     ticket_ids=[ticket_id]))
                      .replace(f"[{ticket_id}]", str(list(range(1, 52)))), p.INVALID_MESSAGE)
        # Messages only the server sends are not taken from an agent.
        await refused(p.encode(p.TicketUpdate(
            ticket_id=ticket_id, number="INC-000001", title="x", status="new",
            change="replied", requester_login="alice", event_id=1)), p.UNKNOWN_TYPE)

        resolved = await technician.patch(f"/api/v1/tickets/{ticket_id}", json=RESOLVE)
        assert resolved.status == 200
        # Another device may not rate it, nor read its status.
        await refused(rating(), p.UNKNOWN_TICKET, ws=other)
        await other.send(p.encode(p.TicketStatusRequest(id="s3", requester_login="alice",
                                                        ticket_ids=[ticket_id])))
        assert await next_frame(other, "ticket_statuses") == p.TicketStatuses(id="s3",
                                                                             tickets=[])
        await ws.send(rating(comment="quick, thanks"))
        assert await next_frame(ws, "ack") == p.Ack(id="r1")
        await refused(rating(id="r2", score=1), p.ALREADY_RATED)
        # Logins are exact: another login of this device (a case variant too) sees nothing.
        for login in ("ALICE", "bob"):
            await ws.send(p.encode(p.TicketStatusRequest(id="s5", requester_login=login,
                                                         ticket_ids=[ticket_id])))
            assert await next_frame(ws, "ticket_statuses") == p.TicketStatuses(id="s5",
                                                                               tickets=[])
            await refused(rating(id="r3", requester_login=login), p.UNKNOWN_TICKET)
        await ws.send(p.encode(p.TicketStatusRequest(id="s4", requester_login="alice",
                                                     ticket_ids=[ticket_id, 999])))
        answer = await next_frame(ws, "ticket_statuses")
        assert isinstance(answer, p.TicketStatuses)
        assert [(t.ticket_id, t.status, t.rated) for t in answer.tickets] == [
            (ticket_id, "resolved", True)]
    events = (await admin.get(f"/api/v1/tickets/{ticket_id}/events")).json["items"]
    assert [(e["changes"]["rating"]["score"], e["body"]) for e in events
            if e["type"] == "rating"] == [(5, "quick, thanks")]


async def test_an_agent_without_the_capability_never_gets_updates(
        server: RunningServer, admin: Client, technician: Client, tmp_path: Path) -> None:
    """An older agent (no ticket_updates capability) hears nothing of a reply."""
    notifier = server.app[TICKET_NOTIFIER]
    async with raw_ticket(server, admin, tmp_path / "a") as (ws, ticket_id):
        reply = await technician.post(f"/api/v1/tickets/{ticket_id}/comments",
                                      json={"body": "On my way."})
        assert reply.status == 201
        await eventually(lambda: notifier.stats.not_capable == 1)
        # Sent after the notifier decided: the next frame is the heartbeat's answer.
        await ws.send(p.encode(p.Heartbeat(seq=7)))
        assert p.decode_server_message(await asyncio.wait_for(ws.recv(), 10)) == \
            p.HeartbeatAck(seq=7)
    assert notifier.stats.sent == 0
