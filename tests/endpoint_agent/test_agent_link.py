"""Real agents against the real server on loopback: enroll, authenticate, report, recover."""

from __future__ import annotations

import asyncio
import datetime as dt
import stat
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed

from endpoint_agent.errors import EnrollmentError, FatalConnectionError, PinMismatch
from endpoint_agent.state import AgentState
from server.db.schema import agent_reports, device_metrics, enrollment_tokens, inventory_changes
from server.keys import HUB
from shared import protocol as p
from tests.support.agents import (
    create_token,
    enroll_device,
    raw_agent,
    signed_hello,
    start_agent,
    unauthenticated,
)
from tests.support.server import Client, RunningServer, start_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL


async def test_enrolled_agent_connects_and_reports(server: RunningServer, admin: Client,
                                                   tmp_path: Path) -> None:
    """An enrolled agent connects, shows online, and its inventory lands on the server."""
    state, enrollment = await enroll_device(server, admin, tmp_path / "agent")
    assert stat.S_IMODE(state.key_file.stat().st_mode) == 0o600
    running = await start_agent(state)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)

        async def reported() -> bool:
            return bool(running.agent.stats.inventories_sent)

        await eventually(reported)
        listed = await admin.get("/api/v1/devices")
        (device,) = listed.json["items"]
        assert device["uid"] == enrollment.device_id
        assert device["online"] is True
        assert device["os_name"] == "Debian GNU/Linux"
        assert device["serial"] == "SN-pc-001"
        detail = await admin.get(f"/api/v1/devices/{device['id']}")
        assert set(detail.json["inventory"]) == set(running.inventory)
        assert running.agent.stats.inventories_sent == [sorted(running.inventory)]

        async def has_metrics() -> bool:
            got = await admin.get(f"/api/v1/devices/{device['id']}")
            return got.json["device"]["metrics"] is not None

        await eventually(has_metrics)
    finally:
        await running.stop()

    async def offline() -> bool:
        got = await admin.get("/api/v1/devices")
        return got.json["items"][0]["online"] is False

    await eventually(offline)


async def test_device_search_filters(server: RunningServer, admin: Client,
                                     tmp_path: Path) -> None:
    """Devices are found by host name, OS, software and version, serial and user."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await eventually(lambda: (bool(running.agent.stats.inventories_sent)))
        for query, expected in [
            ("q=pc-00", 1), ("q=nomatch", 0), ("os=debian", 1), ("os=windows", 0),
            ("software=openssl", 1), ("software=openssl&software_version=3.0.15", 1),
            ("software=openssl&software_version=1.1", 0), ("serial=sn-pc-001", 1),
            ("user=alice", 1), ("user=bob", 0), ("online=true", 1), ("online=false", 0),
        ]:
            resp = await admin.get(f"/api/v1/devices?{query}")
            assert resp.status == 200, resp.body
            assert len(resp.json["items"]) == expected, query
    finally:
        await running.stop()


@pytest.mark.parametrize("problem", ["unknown", "expired", "used_up", "revoked"])
async def test_bad_tokens_are_refused_with_a_clear_message(
        server: RunningServer, admin: Client, tmp_path: Path, problem: str) -> None:
    """Unknown, expired, used-up and revoked tokens are refused and say which it is."""
    token = await create_token(admin, max_uses=1)
    secret = token["token"]
    if problem == "unknown":
        secret = "dme_not-a-real-token"
    elif problem == "expired":
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        await server.db.write(lambda c: c.execute(
            enrollment_tokens.update().values(expires_at=past)))
    elif problem == "used_up":
        await enroll_device(server, admin, tmp_path / "first", token=secret)
    else:
        await admin.delete(f"/api/v1/enrollment-tokens/{token['info']['id']}")
    expected = {"unknown": "unknown enrollment token", "expired": "expired",
                "used_up": "used as many times", "revoked": "revoked"}[problem]
    with pytest.raises(EnrollmentError, match=expected):
        await enroll_device(server, admin, tmp_path / "agent", token=secret)
    assert not (tmp_path / "agent" / "enrollment.json").exists()
    assert not (tmp_path / "agent" / "device.key").exists()


async def test_wrong_fingerprint_is_refused_by_the_agent(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """The agent refuses to enroll with a server whose CA does not match the pin."""
    from endpoint_agent.enroll import enroll

    token = (await create_token(admin))["token"]
    state = AgentState(tmp_path / "agent")
    with pytest.raises(PinMismatch, match="refusing"):
        await asyncio.to_thread(enroll, state, server.base_url, token, "sha256:" + "0" * 64)
    assert not state.enrollment_file.exists()
    listed = await admin.get("/api/v1/devices")
    assert listed.json["items"] == []
    tokens = await admin.get("/api/v1/enrollment-tokens")
    assert tokens.json["items"][0]["uses"] == 0


async def test_agent_cannot_claim_another_devices_id(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Signing with one device's key while claiming another's id is refused for good."""
    state_a, _ = await enroll_device(server, admin, tmp_path / "a")
    _state_b, enrollment_b = await enroll_device(server, admin, tmp_path / "b")
    running = await start_agent(state_a, enrollment=enrollment_b)
    with pytest.raises(FatalConnectionError) as info:
        await asyncio.wait_for(running.task, 10)
    assert info.value.code == p.AUTH_FAILED
    await running.stop()


