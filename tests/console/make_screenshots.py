"""Take the console screenshots in docs/screenshots/ from a real server with sample data.

Run: .venv/bin/python -m tests.console.make_screenshots [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import math
import random
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from playwright.async_api import async_playwright, expect

from endpoint_agent import sampling
from endpoint_agent.inventory import collect
from server.db.schema import (
    attachments,
    device_metrics,
    devices,
    enrollment_tokens,
    inventory_changes,
    ticket_events,
    tickets,
)
from server.keys import HUB
from server.sla import tracking as sla_tracking
from server.sla.service import SlaEngine
from server.sla.tables import sla_clocks
from shared import protocol as p
from tests.console.screenshots_admin import admin_shots, seed_admin
from tests.support.agents import (
    RunningAgent,
    create_token,
    enroll_device,
    fake_inventory,
    start_agent,
)
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]

PEOPLE = [
    ("tina.moreau", "Tina Moreau", "technician", "tina.moreau@example.com", ["Service desk"]),
    ("omar.haddad", "Omar Haddad", "technician", "omar.haddad@example.com",
     ["Service desk", "Network"]),
    ("li.wei", "Li Wei", "admin", "li.wei@example.com", ["Network"]),
    ("rick.olsen", "Rick Olsen", "requester", "rick.olsen@example.com", []),
    ("anna.berg", "Anna Berg", "requester", "anna.berg@example.com", []),
    ("sam.jones", "Sam Jones", "requester", None, []),
]
GROUPS = [("Service desk", "First line: phones, accounts, printers"),
          ("Network", "Switches, Wi-Fi and VPN")]


async def seed(server: RunningServer) -> Client:
    """Create sample users and groups through the API; return the admin client."""
    admin = await server.login("admin", ADMIN_PASSWORD)
    group_ids = {}
    for name, description in GROUPS:
        resp = await admin.post("/api/v1/groups", json={"name": name, "description": description})
        group_ids[name] = resp.json["id"]
    for username, display, role, email, groups in PEOPLE:
        body: dict[str, Any] = {"username": username, "display_name": display, "role": role,
                                "password": PASSWORD}
        if email:
            body["email"] = email
        user = (await admin.post("/api/v1/users", json=body)).json
        for group in groups:
            await admin.put(f"/api/v1/groups/{group_ids[group]}/members/{user['id']}")
    await admin.patch("/api/v1/users/7", json={"active": False})
    return admin


# Other machines next to this one: host name, OS, version, users, load, minutes offline.
FLEET = [
    ("acc-laptop-07", "Ubuntu", "24.04.1 LTS (Noble Numbat)", ["anna.berg"], (8.0, 46.0, 61.0),
     None),
    ("rec-desk-02", "Fedora Linux", "40 (Workstation Edition)", ["rick.olsen"],
     (64.0, 81.0, 93.5), None),
    ("lab-ws-11", "Debian GNU/Linux", "12 (bookworm)", [], (3.0, 35.0, 48.0), 5),
    ("sales-nb-03", "Linux Mint", "21.3 (Virginia)", ["sam.jones"], (1.0, 52.0, 71.0), 60 * 26),
]


def fleet_inventory(hostname: str, os_name: str, os_version: str,
                    users: list[str]) -> dict[str, Any]:
    """Return a small inventory of another machine of the fleet."""
    inv = fake_inventory(hostname)
    inv["operatingsystem"] = {"name": os_name, "version": os_version, "arch": "x86_64",
                              "full_name": f"{os_name} {os_version}", "kernel_name": "linux"}
    inv["users"] = [{"login": u} for u in users]
    inv["bios"]["ssn"] = f"{hostname.upper().replace('-', '')[:6]}{random.randint(1000, 9999)}"
    return inv


def earlier(real: dict[str, Any]) -> dict[str, Any]:
    """Return this machine's inventory as it might have been a week ago (older packages)."""
    inv = copy.deepcopy(real)
    softwares = inv.get("softwares")
    if isinstance(softwares, list) and len(softwares) > 6:
        for item in softwares[1:4]:
            item["version"] = older_version(str(item.get("version", "1")))
        del softwares[5]
        softwares.append({"name": "libssl1.1", "version": "1.1.1w-0+deb11u1", "arch": "amd64",
                          "from": "dpkg", "publisher": "Debian OpenSSL Team",
                          "comments": "Secure Sockets Layer toolkit - shared libraries"})
    os_section = inv.get("operatingsystem")
    if isinstance(os_section, dict) and os_section.get("boot_time"):
        os_section["boot_time"] = "2026-11-20 08:12:41"
    return inv


def older_version(version: str) -> str:
    """Return a plausible previous version ("3.0.15-1" -> "3.0.14-1")."""
    for i in range(len(version) - 1, -1, -1):
        if version[i].isdigit() and version[i] != "0":
            return version[:i] + str(int(version[i]) - 1) + version[i + 1:]
    return version + "~old"


