"""The admin pages' screenshots (and the desk's bulk selection), for make_screenshots.py.

Each shot is taken on a laptop (1280 wide, "<name>.png") and on a phone (390x844,
"<name>-phone.png"), after :func:`seed_admin` added what only these pages show. Forms
that change the whole console (branding, outgoing mail) are filled in but not saved, so
the other screenshots keep the default look and no mail is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.support.server import ADMIN_PASSWORD, PASSWORD, Client

# Shot name -> who takes it; "groups" has its laptop shot in make_screenshots.py already.
SHOTS = {"desk-bulk": "tina.moreau", "catalog-admin": "admin", "categories": "admin",
         "sla-policy": "admin", "groups": "admin", "canned": "admin", "mail-settings": "admin",
         "branding": "admin"}
PHONE_ONLY = {"groups"}

CANNED = [
    ("Password reset link", "Hi,\n\nyou can set a new password yourself at "
     "https://password.example.org - it works everywhere within 5 minutes.", True),
    ("Restart first, please", "Could you restart the computer once and tell me whether the "
     "problem is still there?", True),
    ("Printer driver", "I installed the current driver for your printer; please print a test "
     "page.", False),
]


async def seed_admin(admin: Client) -> None:
    """Add shared and personal canned responses, and let the service desk assign by turns."""
    for title, body, shared in CANNED:
        resp = await admin.post("/api/v1/canned-responses",
                                json={"title": title, "body": body, "shared": shared})
        assert resp.status == 201, resp.body
    groups = {g["name"]: g["id"] for g in (await admin.get("/api/v1/groups")).json["items"]}
    resp = await admin.patch(f"/api/v1/groups/{groups['Service desk']}",
                             json={"auto_assign": "round_robin"})
    assert resp.status == 200, resp.body


async def stage(page: Any, shot: str) -> bool:
    """Open the page of ``shot`` and bring it to what the picture shows; True: a dialog."""
    if shot == "desk-bulk":
        await page.goto("/#/desk")
        await page.get_by_role("tab", name="All open").click()
        boxes = page.get_by_role("table", name="Tickets").locator("tbody .row-check")
        await expect(boxes.nth(2)).to_be_visible()
        for i in range(3):
            await boxes.nth(i).check()
        await expect(page.get_by_role("region", name="Selected tickets")).to_be_visible()
    elif shot == "catalog-admin":
        await page.goto("/#/admin/catalog")
        await expect(page.locator("tr[data-item='New laptop']")).to_be_visible()
    elif shot == "categories":
        await page.goto("/#/admin/categories")
        await expect(page.locator("[data-category]").first).to_be_visible()
        await expect(page.get_by_role("list", name="Knowledge-base categories")
                     .locator("[data-category]").first).to_be_visible()
    elif shot == "sla-policy":
        await page.goto("/#/admin/sla")
        await page.get_by_role("button", name="Edit policy Major incident").click()
        await expect(page.locator(".preview-list li").first).to_be_visible()
        return True
    elif shot == "groups":
        await page.goto("/#/admin/groups/1")
        await expect(page.get_by_role("table", name="Members")).to_be_visible()
    elif shot == "canned":
        await page.goto("/#/desk/canned")
        await expect(page.get_by_role("table", name="Canned responses").locator("tbody tr")
                     ).to_have_count(len(CANNED))
    elif shot == "mail-settings":
        await page.goto("/#/admin/mail")
        form = page.get_by_role("form", name="Mail server settings")
        await form.get_by_label("Mail server").fill("smtp.example.org")
        await form.get_by_label("Port").fill("587")
        await form.get_by_label("User name").fill("helpdesk@example.org")
        await form.get_by_label("Sender address").fill("IT help desk <helpdesk@example.org>")
        await page.get_by_role("form", name="Send a test mail").get_by_role("textbox").fill(
            "li.wei@example.com")
    elif shot == "branding":
        await page.goto("/#/admin/branding")
        form = page.get_by_role("form", name="Branding")
        await form.get_by_label("Product name").fill("Acme IT help")
        await form.get_by_label("Welcome text on the portal").fill(
            "Hello! Tell us what is not working, or ask for what you need. We answer within "
            "one working day.")
    await page.evaluate("document.activeElement.blur()")
    await page.mouse.move(0, 0)
    return False


async def admin_shots(browser: Any, base_url: str, out: Path, only: set[str],
                      log_in: Any) -> None:
    """Take each shot of :data:`SHOTS` on a laptop and on a phone."""
    for who in dict.fromkeys(SHOTS.values()):
        shots = [s for s, by in SHOTS.items() if by == who
                 and (not only or s in only or f"{s}-phone" in only)]
        if not shots:
            continue
        password = ADMIN_PASSWORD if who == "admin" else PASSWORD
        for phone in (False, True):
            context = await browser.new_context(
                ignore_https_errors=True, base_url=base_url, locale="en-US",
                **({"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
                    "is_mobile": True, "has_touch": True} if phone else
                   {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}))
            page = await context.new_page()
            await log_in(page, who, password)
            for shot in shots:
                if not phone and shot in PHONE_ONLY:
                    continue
                dialog = await stage(page, shot)
                name = f"{shot}-phone.png" if phone else f"{shot}.png"
                await page.screenshot(path=out / name, full_page=phone and not dialog)
                if dialog:
                    await page.keyboard.press("Escape")
            await context.close()
