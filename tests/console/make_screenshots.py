"""Take the console screenshots in docs/screenshots/ from a real server with sample data.

Run: .venv/bin/python -m tests.console.make_screenshots [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright, expect

from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client, RunningServer, start_server

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


async def log_in(page: Any, username: str, password: str) -> None:
    await page.goto("/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_server(Path(tmp) / "data")
        try:
            await seed(server)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium_path(),
                                                   headless=True, args=CHROMIUM_ARGS)
                for who, password, shots in (
                        ("admin", ADMIN_PASSWORD, ["login", "desk-admin", "users", "groups",
                                                   "account"]),
                        ("rick.olsen", PASSWORD, ["portal"])):
                    context = await browser.new_context(
                        ignore_https_errors=True, base_url=server.base_url,
                        viewport={"width": 1280, "height": 760}, device_scale_factor=1)
                    page = await context.new_page()
                    if "login" in shots:
                        await page.goto("/")
                        await page.get_by_label("User name").fill("admin")
                        await page.screenshot(path=out / "login.png")
                    await log_in(page, who, password)
                    for shot in shots:
                        if shot == "desk-admin":
                            await page.screenshot(path=out / "desk-admin.png")
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
                            await page.screenshot(path=out / "portal.png")
                    await context.close()
                await browser.close()
        finally:
            await server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out_dir = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out_dir))
