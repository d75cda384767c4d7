"""The dashboards in the console: every chart empty, then with data; a CSV matches its chart."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from server.db.schema import utcnow
from server.keys import DATABASE
from server.sla import store as sla_store
from server.sla.schemas import Conditions, Targets
from server.tickets.timeline import add_event
from tests.console.test_console import log_in
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer

CHARTS = ("volume", "times", "sla", "quality", "remote", "satisfaction", "deflection")


async def _fill(server: RunningServer, admin: Client) -> None:
    """File, answer, resolve and rate a ticket under an SLA policy; count a portal form."""
    now = utcnow()
    await server.app[DATABASE].write(lambda c: sla_store.save_policy(c, None, {
        "name": "Standard", "calendar_id": 1, "position": None, "fallback": True,
        "active": True, "conditions": Conditions(),
        "targets": Targets(first_response=60, resolution=600, next_update=None),
        "warn_percents": [], "pause_statuses": ["pending"], "escalations": []}, now))
    me = admin.user["id"]
    ticket = (await admin.post("/api/v1/tickets", json={
        "title": "Printer jam", "requester_id": await _requester(server, admin)})).json
    await admin.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "On it."})
    resp = await admin.patch(f"/api/v1/tickets/{ticket['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "resolution_note": "Done.",
        "assignee_id": me})
    assert resp.status == 200, resp.body
    await server.app[DATABASE].write(lambda c: add_event(
        c, ticket["id"], actor_id=ticket["requester"]["id"], type="rating", public=False,
        now=utcnow() + dt.timedelta(seconds=1), body=None,
        changes={"rating": {"score": 5, "scale": 5}}))
    await admin.post("/api/v1/reports/suggestions", json={"outcome": "shown"})


async def _requester(server: RunningServer, admin: Client) -> int:
    return int((await server.create_user(admin, "rick", "requester"))["id"])


def _panel(page: Any, chart: str) -> Any:
    return page.locator(f'.report-panel[data-chart="{chart}"]')


async def test_dashboard_charts_empty_then_with_data_and_csv(
        server: RunningServer, admin: Client, page: Any, tmp_path: Path) -> None:
    """With no tickets every chart says so; with a ticket every chart draws, and the
    volume chart's CSV download holds the numbers its table shows."""
    await log_in(page, "admin", ADMIN_PASSWORD)
    await page.goto("/#/reports")
    for chart in CHARTS:
        await expect(_panel(page, chart)).to_have_attribute("data-loaded", "true")
        await expect(_panel(page, chart).locator(".chart-empty")).to_have_text(
            "No data in this period")
    await _fill(server, admin)
    await page.reload()
    for chart in CHARTS:
        panel = _panel(page, chart)
        await expect(panel).to_have_attribute("data-loaded", "true")
        await expect(panel.locator(".chart-empty")).to_have_count(0)
        await expect(panel.locator("svg path, svg rect.chart-bar").first).to_be_attached()
    volume = _panel(page, "volume")
    await volume.get_by_role("button", name="Show table").click()
    cells = [await row.locator("td").all_inner_texts()
             for row in await volume.locator("tbody tr").all()]
    async with page.expect_download() as info:
        await volume.get_by_role("link", name="Download CSV").click()
    download = await info.value
    path = tmp_path / "volume.csv"
    await download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["day", "created", "resolved", "backlog"]
    assert rows[1:] == cells
    assert rows[-1][1:3] == ["1", "1"]
    await page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)
