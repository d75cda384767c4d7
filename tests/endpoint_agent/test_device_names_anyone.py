"""Acceptance (issue 13): a device that names every requester it can still speaks only for
the requester bound to it, and no mail leaves for anyone else."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.mail.tables import mail_outbox
from shared import protocol as p
from tests.support.agents import enroll_device, start_agent
from tests.support.server import ADMIN_PASSWORD, PASSWORD, RunningServer, start_server
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

PHISH = "Your mailbox is full. Re-enter your password at https://desk-login.example/reset"
PEOPLE = {  # user name: (role, address)
    "tina": ("technician", "tina@example.test"),
    "tom": ("technician", "tom@example.test"),
    "bob": ("requester", "bob@example.test"),  # the one bound to the device
    "carol": ("requester", "carol@example.test"),
    "dave.x": ("requester", "dave@example.test"),
}


def names(device_uid: str) -> list[str]:
    """Every requester a device could name: staff, other people, case variants, names that
    break the user-name rules, system accounts, look-alikes and nothing at all."""
    return [
        "admin", "Admin", "ADMIN", "tina", "Tina", "tom", "TOM",  # staff
        "carol", "Carol", "dave.x", "Dave.X",  # other requesters
        "bob", "Bob", "BOB", "bob.", "bob@x", "-bob", "bob-",  # the bound one, and near it
        "nobody", "root", "ghost.user", "a" * 64,  # nobody of that name
        ".squat@x", "_", "@", "..",  # against the user-name rules
        "system:monitoring", f"unknown:{device_uid}", "b" * 65,  # system names, too long
        "b\u043eb", "\u0430dmin", "\uff42\uff4f\uff42", "bob\u200b", "\u1d2e\u1d3c\u1d2e",
        "bob ", " bob", "bob\n", "bob\x00",  # unicode look-alikes and padding
        "",  # empty
    ]


async def test_a_device_naming_anyone_speaks_only_for_its_bound_requester(
        tmp_path: Path) -> None:
    """Only the bound requester ever gets a ticket or a mail; every other name either goes
    to the device's unknown user or is refused, and no account is created for it."""
    sink = SmtpSink()
    await sink.start()
    server: RunningServer | None = None
    try:
        server = await start_server(tmp_path / "data", **sink.settings())
        admin = await server.login("admin", ADMIN_PASSWORD)
        addr = {"admin": "admin@example.test"}
        assert (await admin.patch(f"/api/v1/users/{admin.user['id']}",
                                  json={"email": addr["admin"]})).status == 200
        ids = {"admin": admin.user["id"]}
        for name, (role, email) in PEOPLE.items():
            resp = await admin.post("/api/v1/users", json={
                "username": name, "display_name": name.title(), "role": role,
                "password": PASSWORD, "email": email})
            assert resp.status == 201, resp.body
            ids[name], addr[name] = resp.json["id"], email
        state, enrollment = await enroll_device(server, admin, tmp_path / "agent")
        device = (await admin.get("/api/v1/devices")).json["items"][0]
        bound = await admin.put(f"/api/v1/devices/{device['id']}/bindings/bob",
                                json={"user_id": ids["bob"]})
        assert bound.status == 200, bound.body
        before = {u["id"] for u in (await admin.get("/api/v1/users?limit=1000")).json["items"]}

        running = await start_agent(state)
        answers: dict[str, dict[str, Any]] = {}
        try:
            await eventually(running.agent.connected.is_set)
            for name in names(enrollment.device_id):
                answers[name] = await running.agent.submit_ticket(p.TicketRequest(
                    id=uuid.uuid4().hex, title=f"Mailbox full ({name!r})", description=PHISH,
                    requester_login=name))
                assert "queued" not in answers[name], name  # connected: filed or refused
            created = {n: a["ticket_id"] for n, a in answers.items() if "ticket_id" in a}
            # A login that is not another login's ticket: each name sees only its own.
            for name in ("carol", "Bob", "admin"):
                seen = await running.agent.ticket_statuses(name, [created["bob"]])
                assert seen == [], name
        finally:
            await running.stop()

        refused = {n for n, a in answers.items() if "error" in a}
        assert refused == {"system:monitoring", f"unknown:{enrollment.device_id}", "b" * 65,
                           "b\u043eb", "\u0430dmin", "\uff42\uff4f\uff42", "bob\u200b",
                           "\u1d2e\u1d3c\u1d2e", "bob ", " bob", "bob\n", "bob\x00", ""}
        after = (await admin.get("/api/v1/users?limit=1000")).json["items"]
        (placeholder,) = [u for u in after if u["id"] not in before]
        assert placeholder["username"] == f"unknown:{enrollment.device_id}"
        tickets = (await admin.get("/api/v1/tickets?limit=1000")).json["items"]
        assert len(tickets) == len(created)
        requester_of = {t["reported"]["login"]: t["requester"]["id"] for t in tickets}
        assert requester_of == {n: ids["bob"] if n == "bob" else placeholder["id"]
                                for n in created}

        async def all_sent() -> bool:
            rows = await server.db.read(lambda c: c.execute(
                sa.select(mail_outbox.c.recipient_id, mail_outbox.c.status)).all())
            return bool(rows) and all(r.status == "sent" for r in rows)

        await eventually(all_sent)
        rows = await server.db.read(lambda c: c.execute(
            sa.select(mail_outbox.c.recipient_id, mail_outbox.c.reason)).all())
        assert [(r.recipient_id, r.reason) for r in rows] == [(ids["bob"], "received")]
        assert [rcpt for _sender, rcpt in sink.envelopes] == [[addr["bob"]]]
    finally:
        if server is not None:
            await server.close()
        await sink.stop()