def history(device_id: int, now: dt.datetime, live: dict[str, float]) -> list[dict[str, Any]]:
    """Return a plausible day of one-minute samples ending at the live values.

    Office hours are busier, and the machine was switched off for a while in the morning.
    """
    rows = []
    rng = random.Random(7)
    cpu = 5.0
    for minute in range(24 * 60, 1, -1):
        at = now - dt.timedelta(minutes=minute)
        hour = at.hour + at.minute / 60
        office = math.sin((hour - 8) / 10 * math.pi) if 8 <= hour <= 18 else 0.0
        cpu += (3 + 28 * office - cpu) * 0.15 + rng.gauss(0, 1.5)
        cpu = max(0.5, min(100.0, cpu + (30 if rng.random() < 0.004 else 0)))
        if 6 * 60 < minute < 6 * 60 + 45:
            continue  # switched off for a while
        rows.append({"device_id": device_id, "at": at, "cpu_percent": cpu,
                     "memory_percent": live["memory_percent"] + 14 * office
                     + 1.5 * math.sin(minute / 53),
                     "disk_percent": live["disk_percent"] - 1.2 * minute / (24 * 60)})
    return rows


async def changes_after(admin: Client, device_id: int, count: int) -> bool:
    """Tell whether a device has more than ``count`` inventory changes."""
    resp = await admin.get(f"/api/v1/devices/{device_id}/changes")
    return len(resp.json["items"]) > count


async def seed_devices(server: RunningServer, admin: Client,
                       state_root: Path) -> tuple[list[RunningAgent], int]:
    """Enroll this machine (real inventory and load) and a small fleet; return the agents."""
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    office = await create_token(admin, note="Office PCs", max_uses=50,
                                group_id=groups["Service desk"], expires_in_hours=24 * 30)
    await create_token(admin, note="Lab machines", expires_in_hours=24 * 7)
    used = await create_token(admin, note="This machine", max_uses=1, expires_in_hours=48)
    pilot = await create_token(admin, note="Pilot rollout", expires_in_hours=1)
    revoked = await create_token(admin, note="Sent by mistake", expires_in_hours=24)
    await admin.delete(f"/api/v1/enrollment-tokens/{revoked['info']['id']}")

    agents = []
    real = await asyncio.to_thread(collect)
    await asyncio.to_thread(sampling.prime)
    state, _ = await enroll_device(server, admin, state_root / "this-machine", token=used["token"])
    # The agent first reports an older state of this machine, then the real one, so the
    # change timeline shows an upgrade that ends in what the machine really holds.
    reported = earlier(real)
    agents.append(await start_agent(state, inventory=reported, heartbeat=2.0,
                                    inventory_interval=0.5, sample=sampling.sample))
    for host, os_name, os_version, users, load, _ in FLEET:
        state, _ = await enroll_device(server, admin, state_root / host, token=office["token"])
        cpu, mem, disk = load
        metrics = p.Metrics(cpu_percent=cpu, memory_percent=mem, disk_percent=disk, load1=0.3)
        agents.append(await start_agent(state, inventory=fleet_inventory(
            host, os_name, os_version, users), heartbeat=1.0,
            sample=lambda m=metrics: m))  # type: ignore[misc]
    items: list[dict[str, Any]] = []

    async def all_reported() -> bool:
        nonlocal items
        items = (await admin.get("/api/v1/devices")).json["items"]
        if len(items) < len(agents) or not all(d["metrics"] for d in items):
            return False
        for d in items:
            inventory = (await admin.get(f"/api/v1/devices/{d['id']}")).json["inventory"]
            if "softwares" not in inventory:
                return False
        return True

    await eventually(all_reported, within=30)
    hub = server.app[HUB]
    now = dt.datetime.now(dt.UTC)
    device_ids = sorted(d["id"] for d in items)
    this = device_ids[0]
    first = (await admin.get(f"/api/v1/devices/{this}/changes")).json["items"]
    reported.clear()
    reported.update(real)
    await eventually(lambda: changes_after(admin, this, len(first)), within=20)
    await server.db.write(lambda c: c.execute(inventory_changes.update().where(
        inventory_changes.c.id <= max(i["id"] for i in first)).values(
        at=now - dt.timedelta(days=6, hours=3))))
    await server.db.write(lambda c: c.execute(devices.update().where(
        devices.c.id == this).values(enrolled_at=now - dt.timedelta(days=6, hours=3))))
    for device_id, (*_, offline_minutes) in zip(device_ids[1:], FLEET, strict=True):
        if offline_minutes is None:
            continue
        await agents[device_ids.index(device_id)].stop()
        await hub.flush(force=True)
        seen = now - dt.timedelta(minutes=offline_minutes)
        await server.db.write(lambda c, i=device_id, t=seen: c.execute(  # type: ignore[misc]
            devices.update().where(devices.c.id == i).values(last_seen_at=t)))
    await admin.patch(f"/api/v1/devices/{device_ids[0]}", json={"group_id": groups["Network"]})
    live = next(d for d in items if d["id"] == device_ids[0])["metrics"]
    await server.db.write(lambda c: c.execute(device_metrics.insert(),
                                              history(device_ids[0], now, live)))
    await server.db.write(lambda c: c.execute(enrollment_tokens.update().where(
        enrollment_tokens.c.id == pilot["info"]["id"]).values(
        expires_at=now - dt.timedelta(days=3))))
    return agents, device_ids[0]


CATEGORIES = [("Hardware", None), ("Software", None), ("Network", None), ("VPN", "Network"),
              ("Wi-Fi", "Network"), ("Accounts & access", None), ("Printing", None)]