async def test_replayed_challenge_answer_is_refused(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A hello captured from one connection does not authenticate another."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with unauthenticated(server, state) as (first, challenge, key, enrollment):
        hello = signed_hello(first, challenge.nonce, key, enrollment.device_id)
    async with unauthenticated(server, state) as (second, _challenge, _key, _enrollment):
        await second.send(hello)  # signed for the first connection's challenge
        answer = p.decode_server_message(await second.recv())
        assert isinstance(answer, p.Error) and answer.code == p.AUTH_FAILED
        with pytest.raises(ConnectionClosed) as closed:
            await second.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == p.CLOSE_AUTH_FAILED


async def test_revoked_device_is_disconnected_at_once_and_refused(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Revoking a connected device closes it within a second and refuses it afterwards."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    await asyncio.wait_for(running.agent.connected.wait(), 10)
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    started = time.monotonic()
    resp = await admin.post(f"/api/v1/devices/{device_id}/revoke")
    assert resp.status == 200 and resp.json["revoked_at"] is not None
    with pytest.raises(FatalConnectionError) as info:
        await asyncio.wait_for(running.task, 1.0)
    assert time.monotonic() - started < 1.0
    assert info.value.code == p.REVOKED
    await running.stop()
    again = await start_agent(state)
    with pytest.raises(FatalConnectionError) as info:
        await asyncio.wait_for(again.task, 10)
    assert info.value.code == p.REVOKED
    await again.stop()


async def test_bad_messages_get_errors_and_others_keep_being_served(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """Malformed, unknown, invalid and oversized messages are answered; service goes on."""
    state_a, _ = await enroll_device(server, admin, tmp_path / "a")
    state_b, _ = await enroll_device(server, admin, tmp_path / "b")
    async with raw_agent(server, state_a) as (bad, _), raw_agent(server, state_b) as (good, _):
        cases = [
            (b"\xff\xfe garbage".decode("latin-1"), p.MALFORMED),
            ('{"type": "teleport", "id": "x1"}', p.UNKNOWN_TYPE),
            ('{"type": "heartbeat", "seq": "one"}', p.INVALID_MESSAGE),
            ('{"type": "heartbeat", "seq": 1, "extra": true}', p.INVALID_MESSAGE),
            ('{"type": "heartbeat", "seq": 1, "metrics": {"cpu_percent": 900, '
             '"memory_percent": 1, "disk_percent": 1}}', p.INVALID_MESSAGE),
            ('{"type": "hello", "protocol": 1, "device_id": "' + "0" * 8 + '-0000-0000-0000-'
             + "0" * 12 + '", "agent_version": "x", "capabilities": [], "signature": "AA"}',
             p.UNEXPECTED),
            ('{"type": "heartbeat", "seq": 1, "pad": "' + "x" * 70_000 + '"}', p.TOO_LARGE),
            ('{"type": "inventory", "id": "inv1", "sections": {"a": 1}, "digests": {}}',
             p.INVALID_MESSAGE),
        ]
        for frame, code in cases:
            await bad.send(frame)
            answer = p.decode_server_message(await asyncio.wait_for(bad.recv(), 5))
            assert isinstance(answer, p.Error), frame[:60]
            assert answer.code == code, (frame[:60], answer)
            await good.send(p.encode(p.Heartbeat(seq=7)))
            ack = p.decode_server_message(await asyncio.wait_for(good.recv(), 5))
            assert ack == p.HeartbeatAck(seq=7)
        await bad.send(b"\x00binary")
        answer = p.decode_server_message(await asyncio.wait_for(bad.recv(), 5))
        assert isinstance(answer, p.Error) and answer.code == p.BINARY_NOT_ALLOWED
        # The misbehaving connection itself still works.
        await bad.send(p.encode(p.Heartbeat(seq=1)))
        assert p.decode_server_message(await bad.recv()) == p.HeartbeatAck(seq=1)


async def test_message_over_the_frame_limit_closes_only_that_connection(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A frame beyond the 4 MiB limit closes its connection (1009); others are unaffected."""
    state_a, _ = await enroll_device(server, admin, tmp_path / "a")
    state_b, _ = await enroll_device(server, admin, tmp_path / "b")
    async with raw_agent(server, state_a) as (bad, _), raw_agent(server, state_b) as (good, _):
        await bad.send("x" * (p.MAX_MESSAGE_BYTES + 2048))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(bad.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await good.send(p.encode(p.Heartbeat(seq=3)))
        assert p.decode_server_message(await good.recv()) == p.HeartbeatAck(seq=3)


async def test_silent_agent_is_closed_as_idle_and_a_chatty_one_stays(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """The hub's idle sweep closes a link silent past idle_timeout, and only that one."""
    hub = server.app[HUB]
    state_a, _ = await enroll_device(server, admin, tmp_path / "a")
    state_b, _ = await enroll_device(server, admin, tmp_path / "b")
    async with raw_agent(server, state_a) as (silent, _), raw_agent(server, state_b) as (
            chatty, _):
        await eventually(lambda: len(hub.links) == 2)
        links = {link.uid: link for link in hub.links.values()}
        silent_uid = (await asyncio.to_thread(state_a.load))[0].device_id
        links[silent_uid].last_heard -= hub.idle_timeout + 1  # as if silent that long
        await chatty.send(p.encode(p.Heartbeat(seq=1)))
        assert isinstance(p.decode_server_message(await chatty.recv()), p.HeartbeatAck)
        assert hub.close_idle(asyncio.get_running_loop().time()) == 1
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(silent.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        await chatty.send(p.encode(p.Heartbeat(seq=2)))
        ack = p.decode_server_message(await asyncio.wait_for(chatty.recv(), 5))
        assert isinstance(ack, p.HeartbeatAck) and ack.seq == 2


async def test_inventory_change_sends_only_changed_sections(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """After the first full report, a changed section is the only one sent and recorded."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await eventually(lambda: (len(running.agent.stats.inventories_sent) == 1))
    finally:
        await running.stop()
    changed = dict(running.inventory)
    changed["softwares"] = [*changed["softwares"],
                            {"name": "htop", "version": "3.2.2", "arch": "amd64"}]
    second = await start_agent(state, inventory=changed)
    try:
        await eventually(lambda: (len(second.agent.stats.inventories_sent) == 1))
        assert second.agent.stats.inventories_sent == [["softwares"]]
    finally:
        await second.stop()
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    history = await admin.get(f"/api/v1/devices/{device_id}/changes")
    newest = history.json["items"][0]
    assert newest["section"] == "softwares"
    assert newest["change"]["added"] == [{"name": "htop", "arch": "amd64", "version": "3.2.2"}]
    rows = await server.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(
        inventory_changes)).scalar_one())
    assert rows == len(running.inventory) + 1
    found = await admin.get("/api/v1/devices?software=htop")
    assert len(found.json["items"]) == 1


async def test_reports_queued_offline_arrive_exactly_once_after_restart(
        tmp_path: Path) -> None:
    """Samples queued while the server is down arrive once each after it comes back."""
    data = tmp_path / "data"
    server = await start_server(data)
    admin = await server.login("admin", "admin-password-1")
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state, offline_sample=0.02)
    await asyncio.wait_for(running.agent.connected.wait(), 10)
    port = server.port
    await server.close()

    async def queued() -> bool:
        assert running.outbox is not None
        return await asyncio.to_thread(len, running.outbox) >= 5

    await eventually(queued)
    server = await start_server(data, port=port)
    try:
        await asyncio.wait_for(running.agent.connected.wait(), 10)

        async def drained() -> bool:
            assert running.outbox is not None
            return await asyncio.to_thread(len, running.outbox) == 0

        await eventually(drained, within=30)  # hundreds queued at 50/s while it was down
        await running.stop()
        acked = running.agent.stats.reports_acked
        assert acked >= 5
        stored = await server.db.read(lambda c: (
            c.execute(sa.select(sa.func.count()).select_from(agent_reports)).scalar_one(),
            c.execute(sa.select(sa.func.count()).select_from(device_metrics)
                      .where(device_metrics.c.at < sa.func.datetime("now", "+1 day"))
                      ).scalar_one()))
        assert stored[0] == acked
        assert stored[1] >= acked
    finally:
        await server.close()


async def test_duplicate_report_is_stored_once(server: RunningServer, admin: Client,
                                               tmp_path: Path) -> None:
    """A report sent twice (an ack lost on the way) is acknowledged twice, stored once."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    report = p.Report(id="r-1", kind="metrics", samples=[
        p.MetricsSample(at=time.time() - 60, metrics=p.Metrics(
            cpu_percent=1, memory_percent=2, disk_percent=3))])
    async with raw_agent(server, state) as (ws, _):
        for _ in range(2):
            await ws.send(p.encode(report))
            assert p.decode_server_message(await ws.recv()) == p.Ack(id="r-1")
    count = await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(device_metrics)).scalar_one())
    assert count == 1


async def test_unsupported_protocol_version_is_refused(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A hello with a protocol version the server does not speak is refused clearly."""
    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    async with unauthenticated(server, state) as (ws, challenge, key, enrollment):
        await ws.send(signed_hello(ws, challenge.nonce, key, enrollment.device_id,
                                   protocol=99))
        answer = p.decode_server_message(await ws.recv())
        assert isinstance(answer, p.Error) and answer.code == p.UNSUPPORTED_VERSION
        assert "99" in answer.message


async def test_presence_flush_writes_last_seen_and_metrics(
        server: RunningServer, admin: Client, tmp_path: Path) -> None:
    """A batched presence write stores a readable last-seen time and the newest metrics."""
    from server.devices.store import get_device_row
    from server.keys import HUB

    state, _ = await enroll_device(server, admin, tmp_path / "agent")
    running = await start_agent(state)
    try:
        await eventually(lambda: len(running.agent.stats.heartbeat_rtts) >= 2)
        await server.app[HUB].flush(force=True)
    finally:
        await running.stop()
    device_id = (await admin.get("/api/v1/devices")).json["items"][0]["id"]
    row = await server.db.read(lambda c: get_device_row(c, device_id))
    assert row.last_seen_at.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - row.last_seen_at).total_seconds()) < 60
    assert row.metrics["cpu_percent"] == 12.5
    assert row.agent_version == "0.1.0"
