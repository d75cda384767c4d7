"""The SLA policy editor: targets in hours or business days, an escalation rule built from
pickers that the engine then runs, a preview computed by the server, errors by the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import expect

from server.sla.service import SlaEngine
from tests.console.test_console import log_in
from tests.console.test_tickets import new_ticket
from tests.support.server import PASSWORD, Client, RunningServer

pytestmark = pytest.mark.browser


async def _open_editor(page: Any) -> Any:
    await log_in(page, "admin", "admin-password-1")
    await page.goto("/#/admin/sla")
    calendars = page.get_by_role("table", name="Business calendars")
    await expect(calendars.locator("tbody tr")).to_have_count(1)
    await page.get_by_role("button", name="New policy").click()
    return page.get_by_role("form", name="New policy")


async def test_escalation_rule_built_in_the_console_is_run_by_the_engine(
        server: RunningServer, admin: Client, technician: Client, page: Any) -> None:
    """An admin builds a P2 policy whose breach reassigns to a group picked by name; the preview matches the ticket's due time and the engine reassigns it."""  # noqa: E501
    group = (await admin.post("/api/v1/groups", json={"name": "Network team"})).json
    await admin.post("/api/v1/groups", json={"name": "Field service"})
    form = await _open_editor(page)
    await form.get_by_label("Name").fill("P2 incidents")
    await form.get_by_label("Calendar").select_option(label="24x7")
    first = form.get_by_role("group", name="First response")
    await first.get_by_label("min", exact=True).fill("30")
    resolution = form.get_by_role("group", name="Resolution")
    await resolution.get_by_label("h", exact=True).fill("4")
    await form.get_by_role("group", name="Priorities (none: any)").get_by_label("P2").check()
    await form.get_by_role("button", name="Add a rule").click()
    rule = form.get_by_role("group", name="Rule 1")
    await rule.get_by_label("When").select_option(label="On breach")
    await rule.get_by_label("Clock").select_option(label="Resolution")
    await rule.get_by_label("Then").select_option(label="Reassign to a group")
    await rule.get_by_label("Group").select_option(label="Network team")
    # The preview asks the server; its resolution due time is four hours after "now".
    await form.get_by_label("Priority for the preview").select_option("2")
    preview = form.locator("[data-preview] li[data-clock='resolution']")
    await expect(form.locator("[data-preview]")).to_contain_text("A P2 incident created now")
    preview_due = dt.datetime.fromisoformat(await preview.get_attribute("data-due"))
    await form.get_by_role("button", name="Create policy").click()
    policies = page.get_by_role("table", name="SLA policies")
    await expect(policies).to_contain_text("On breach (Resolution) \u2192 reassign to Network team")
    stored = (await admin.get("/api/v1/sla/policies")).json["items"][0]
    assert stored["targets"] == {"first_response": 30, "resolution": 240, "next_update": None}
    assert stored["escalations"] == [{"on": "breach", "action": "reassign", "clock": "resolution",
                                      "percent": None, "group_id": group["id"], "user_id": None,
                                      "note": None}]

    ticket = await new_ticket(technician, title="Switch down", impact=1, urgency=2)
    clocks = (await admin.get(f"/api/v1/tickets/{ticket['id']}")).json["sla"]["clocks"]
    due = dt.datetime.fromisoformat(next(c["due_at"] for c in clocks if c["kind"] == "resolution"))
    created = dt.datetime.fromisoformat(ticket["created_at"])
    # Same clock code: the ticket's due time is the preview's, moved by the time between them.
    assert due - created == dt.timedelta(hours=4)
    assert dt.timedelta(0) <= due - preview_due <= created - (preview_due - dt.timedelta(hours=4))
    later = created + dt.timedelta(hours=5)
    await SlaEngine(server.app, now=lambda: later).run_pass()
    after = (await admin.get(f"/api/v1/tickets/{ticket['id']}")).json
    assert after["group_id"] == group["id"]


async def test_bad_policy_input_is_shown_by_the_field_and_nothing_is_saved(
        server: RunningServer, admin: Client, page: Any) -> None:
    """A blank name, 75 minutes and a reassign rule without a group get messages next to those fields; nothing is stored."""  # noqa: E501
    form = await _open_editor(page)
    first = form.get_by_role("group", name="First response")
    await first.get_by_label("min", exact=True).fill("75")
    await form.get_by_role("button", name="Add a rule").click()
    await form.get_by_role("group", name="Rule 1").get_by_label("Then").select_option(
        label="Reassign to a group")
    await form.get_by_role("button", name="Create policy").click()
    errors = form.locator(".field-error")
    await expect(form.locator("[data-field='name'] .field-error")).to_have_text("Enter a name.")
    await expect(form.locator("[data-field='targets.first_response'] .field-error")
                 ).to_contain_text("Minutes go from 0 to 59")
    await expect(form.locator("[data-field='escalations[0].group_id'] .field-error")
                 ).to_have_text("Choose the group the ticket goes to.")
    await expect(errors).to_have_count(3)
    await expect(form.get_by_label("Name")).to_be_focused()
    assert (await admin.get("/api/v1/sla/policies")).json["items"] == []
    # A name the server refuses (taken) lands next to the name too.
    await admin.post("/api/v1/sla/policies", json={"name": "Taken", "calendar_id": 1,
                                                   "targets": {"resolution": 60}})
    await form.get_by_label("Name").fill("Taken")
    await first.get_by_label("min", exact=True).fill("15")
    rule = form.get_by_role("group", name="Rule 1")
    await rule.get_by_label("Then").select_option(label="Notify")
    await form.get_by_role("button", name="Create policy").click()
    name_error = form.locator("[data-field='name'] .field-error")
    await expect(name_error).to_contain_text("is taken")
    assert len((await admin.get("/api/v1/sla/policies")).json["items"]) == 1


async def test_technician_cannot_open_the_sla_admin_page(
        server: RunningServer, technician: Client, page: Any) -> None:
    """A technician is not offered the SLA admin page, and the server refuses the preview."""
    await log_in(page, "tina", PASSWORD)
    await page.goto("/#/admin/sla")
    await expect(page.get_by_role("button", name="New policy")).to_have_count(0)
    refused = await technician.post("/api/v1/sla/preview", json={"calendar_id": 1,
                                                                  "targets": {"resolution": 60}})
    assert refused.status == 403
