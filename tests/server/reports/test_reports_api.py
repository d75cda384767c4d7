"""The dashboards' API: figures follow ticket events at once, per caller's groups, as CSV."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.support.server import Client, RunningServer


async def _ticket(client: Client, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/tickets", json={"title": "Printer jam", **body})
    assert resp.status == 201, resp.body
    return dict(resp.json)


def _total(data: dict[str, Any], column: str) -> int:
    i = data["columns"].index(column)
    return sum(int(r[i] or 0) for r in data["rows"])


async def test_figures_follow_events_and_the_callers_groups(server: RunningServer,
                                                             admin: Client) -> None:
    """A new, answered and resolved ticket shows at once; a technician counts only their
    groups' tickets (and those without a group); a requester and other groups are refused;
    portal forms that showed suggestions and were not filed count as deflected; bad
    periods are refused."""
    tina = await server.create_user(admin, "tina", "technician")
    await server.create_user(admin, "rick", "requester")
    ours = (await admin.post("/api/v1/groups", json={"name": "Desk"})).json["id"]
    theirs = (await admin.post("/api/v1/groups", json={"name": "Network"})).json["id"]
    assert (await admin.put(f"/api/v1/groups/{ours}/members/{tina['id']}")).status == 200
    tech, rick = await server.login("tina"), await server.login("rick")
    mine = await _ticket(rick)
    for body in ({"group_id": ours}, {"group_id": theirs}):
        await _ticket(admin, **body)
    assert (await tech.post(f"/api/v1/tickets/{mine['id']}/comments",
                            json={"body": "On it."})).status == 201
    resp = await tech.patch(f"/api/v1/tickets/{mine['id']}", json={
        "status": "resolved", "resolution_code": "fixed", "resolution_note": "Cleared.",
        "assignee_id": tina["id"]})
    assert resp.status == 200, resp.body

    everything = (await admin.get("/api/v1/reports/charts/volume")).json
    assert (_total(everything, "created"), _total(everything, "resolved")) == (3, 1)
    assert everything["rows"][-1][3] == 2  # the backlog tonight: two tickets still open
    seen = (await tech.get("/api/v1/reports/charts/volume")).json
    assert (_total(seen, "created"), _total(seen, "resolved")) == (2, 1)
    times = (await tech.get("/api/v1/reports/charts/times?by=technician")).json
    assert [(r[0], r[1], r[2], r[5]) for r in times["rows"]] == [
        (str(tina["id"]), "Tina", 1, 1)]
    refused = await tech.get(f"/api/v1/reports/charts/volume?group_id={theirs}")
    assert (refused.status, refused.error_code) == (403, "forbidden")
    assert (await rick.get("/api/v1/reports/charts/volume")).status == 403
    scope = (await tech.get("/api/v1/reports/scope")).json
    assert ([g["name"] for g in scope["groups"]], scope["all_groups"]) == (["Desk"], False)
    # Portal forms that showed suggestions and were not filed count as deflected.
    for outcome in ("shown", "shown", "filed"):
        resp = await rick.post("/api/v1/reports/suggestions", json={"outcome": outcome})
        assert resp.status == 204, resp.body
    data = (await tech.get("/api/v1/reports/charts/deflection")).json
    assert data["rows"][-1][1:5] == [2, 1, 1, 50.0]
    # A reversed, too long or malformed period is refused in the one error shape.
    for query in ({"start": "2026-05-02", "end": "2026-05-01"},
                  {"start": "2025-01-01", "end": "2026-05-01"},
                  {"start": "yesterday"}, {"by": "moon"}):
        resp = await admin.get(f"/api/v1/reports/charts/times?{urlencode(query)}")
        assert resp.status in (400, 422), (query, resp.body)
        assert resp.error_code in ("validation_error", "bad_request"), resp.body