def png(width: int, height: int, pixel: Any) -> bytes:
    """Encode an RGB image given by ``pixel(x, y) -> (r, g, b)`` as PNG (no imaging library)."""
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))
                   for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def faded_test_page(x: int, y: int) -> tuple[int, int, int]:
    """A photographed printer test page whose print fades out: the "blank pages" ticket."""
    paper = (238, 236, 230)
    if x < 12 or x >= 228 or y < 10 or y >= 150:
        return (196, 198, 204)  # the desk under the sheet
    line = (y - 24) // 12
    if 0 <= line < 9 and (y - 24) % 12 < 5:
        width = 200 - (line * 37) % 70
        if x - 24 < width:
            ink = max(0.0, 0.85 - line * 0.11 - (x - 24) / 400)
            return tuple(int(c * (1 - ink)) for c in paper)  # type: ignore[return-value]
    return paper


async def seed_tickets(server: RunningServer, admin: Client, device_id: int) -> dict[str, int]:
    """File a plausible week of tickets through the API; return ticket ids by key.

    Tickets are raised by requesters in the portal and worked by technicians, then their
    times are spread over the past days (the API stamps everything "now").
    """
    people = {u["username"]: u["id"] for u in (await admin.get("/api/v1/users")).json["items"]}
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    cats: dict[str, int] = {}
    for name, parent in CATEGORIES:
        body: dict[str, Any] = {"name": name}
        if parent:
            body["parent_id"] = cats[parent]
        cats[name] = (await admin.post("/api/v1/categories", json=body)).json["id"]
    rick = await server.login("rick.olsen")
    anna = await server.login("anna.berg")
    tina = await server.login("tina.moreau")
    omar = await server.login("omar.haddad")
    li = await server.login("li.wei")
    device_hosts = {d["hostname"]: d["id"]
                    for d in (await admin.get("/api/v1/devices")).json["items"]}
    ids: dict[str, int] = {}

    async def new(who: Client, key: str, **body: Any) -> int:
        resp = await who.post("/api/v1/tickets", json=body)
        assert resp.status == 201, resp.body
        ids[key] = resp.json["id"]
        return int(resp.json["id"])

    async def patch(who: Client, key: str, **body: Any) -> None:
        resp = await who.patch(f"/api/v1/tickets/{ids[key]}", json=body)
        assert resp.status == 200, resp.body

    async def say(who: Client, key: str, text: str, *, internal: bool = False) -> None:
        resp = await who.post(f"/api/v1/tickets/{ids[key]}/comments",
                              json={"body": text, "internal": internal})
        assert resp.status == 201, resp.body

    await new(rick, "monitor", title="Second monitor flickers after docking",
              description="When I put the laptop in the dock the left screen flickers "
                          "for a minute.", category_id=cats["Hardware"])
    await patch(tina, "monitor", assignee_id=people["tina.moreau"])
    await say(tina, "monitor", "A firmware update for the dock is out; I pushed it to your "
                               "machine. Please dock again and tell me if it still flickers.")
    await say(rick, "monitor", "Much better now, thanks!")
    await patch(tina, "monitor", status="resolved", resolution_code="fixed",
                resolution_note="Dock firmware updated to 1.4.2.")
    await rick.post(f"/api/v1/tickets/{ids['monitor']}/close")

    await new(anna, "outlook", title="Outlook asks for my password again and again",
              description="Since Monday Outlook shows the sign-in window every few minutes.",
              category_id=cats["Software"])
    await patch(omar, "outlook", assignee_id=people["omar.haddad"], status="in_progress")
    await say(omar, "outlook", "I cleared the cached credentials on the server side. Could "
                               "you restart Outlook once?")
    await patch(omar, "outlook", status="resolved", resolution_code="fixed",
                resolution_note="Stale token in the credential cache; cleared it.")

    await new(rick, "printer", title="Printer on the 2nd floor prints blank pages",
              description="Every job on the east printer comes out blank.\n"
                          "Other people on the floor have the same problem.",
              category_id=cats["Printing"])
    await patch(omar, "printer", assignee_id=people["omar.haddad"], impact=2, urgency=2,
                group_id=groups["Service desk"])
    await say(omar, "printer", "Thanks, Rick. Which printer exactly: PRN-2F-EAST or "
                               "PRN-2F-WEST? The name is on the sticker on the front.")
    await say(rick, "printer", "It is PRN-2F-EAST, next to the kitchen.")
    await say(omar, "printer", "Toner reports 0 % but was swapped last week; likely a bad "
                               "cartridge from the new batch.", internal=True)
    ids_printer = ids["printer"]
    form = aiohttp.FormData()
    form.add_field("file", png(240, 160, faded_test_page), filename="test-page.png",
                   content_type="image/png")
    resp = await rick.post(f"/api/v1/tickets/{ids_printer}/attachments", data=form)
    assert resp.status == 201, resp.body
    await patch(omar, "printer", status="resolved", resolution_code="fixed",
                resolution_note="Replaced the toner cartridge; the test page prints fine. "
                                "The faulty batch is being returned to the supplier.")

    await new(tina, "email", kind="incident", title="Email outage for the sales team",
              description="Sales cannot send or receive mail since 09:10. Webmail shows "
                          "'temporary server error'.", impact=1, urgency=1,
              requester_id=people["rick.olsen"], group_id=groups["Service desk"],
              assignee_id=people["omar.haddad"], tags=["email", "outage"],
              category_id=cats["Software"])
    await patch(omar, "email", status="in_progress")

    await new(anna, "vpn", title="VPN disconnects every few minutes when working from home",
              description="Since this morning the VPN drops every 5 to 10 minutes. I have to "
                          "reconnect each time and lose my session in the ERP.\n\n"
                          "I am on my home Wi-Fi; the office network is fine.",
              category_id=cats["VPN"])
    await patch(tina, "vpn", assignee_id=people["tina.moreau"], impact=2, urgency=1,
                group_id=groups["Network"], tags=["vpn", "home-office"],
                device_ids=[device_hosts["acc-laptop-07"]])
    await patch(tina, "vpn", status="in_progress")
    await say(tina, "vpn", "Hi Anna, thanks for the details. Could you tell me which Wi-Fi "
                           "band your laptop uses at home (2.4 or 5 GHz)? You can see it "
                           "under Settings > Wi-Fi > Properties.")
    await say(anna, "vpn", "It says 5 GHz, Wi-Fi 6.")
    log = aiohttp.FormData()
    log.add_field("file", "\n".join(
        f"2026-11-27 08:{m:02d}:1{m % 10} vpnc[2231]: rekey timeout, tunnel down (mtu 1500)"
        for m in range(2, 50, 7)).encode(), filename="vpn-client.log",
        content_type="text/plain")
    resp = await anna.post(f"/api/v1/tickets/{ids['vpn']}/attachments", data=log)
    assert resp.status == 201, resp.body
    await say(tina, "vpn", "Same pattern as the two tickets from accounting last week: "
                           "Wi-Fi 6 + client 5.2 drops on rekey. Linking to the problem "
                           "record; workaround is to set the MTU to 1380.", internal=True)
    await say(tina, "vpn", "Thanks! Please try this while we work on a permanent fix:\n"
                           "1. Open the VPN client settings\n"
                           "2. Set MTU to 1380\n"
                           "3. Reconnect\n\n"
                           "Let me know if the drops continue.")

    await new(li, "problem", kind="problem",
              title="Recurring VPN disconnects on Wi-Fi 6 networks",
              description="Several users on Wi-Fi 6 report VPN drops at rekey time.",
              impact=2, urgency=1, assignee_id=people["li.wei"], group_id=groups["Network"],
              tags=["vpn", "wifi"], category_id=cats["VPN"])
    await patch(li, "vpn", problem_id=ids["problem"])

    await new(rick, "fan", title="Laptop fan is loud and the machine gets very hot",
              description="It started after the last update.", urgency=2,
              category_id=cats["Hardware"])
    await patch(tina, "fan", assignee_id=people["tina.moreau"], status="pending")
    await say(tina, "fan", "Could you bring the laptop to the desk on Thursday?")

    await new(anna, "drive", kind="service_request",
              title="Access to the Finance shared drive",
              description="I joined the budget team and need read/write access to "
                          "\\\\files\\finance.", category_id=cats["Accounts & access"])
    await new(anna, "wifi", title="Wi-Fi in meeting room B is very slow",
              description="Video calls freeze; speed test shows 2 Mbit/s.", urgency=2,
              category_id=cats["Wi-Fi"])
    await new(rick, "inkscape", kind="service_request", title="Install Inkscape on my workstation",
              description="For editing the new brochure.", category_id=cats["Software"])

    # Spread the story over the past days: each ticket starts at its age and its events
    # follow at even steps (attachments keep their event's time, which links them).
    ages = {"monitor": 6 * 24, "outlook": 4 * 24, "printer": 50, "email": 5.5, "vpn": 27,
            "problem": 20, "fan": 30, "drive": 3, "wifi": 1.4, "inkscape": 0.3}
    now = dt.datetime.now(dt.UTC)

    def backdate(conn: Any) -> None:
        for key, hours in ages.items():
            tid = ids[key]
            rows = conn.execute(sa.select(ticket_events.c.id).where(
                ticket_events.c.ticket_id == tid).order_by(ticket_events.c.id)).all()
            start = now - dt.timedelta(hours=hours)
            step = dt.timedelta(hours=hours) / (len(rows) + 1)
            at = start
            for i, row in enumerate(rows):
                at = start + step * i
                conn.execute(ticket_events.update().where(ticket_events.c.id == row.id)
                             .values(at=at))
                conn.execute(attachments.update().where(attachments.c.event_id == row.id)
                             .values(created_at=at))
            values: dict[str, Any] = {"created_at": start, "updated_at": at}
            current = conn.execute(sa.select(tickets).where(tickets.c.id == tid)).one()
            if current.resolved_at is not None:
                values["resolved_at"] = at
            if current.closed_at is not None:
                values["closed_at"] = at
            conn.execute(tickets.update().where(tickets.c.id == tid).values(**values))

    await server.db.write(backdate)
    return ids


