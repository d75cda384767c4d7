"""Every console route with real ids, for the tests that walk them all.

One small desk is seeded through the API (a technician, a requester, a group, tickets
with replies, an image and a resolution, a device with a running agent and one whose
agent has stopped (offline, last seen a day ago), a remote session, knowledge-base
articles, a token, a health check, an SLA policy); then
:func:`paths_for` lists the pages each role can open, covering every route of
console/static/app.js (:func:`console_routes` reads them there, so a new route that no
walk covers fails tests/console/test_layout.py). The layout and accessibility tests use
it, and so can any other walk (a language's, say): :func:`visit` opens a page and waits
until it has settled, :func:`layout_problems` and :func:`axe_violations` judge it, and
:func:`check_every_page` opens each page once and runs every check on it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from server.db.schema import devices
from server.keys import HUB
from server.remote import store as remote_store
from tests.support.agents import (
    RunningAgent,
    create_token,
    enroll_device,
    fake_inventory,
    start_agent,
)
from tests.support.browser import open_page
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
APP_JS = ROOT / "console" / "static" / "app.js"
AXE_JS = Path(__file__).with_name("vendor") / "axe.min.js"
CHECKS = Path(__file__).with_name("walk_checks.js").read_text(encoding="utf-8")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORDS = {"admin": ADMIN_PASSWORD, "tina": PASSWORD, "rick": PASSWORD}
ROLE_USERS = {"admin": "admin", "technician": "tina", "requester": "rick"}

# Long on purpose: the top bar must cut it, the lists must wrap it.
LONG_KB_TITLE = ("Connect to the office VPN from home when the client keeps asking for a "
                 "new certificate after every restart of the laptop")


@dataclass(frozen=True)
class Words:
    """What people typed into the seeded desk (names, titles, replies), in one language.

    English for the layout walks; the Indonesian walk seeds :data:`INDONESIAN`, so that
    what people wrote is never mistaken for console text left in English.
    """

    group: tuple[str, str] = ("Service desk", "First line: phones, accounts, printers")
    token_note: str = "Office laptops"
    check: str = "Disk"
    policy: str = "Standard"
    ticket: tuple[str, str] = ("Printer on the 2nd floor prints blank pages",
                               "Every job on the east printer comes out blank.\n"
                               "Other people on the floor have the same problem.")
    replies: tuple[str, str, str] = ("Which printer exactly: PRN-2F-EAST or PRN-2F-WEST?",
                                     "It is PRN-2F-EAST, next to the kitchen.",
                                     "Toner reports 0 % but was swapped last week.")
    resolved: tuple[str, str, str] = (
        "Outlook asks for my password again and again",
        "Since Monday Outlook shows the sign-in window every few minutes.",
        "Stale token in the credential cache; cleared it.")
    remote: tuple[str, str] = ("Check the printer queue", "Remote session ended.")
    kb_category: str = "Network"
    article: tuple[str, str, str] = (
        LONG_KB_TITLE, "Renew the certificate once; the client keeps it.",
        "## Steps\n\n1. Open *VPN client* from the tray.\n2. Choose **Renew**.\n")
    table: str = "| Symptom | What to do |\n|---|---|\n| Code refused | Wait for the next |"


ENGLISH = Words()
INDONESIAN = Words(
    group=("Layanan bantuan", "Lini pertama: telepon, akun, pencetak"),
    token_note="Laptop kantor", check="Cakram", policy="Baku",
    ticket=("Pencetak di lantai 2 mencetak halaman kosong",
            "Setiap cetakan di pencetak timur keluar kosong.\n"
            "Rekan lain di lantai ini mengalami hal yang sama."),
    replies=("Pencetak yang mana: PRN-2F-EAST atau PRN-2F-WEST?",
             "PRN-2F-EAST, dekat dapur.",
             "Toner tercatat 0 % padahal diganti minggu lalu."),
    resolved=("Outlook terus-menerus meminta kata sandi saya",
              "Sejak Senin Outlook menampilkan jendela masuk setiap beberapa menit.",
              "Token lama di tembolok kredensial; sudah dihapus."),
    remote=("Periksa antrean pencetak", "Sesi jarak jauh selesai."),
    kb_category="Jaringan",
    article=("Menyambung ke VPN kantor dari rumah ketika klien terus meminta sertifikat baru "
             "setiap kali laptop dinyalakan ulang",
             "Perbarui sertifikat sekali; klien menyimpannya.",
             "## Langkah\n\n1. Buka *klien VPN* dari baki.\n2. Pilih **Perbarui**.\n"),
    table="| Gejala | Tindakan |\n|---|---|\n| Kode ditolak | Tunggu kode berikutnya |")


@dataclass
class Desk:
    """The ids of what :func:`seed` made."""

    ticket: int = 0  # open, with public and internal replies, an image and a device
    resolved: int = 0  # resolved, waiting for the requester to confirm or reopen
    device: int = 0  # online, its agent running
    offline: int = 0  # its agent stopped: offline, last seen a day ago
    session: int = 0  # an ended remote session on ``ticket``
    article: int = 0  # public, published, two versions, required reading
    group: int = 0
    agents: list[RunningAgent] = field(default_factory=list)

    async def stop(self) -> None:
        """Stop the agents :func:`seed` started."""
        for agent in self.agents:
            await agent.stop()


def console_routes() -> list[re.Pattern[str]]:
    """Return the path patterns of the console's router (console/static/app.js)."""
    source = APP_JS.read_text(encoding="utf-8")
    found = re.findall(r"\{ path: /(.+?)/, roles:", source)
    assert found, "no routes found in app.js"
    return [re.compile(pattern.replace("\\/", "/")) for pattern in found]