async def seed_catalog(server: RunningServer, admin: Client) -> int:
    """Add request types; Anna asks for a laptop that waits for Li's approval; return it."""
    people = {u["username"]: u["id"] for u in (await admin.get("/api/v1/users")).json["items"]}
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    laptop = await admin.post("/api/v1/catalog", json={
        "name": "New laptop", "description": "A standard laptop for a new or current employee, "
        "with docking station and headset.",
        "fields": [
            {"name": "model", "label": "Model", "type": "select", "required": True,
             "options": ["ThinkPad T14 (14\")", "ThinkPad X1 Carbon (14\")", "MacBook Air (13\")"]},
            {"name": "for_whom", "label": "For whom", "type": "text", "required": True},
            {"name": "reason", "label": "Why is it needed", "type": "textarea", "required": True},
            {"name": "monitor", "label": "Also an external monitor", "type": "checkbox"}],
        "approval": "approver", "approver_id": people["li.wei"],
        "group_id": groups["Service desk"]})
    assert laptop.status == 201, laptop.body
    for name, description in (("Software installation", "Install licensed software from the "
                                "catalogue on your computer."),
                               ("Access to a shared folder", "Read or write access to a "
                                "department share.")):
        made = await admin.post("/api/v1/catalog", json={
            "name": name, "description": description, "group_id": groups["Service desk"],
            "fields": [{"name": "what", "label": "Which one", "type": "text", "required": True}]})
        assert made.status == 201, made.body
    anna = await server.login("anna.berg")
    asked = await anna.post(f"/api/v1/catalog/{laptop.json['id']}/requests", json={
        "values": {"model": "ThinkPad T14 (14\")", "for_whom": "Jonas Weber (starts 1 Dec)",
                   "reason": "New colleague in accounting.", "monitor": True}})
    assert asked.status == 201, asked.body
    return int(asked.json["id"])


KB_ARTICLES = [
    ("Network", "VPN", "Connect to the VPN from home",
     "Start the VPN client, sign in with your token, and check the padlock.",
     "## Before you start\n\nYou need the **Deskmate VPN** client (installed on every laptop) "
     "and your authenticator app.\n\n## Steps\n\n1. Open *VPN client* from the tray.\n"
     "2. Choose **Office gateway** and press **Connect**.\n3. Enter the six-digit code "
     "from your authenticator.\n\nWhen the padlock turns green you are connected.\n\n"
     "| Symptom | What to do |\n|---|---|\n| Code refused | Wait for the next code |\n"
     "| Connects, no mail | Restart Outlook |", ["vpn", "remote"], "public"),
    ("Printing", None, "Printer shows a paper jam but the tray is empty",
     "Clear the rear roller and switch the printer off and on.",
     "Scraps of paper behind the **rear door** trigger the jam sensor.\n\n1. Open the "
     "rear door.\n2. Remove any scraps from the roller.\n3. Switch the printer off and on.",
     ["printer"], "public"),
    ("Accounts", None, "Reset your password",
     "Use the self-service portal; the new password works everywhere within 5 minutes.",
     "Open the password portal and choose *Forgot password*. The new password reaches "
     "Wi-Fi, VPN and mail within **5 minutes**.", ["password", "account"], "public"),
    ("Network", "VPN", "VPN concentrator: failover runbook",
     "Internal: switching the VPN concentrators over by hand.",
     "Only for the network team.\n\n```\nvpnctl failover --to secondary\n```",
     ["vpn"], "internal"),
]


async def seed_kb(admin: Client) -> dict[str, int]:
    """Create knowledge-base categories, articles, a second version and required reading."""
    cats: dict[str, int] = {}
    for name in ("Network", "Printing", "Accounts"):
        cats[name] = (await admin.post("/api/v1/kb/categories", json={"name": name})).json["id"]
    cats["VPN"] = (await admin.post("/api/v1/kb/categories", json={
        "name": "VPN", "parent_id": cats["Network"]})).json["id"]
    ids: dict[str, int] = {}
    for top, sub, title, summary, body, tags, visibility in KB_ARTICLES:
        resp = await admin.post("/api/v1/kb/articles", json={
            "title": title, "summary": summary, "body": body, "tags": tags,
            "visibility": visibility, "status": "published",
            "category_id": cats[sub or top]})
        ids.setdefault(tags[0], resp.json["id"])  # the first article of each tag
    await admin.patch(f"/api/v1/kb/articles/{ids['vpn']}", json={
        "body": KB_ARTICLES[0][4].replace("six-digit code", "six-digit code (or tap *Approve*)")})
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    await admin.post(f"/api/v1/kb/articles/{ids['vpn']}/required-reading",
                     json={"group_id": groups["Service desk"]})
    return ids