def paths_for(desk: Desk) -> dict[str, list[str]]:
    """Return the pages to walk per role: every route for the admin, the rest as each sees."""
    d = desk
    staff = [
        "/desk", f"/desk/tickets/{d.ticket}", f"/desk/tickets/{d.resolved}",
        f"/desk/remote/{d.session}", f"/desk/remote/{d.session}/recording",
        "/devices", f"/devices/{d.device}", f"/devices/{d.offline}",
        f"/devices/{d.device}/hardware",
        f"/devices/{d.device}/network", f"/devices/{d.device}/software",
        f"/devices/{d.device}/changes",
        "/kb", f"/kb/articles/{d.article}", "/kb/new", f"/kb/articles/{d.article}/edit",
        f"/kb/articles/{d.article}/history", "/kb/reading",
        "/portal", "/portal/new", "/account", "/desk/canned", "/desk/problems",
        "/desk/satisfaction", "/reports", "/desk/scripts"]
    admin = ["/admin/users", "/admin/groups", f"/admin/groups/{d.group}", "/admin/sla",
             "/admin/enrollment", "/admin/health", "/admin/catalog", "/admin/categories",
             "/admin/mail", "/admin/mail/templates", "/admin/mail/incoming",
             "/admin/branding", "/admin/directories", "/admin/sso",
             "/account/confirm-email/not-a-real-link-token", "/no/such/page"]
    requester = ["/portal", "/portal/new", f"/portal/new/{d.device}", f"/portal/tickets/{d.ticket}",
                 f"/portal/tickets/{d.resolved}", "/kb", f"/kb/articles/{d.article}",
                 "/kb/reading", "/account", "/desk"]
    return {"admin": staff + admin,
            "technician": ["/desk", f"/desk/tickets/{d.ticket}", f"/devices/{d.offline}",
                           "/kb", "/account",
                           "/desk/canned", "/desk/problems", "/reports",
                           "/admin/users"],
            "requester": requester}


def png(width: int, height: int) -> bytes:
    """Return a small grey PNG (a photo a requester attaches)."""
    import struct
    import zlib

    raw = b"".join(b"\x00" + bytes([200, 200, 200]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def _ok(resp: Any) -> Any:
    assert 200 <= resp.status < 300, resp.body
    return resp.json if resp.body else None


async def seed(server: RunningServer, admin: Client, state_root: Path,
               words: Words = ENGLISH) -> Desk:
    """Make a small desk through the API (and two agents); return what the walk opens."""
    desk = Desk()
    w = words
    tech = await server.create_user(admin, "tina", "technician")
    rick = await server.create_user(admin, "rick", "requester")
    await admin.patch(f"/api/v1/users/{tech['id']}", json={"display_name": "Tina Moreau"})
    await admin.patch(f"/api/v1/users/{rick['id']}", json={"display_name": "Rick Olsen"})
    group = await _ok(await admin.post("/api/v1/groups", json={
        "name": w.group[0], "description": w.group[1]}))
    desk.group = group["id"]
    await _ok(await admin.put(f"/api/v1/groups/{desk.group}/members/{tech['id']}"))
    tina, requester = await server.login("tina"), await server.login("rick")

    state, enrollment = await enroll_device(server, admin, state_root / "agent")
    desk.agents.append(await start_agent(state, heartbeat=1.0))
    # A second machine whose agent reports once and stops: the offline header and rows.
    gone_state, gone = await enroll_device(server, admin, state_root / "gone")
    gone_agent = await start_agent(gone_state, heartbeat=1.0,
                                   inventory=fake_inventory("finance-laptop-07"))
    ids: dict[str, int] = {}

    async def online() -> bool:
        items = (await admin.get("/api/v1/devices")).json["items"]
        ids.update({d["uid"]: d["id"] for d in items if d["online"] and d["metrics"]})
        return enrollment.device_id in ids and gone.device_id in ids

    await eventually(online, within=30)
    desk.device, desk.offline = ids[enrollment.device_id], ids[gone.device_id]
    await gone_agent.stop()

    async def offline() -> bool:
        return not (await admin.get(f"/api/v1/devices/{desk.offline}")).json["device"]["online"]

    await eventually(offline)
    await server.app[HUB].flush(force=True)
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=26)
    await server.db.write(lambda c: c.execute(devices.update().where(
        devices.c.id == desk.offline).values(last_seen_at=day_ago)))
    # The agent's login "alice" is Rick's: My devices, the ticket's requester devices.
    await _ok(await tina.put(f"/api/v1/devices/{desk.device}/bindings/alice",
                             json={"user_id": rick["id"]}))
    await create_token(admin, note=w.token_note, max_uses=25, expires_in_hours=24 * 7)
    await _ok(await admin.post("/api/v1/health-checks", json={
        "name": w.check, "kind": "disk", "target": "/", "warning": 80, "critical": 90}))
    await _ok(await admin.post("/api/v1/sla/policies", json={
        "name": w.policy, "calendar_id": 1, "fallback": True,
        "targets": {"first_response": 240, "resolution": 4320}}))

    ticket = await _ok(await requester.post("/api/v1/tickets", json={
        "title": w.ticket[0], "description": w.ticket[1]}))
    desk.ticket = ticket["id"]
    await _ok(await tina.patch(f"/api/v1/tickets/{desk.ticket}", json={
        "assignee_id": tech["id"], "group_id": desk.group, "tags": ["printer"],
        "device_ids": [desk.device]}))
    for who, text, internal in zip((tina, requester, tina), w.replies, (False, False, True),
                                   strict=True):
        await _ok(await who.post(f"/api/v1/tickets/{desk.ticket}/comments",
                                 json={"body": text, "internal": internal}))
    photo = aiohttp.FormData()
    photo.add_field("file", png(120, 80), filename="test-page.png", content_type="image/png")
    await _ok(await requester.post(f"/api/v1/tickets/{desk.ticket}/attachments", data=photo))

    resolved = await _ok(await requester.post("/api/v1/tickets", json={
        "title": w.resolved[0], "description": w.resolved[1]}))
    desk.resolved = resolved["id"]
    await _ok(await tina.patch(f"/api/v1/tickets/{desk.resolved}", json={
        "assignee_id": tech["id"], "status": "resolved", "resolution_code": "fixed",
        "resolution_note": w.resolved[2]}))

    now = dt.datetime.now(dt.UTC)

    def remote_session(conn: Any) -> int:
        sid = remote_store.create_session(
            conn, ticket_id=desk.ticket, device_id=desk.device, technician_id=tech["id"],
            mode="control", reason=w.remote[0], consent=True,
            device_name="pc-001", now=now)
        remote_store.record_step(conn, sid, actor_id=None, step="ended", now=now,
                                 body=w.remote[1],
                                 values={"state": "ended", "outcome": "completed",
                                         "ended_by": "technician", "ended_at": now})
        return sid

    desk.session = await server.db.write(remote_session)

    category = await _ok(await admin.post("/api/v1/kb/categories", json={"name": w.kb_category}))
    article = await _ok(await admin.post("/api/v1/kb/articles", json={
        "title": w.article[0], "summary": w.article[1], "body": f"{w.article[2]}\n{w.table}",
        "tags": ["vpn"], "visibility": "public", "status": "published",
        "category_id": category["id"]}))
    desk.article = article["id"]
    await _ok(await admin.patch(f"/api/v1/kb/articles/{desk.article}", json={
        "body": w.article[2]}))
    await _ok(await admin.post(f"/api/v1/kb/articles/{desk.article}/required-reading",
                               json={"group_id": desk.group}))
    return desk


async def log_in(page: Any, username: str) -> None:
    """Log in through the form and wait for the shell."""
    await page.goto("/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORDS[username])
    await page.get_by_role("button", name="Log in").click()
    await page.locator("#page-title").wait_for()


async def visit(page: Any, path: str) -> None:
    """Open a console route (a hash change in the running console) and let it settle."""
    await page.evaluate("(hash) => { location.hash = hash; }", f"#{path}")
    await page.wait_for_function("(hash) => location.hash === hash", arg=f"#{path}")
    await page.evaluate("() => document.fonts.ready.then(() => true)")
    await page.evaluate(f"({CHECKS}).settled()")


async def layout_problems(page: Any) -> list[str]:
    """Return what is wrong with the page's layout (walk_checks.js); empty when nothing."""
    return list(await page.evaluate(f"({CHECKS}).layout()"))


async def small_targets(page: Any, minimum: int = 44) -> list[str]:
    """Return the controls shorter than ``minimum`` px (walk_checks.js); empty when none."""
    return list(await page.evaluate(f"(min) => ({CHECKS}).targets(min)", minimum))


async def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")
                         ) -> list[str]:
    """Run axe-core (tests/console/vendor, never served) on the page; return the violations."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the console's CSP allows no inline script,
        # and the product never serves this file.
        await page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;true")
    results = await page.evaluate(f"(impacts) => ({CHECKS}).axe(impacts)", list(impacts))
    return list(results)


async def check_every_page(browser: Any, server: RunningServer, desk: Desk,
                           viewport: dict[str, int], *, targets: bool) -> list[str]:
    """Open every page once per role and judge it; return the problems, each named.

    On the login page and on each page of each role's walk: the layout (nothing wider
    than the screen, covered or squeezed), the controls' size when ``targets`` (a phone:
    none under 44 px) and axe-core (no serious or critical violation), in that order, so
    the layout is judged before axe runs. Each problem starts with its check, the role
    and the page ("axe admin /desk: ..."), so one walk says which page failed which check.
    """
    found: list[str] = []

    async def judge(where: str, page: Any) -> None:
        found.extend(f"layout {where}: {p}" for p in await layout_problems(page))
        if targets:
            found.extend(f"targets {where}: {p}" for p in await small_targets(page))
        found.extend(f"axe {where}: {v}" for v in await axe_violations(page))

    async with open_page(browser, server.base_url, viewport=viewport) as page:
        await page.goto("/")
        await page.get_by_label("User name").wait_for()
        found.extend(f"layout login: {p}" for p in await layout_problems(page))
        found.extend(f"axe login: {v}" for v in await axe_violations(page))
    for role, paths in paths_for(desk).items():
        async with open_page(browser, server.base_url, viewport=viewport) as page:
            await log_in(page, ROLE_USERS[role])
            for path in paths:
                await visit(page, path)
                await judge(f"{role} {path}", page)
    return found