async def seed_sla(admin: Client) -> None:
    """Create an office calendar and SLA policies, before the tickets that they time."""
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    office = (await admin.post("/api/v1/sla/calendars", json={
        "name": "Berlin office", "tz": "Europe/Berlin",
        "hours": {day: ["08:00-12:00", "13:00-18:00"] for day in ("mon", "tue", "wed", "thu")}
        | {"fri": ["08:00-15:00"]},
        "holidays": ["2026-12-24", "2026-12-31"], "recurring_holidays": ["01-01", "12-25",
                                                                        "12-26"]})).json
    for body in (
            {"name": "Major incident", "calendar_id": 1, "conditions": {
                "kinds": ["incident"], "priorities": [1, 2]},
             "targets": {"first_response": 15, "resolution": 240, "next_update": 60},
             "warn_percents": [50, 75],
             "escalations": [{"on": "warning", "action": "notify", "percent": 75},
                             {"on": "breach", "action": "reassign",
                              "group_id": groups["Network"]}]},
            {"name": "Service requests", "calendar_id": office["id"],
             "conditions": {"kinds": ["service_request"]},
             "targets": {"first_response": 480, "resolution": 2400}},
            {"name": "Standard", "calendar_id": 1, "fallback": True,
             "targets": {"first_response": 240, "resolution": 4320},
             "escalations": [{"on": "breach", "action": "notify", "clock": "resolution"}]}):
        resp = await admin.post("/api/v1/sla/policies", json=body)
        assert resp.status == 201, resp.body


async def backdate_clocks(server: RunningServer) -> None:
    """Move each ticket's SLA clocks back with the ticket, then fire what fell due."""
    columns = ("started_at", "running_since", "paused_at", "due_at", "breached_at",
               "stopped_at", "next_event_at")

    def shift(conn: Any) -> None:
        created = dict(conn.execute(sa.select(tickets.c.id, tickets.c.created_at)).all())
        first = dict(conn.execute(sa.select(sla_clocks.c.ticket_id,
                                            sa.func.min(sla_clocks.c.started_at))
                                  .group_by(sla_clocks.c.ticket_id)).all())
        for row in conn.execute(sa.select(sla_clocks)).all():
            delta = created[row.ticket_id] - first[row.ticket_id]
            conn.execute(sla_clocks.update().where(sla_clocks.c.id == row.id).values({
                c: getattr(row, c) + delta for c in columns if getattr(row, c) is not None}))
        sla_tracking.refresh_due(conn, created)

    await server.db.write(shift)
    await SlaEngine(server.app).run_pass()


async def log_in(page: Any, username: str, password: str) -> None:
    await page.goto("/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


# The main pages on a phone (390x844), taken as "<name>-phone.png": who, and what.
PHONE_SHOTS = (("admin", ADMIN_PASSWORD, ["desk-phone", "menu-phone", "device-phone",
                                          "users-phone"]),
               ("tina.moreau", PASSWORD, ["ticket-phone", "kb-article-phone"]),
               ("rick.olsen", PASSWORD, ["portal-phone", "portal-new-phone"]))


async def phone_shots(browser: Any, base_url: str, out: Path, only: set[str], *,
                      ticket_ids: dict[str, int], kb_ids: dict[str, int],
                      device_id: int) -> None:
    """Take the main pages at 390x844, the whole page's height, beside the laptop shots."""
    for who, password, shots in PHONE_SHOTS:
        shots = [s for s in shots if not only or s in only]
        if not shots:
            continue
        context = await browser.new_context(
            ignore_https_errors=True, base_url=base_url, viewport={"width": 390, "height": 844},
            device_scale_factor=2, is_mobile=True, has_touch=True)
        page = await context.new_page()
        await log_in(page, who, password)
        for shot in shots:
            full = True
            if shot == "desk-phone":
                await page.goto("/#/desk")
                await page.get_by_role("tab", name="All open").click()
                await expect(page.get_by_role("table", name="Tickets").locator("tbody tr")
                             ).to_have_count(8)
            elif shot == "menu-phone":
                await page.goto("/#/desk")
                await page.get_by_role("button", name="Menu").click()
                await expect(page.get_by_role("navigation", name="Main")).to_be_visible()
                full = False
            elif shot == "device-phone":
                await page.goto(f"/#/devices/{device_id}")
                await expect(page.locator(".chart-series path").first).to_be_visible()
            elif shot == "users-phone":
                await page.goto("/#/admin/users")
                await expect(page.locator("tr[data-user='sam.jones']")).to_be_visible()
            elif shot == "ticket-phone":
                await page.goto(f"/#/desk/tickets/{ticket_ids['vpn']}")
                await expect(page.locator(".tl-internal")).to_be_visible()
            elif shot == "kb-article-phone":
                await page.goto(f"/#/kb/articles/{kb_ids['vpn']}")
                await expect(page.locator(".kb-body table")).to_be_visible()
            elif shot == "portal-phone":
                await page.goto(f"/#/portal/tickets/{ticket_ids['printer']}")
                await expect(page.get_by_role("region", name="Resolved")).to_be_visible()
            elif shot == "portal-new-phone":
                await page.goto("/#/portal/new")
                form = page.get_by_role("form", name="New ticket")
                await form.get_by_label("Title").fill("Printer says paper jam")
                await form.get_by_label("Description").fill(
                    "The tray is empty but the printer on floor 2 keeps saying there is a "
                    "paper jam.")
                await expect(page.locator(".kb-suggestion").first).to_be_visible()
                await page.evaluate("document.activeElement.blur()")
            await page.screenshot(path=out / f"{shot}.png", full_page=full)
        await context.close()


async def main(out: Path, only: set[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # The public URL is what install commands show; agents here still use the real port.
        server = await start_server(Path(tmp) / "data", public_url="https://desk.example.org:8443")
        agents: list[RunningAgent] = []
        try:
            admin = await seed(server)
            agents, device_id = await seed_devices(server, admin, Path(tmp) / "agents")
            await seed_sla(admin)
            ticket_ids = await seed_tickets(server, admin, device_id)
            await backdate_clocks(server)
            ticket_ids["laptop"] = await seed_catalog(server, admin)
            kb_ids = await seed_kb(admin)
            await seed_admin(admin)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium_path(),
                                                   headless=True, args=CHROMIUM_ARGS)
                for who, password, shots in (
                        ("admin", ADMIN_PASSWORD, ["login", "desk-admin", "users", "groups",
                                                   "account", "devices", "device", "enrollment",
                                                   "sla-admin"]),
                        ("tina.moreau", PASSWORD, ["ticket", "merge", "kb", "kb-article",
                                                   "kb-edit", "kb-history", "kb-reading",
                                                   "sla-queue", "sla-ticket"]),
                        ("rick.olsen", PASSWORD, ["portal", "catalog-request",
                                                  "portal-deflection"]),
                        ("li.wei", PASSWORD, ["approval"])):
                    shots = [s for s in shots if not only or s in only]
                    if not shots:
                        continue
                    context = await browser.new_context(
                        ignore_https_errors=True, base_url=server.base_url,
                        viewport={"width": 1280, "height": 760}, device_scale_factor=1,
                        locale="en-US")
                    page = await context.new_page()
                    if "login" in shots:
                        await page.goto("/")
                        await page.get_by_label("User name").fill("admin")
                        await page.screenshot(path=out / "login.png")
                    await log_in(page, who, password)
                    for shot in shots:
                        if shot == "desk-admin":
                            await page.get_by_role("tab", name="All open").click()
                            rows = page.get_by_role("table", name="Tickets").locator("tbody tr")
                            await expect(rows).to_have_count(8)  # with the laptop request
                            await expect(page.locator(".live-state")).to_have_attribute(
                                "data-state", "live")
                            await page.evaluate("document.activeElement.blur()")
                            for _ in range(3):  # the keyboard selection, as a technician sees it
                                await page.keyboard.press("j")
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "desk-admin.png")
                        elif shot == "sla-queue":
                            await page.goto("/#/desk")
                            await page.get_by_role("tab", name="All open").click()
                            await page.locator("#queue-sort").select_option("due")
                            rows = page.get_by_role("table", name="Tickets").locator("tbody tr")
                            await expect(rows.first.locator("[data-sla]")).to_have_attribute(
                                "data-sla", "breached")
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "sla-queue.png")
                        elif shot == "sla-ticket":
                            await page.goto(f"/#/desk/tickets/{ticket_ids['email']}")
                            await expect(page.locator(".panel-sla .sla-clock").first
                                         ).to_be_visible()
                            await expect(page.get_by_role("list", name="Timeline")
                                         ).to_contain_text("SLA breached")
                            height = await page.evaluate(
                                "Math.ceil(document.querySelector('.panel-sla')"
                                ".getBoundingClientRect().bottom + 24)")
                            await page.set_viewport_size({"width": 1280,
                                                          "height": max(1000, height)})
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "sla-ticket.png")
                            await page.set_viewport_size({"width": 1280, "height": 760})
                        elif shot == "sla-admin":
                            await page.set_viewport_size({"width": 1280, "height": 900})
                            await page.goto("/#/admin/sla")
                            await expect(page.get_by_role("table", name="SLA policies").locator(
                                "tbody tr")).to_have_count(3)
                            await expect(page.get_by_role("table", name="Business calendars")
                                         .locator("tbody tr")).to_have_count(2)
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "sla-admin.png")
                            await page.set_viewport_size({"width": 1280, "height": 760})
                        elif shot == "ticket":
                            await page.set_viewport_size({"width": 1280, "height": 1420})
                            await page.goto(f"/#/desk/tickets/{ticket_ids['vpn']}")
                            await expect(page.locator(".tl-internal")).to_be_visible()
                            device_link = page.get_by_role("link", name="acc-laptop-07")
                            await expect(device_link).to_be_visible()
                            await page.get_by_label("Message", exact=True).fill(
                                "The MTU change is rolled out to your laptop by the agent; "
                                "no need to do it by hand.")
                            await page.evaluate("window.scrollTo(0, 0)")
                            await page.screenshot(path=out / "ticket.png")
                        elif shot == "merge":
                            await page.set_viewport_size({"width": 1280, "height": 900})
                            await page.goto(f"/#/desk/tickets/{ticket_ids['email']}")
                            await expect(page.locator(".matrix-result")).to_be_visible()
                            await page.evaluate("document.activeElement.blur()")
                            await page.keyboard.press("m")
                            await page.get_by_role("searchbox", name="Find a ticket").fill(
                                "outlook password")
                            await expect(page.get_by_role("list", name="Tickets found")
                                         ).to_contain_text("Outlook asks for my password")
                            await page.screenshot(path=out / "merge.png")
                            await page.keyboard.press("Escape")
                        elif shot == "catalog-request":
                            await page.set_viewport_size({"width": 1280, "height": 1000})
                            await page.goto("/#/portal/new")
                            form = page.get_by_role("form", name="New ticket")
                            await form.get_by_text("I need something").click()
                            await form.get_by_label("Request type").select_option(
                                label="New laptop")
                            await form.get_by_label("Model").select_option(index=2)
                            await form.get_by_label("For whom").fill("Myself")
                            await form.get_by_label("Why is it needed").fill(
                                "My laptop is six years old and the battery lasts 20 minutes.")
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "catalog-request.png")
                        elif shot == "approval":
                            await page.set_viewport_size({"width": 1280, "height": 900})
                            await page.goto(f"/#/desk/tickets/{ticket_ids['laptop']}")
                            await expect(page.get_by_role("button", name="Approve\u2026")
                                         ).to_be_visible()
                            await page.mouse.move(0, 0)
                            await page.screenshot(path=out / "approval.png")
                        elif shot == "users":
                            await page.goto("/#/admin/users")
                            await expect(page.locator("tr[data-user='sam.jones']")).to_be_visible()
                            await page.screenshot(path=out / "users.png")
                        elif shot == "groups":
                            await page.goto("/#/admin/groups/1")
                            await expect(page.get_by_role("table", name="Members")).to_be_visible()
                            await page.screenshot(path=out / "groups.png")
                        elif shot == "account":
                            await page.goto("/#/account")
                            await page.get_by_label("Token name").fill("inventory export")
                            await page.get_by_role("button", name="Create token").click()
                            await expect(page.get_by_label("New API token")).to_be_visible()
                            await page.screenshot(path=out / "account.png")
                        elif shot == "portal":
                            await page.goto(f"/#/portal/tickets/{ticket_ids['printer']}")
                            await expect(page.get_by_role("region",
                                                          name="Resolved")).to_be_visible()
                            await expect(page.locator(".tl-thumb img")).to_be_visible()
                            await page.wait_for_function(
                                "document.querySelector('.tl-thumb img').complete")
                            await page.set_viewport_size({"width": 1280, "height": 1150})
                            await page.screenshot(path=out / "portal.png")
                        elif shot == "kb":
                            await page.goto("/#/kb")
                            await page.get_by_label("Search articles").fill("vpn")
                            await expect(page.locator(".kb-result mark").first).to_be_visible()
                            await page.screenshot(path=out / "kb.png")
                        elif shot == "kb-article":
                            await page.goto(f"/#/kb/articles/{kb_ids['vpn']}")
                            await expect(page.locator(".kb-body table")).to_be_visible()
                            await page.set_viewport_size({"width": 1280, "height": 1000})
                            await page.screenshot(path=out / "kb-article.png")
                        elif shot == "kb-edit":
                            await page.goto(f"/#/kb/articles/{kb_ids['printer']}/edit")
                            await expect(page.locator(".kb-preview ol")).to_be_visible()
                            await page.screenshot(path=out / "kb-edit.png")
                        elif shot == "kb-history":
                            await page.goto(f"/#/kb/articles/{kb_ids['vpn']}/history")
                            await expect(page.locator(".diff-add").first).to_be_visible()
                            await page.screenshot(path=out / "kb-history.png")
                        elif shot == "kb-reading":
                            await page.goto("/#/kb/reading")
                            await expect(page.locator(".kb-reading-table")).to_be_visible()
                            await page.screenshot(path=out / "kb-reading.png")
                        elif shot == "portal-deflection":
                            await page.set_viewport_size({"width": 1280, "height": 1000})
                            await page.goto("/#/portal/new")
                            form = page.get_by_role("form", name="New ticket")
                            await form.get_by_label("Title").fill("Printer says paper jam")
                            await form.get_by_label("Description").fill(
                                "The tray is empty but the printer on floor 2 keeps "
                                "saying there is a paper jam.")
                            await expect(page.locator(".kb-suggestion").first).to_be_visible()
                            await page.screenshot(path=out / "portal-deflection.png")
                        elif shot == "devices":
                            await page.goto("/#/devices")
                            await expect(page.locator("tr[data-id]")).to_have_count(
                                len(FLEET) + 1)
                            # This machine's load is real: let the page's own rendering
                            # settle and the list refresh once before taking the picture.
                            await page.wait_for_timeout(11_000)
                            await page.screenshot(path=out / "devices.png")
                        elif shot == "device":
                            await page.goto(f"/#/devices/{device_id}")
                            await expect(page.locator(".chart-series path").first).to_be_visible()
                            await page.wait_for_timeout(6_000)  # a live refresh at rest
                            await page.screenshot(path=out / "device.png")
                        elif shot == "enrollment":
                            await page.goto("/#/admin/enrollment")
                            await page.get_by_role("button", name="New token").click()
                            dialog = page.get_by_role("dialog")
                            await dialog.get_by_label("Max uses").fill("25")
                            await dialog.get_by_label("Group").select_option(label="Service desk")
                            await dialog.get_by_label("Note").fill("Accounting laptops")
                            await dialog.get_by_role("button", name="Create token").click()
                            await expect(page.get_by_label("Install command")).to_be_visible()
                            await page.screenshot(path=out / "enrollment.png")
                    await context.close()
                await phone_shots(browser, server.base_url, out, only, ticket_ids=ticket_ids,
                                  kb_ids=kb_ids, device_id=device_id)
                await admin_shots(browser, server.base_url, out, only, log_in)
                await browser.close()
        finally:
            for agent in agents:
                await agent.stop()
            await server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated shot names (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out, {s for s in args.only.split(",") if s}))
