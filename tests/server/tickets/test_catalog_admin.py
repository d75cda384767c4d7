"""Managing the catalog: full edits, order, visibility, retiring, deleting; canned edits."""

from __future__ import annotations

from typing import Any

import pytest

from server.errors import ValidationFailed
from server.tickets.catalog import FormField, validate_form
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

FIELDS = [{"name": "model", "label": "Model", "type": "select", "required": True,
           "options": ["13-inch", "15-inch"]},
          {"name": "needed_by", "label": "Needed by", "type": "date"}]


async def _item(admin: Client, name: str, **body: Any) -> dict[str, Any]:
    resp = await admin.post("/api/v1/catalog", json={"name": name, "fields": FIELDS, **body})
    assert resp.status == 201, resp.body
    return dict(resp.json)


def test_date_fields_take_calendar_dates_only() -> None:
    """A date field takes YYYY-MM-DD of a real day and refuses anything else."""
    fields = [FormField(name="day", label="Day", type="date", required=True)]
    assert validate_form(fields, {"day": "2026-12-24"}) == {"day": "2026-12-24"}
    for bad in ("2026-02-30", "24/12/2026", "2026-12-24T10:00"):
        with pytest.raises(ValidationFailed, match="must be a date"):
            validate_form(fields, {"day": bad})


async def test_every_part_of_a_request_type_can_be_edited(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """PATCH changes name, form, approval, group, category and visibility in one go."""
    admin = clients["admin"]
    boss = await server.create_user(admin, "boss", "requester")
    group = (await admin.post("/api/v1/groups", json={"name": "Buyers"})).json
    category = (await admin.post("/api/v1/categories", json={"name": "Hardware"})).json
    item = await _item(admin, "Laptop")
    resp = await admin.patch(f"/api/v1/catalog/{item['id']}", json={
        "name": "New laptop", "description": "For new hires", "fields": FIELDS[:1],
        "approval": "approver", "approver_id": boss["id"], "group_id": group["id"],
        "category_id": category["id"], "visibility": "staff"})
    assert resp.status == 200, resp.body
    got = resp.json
    assert (got["name"], got["approver_id"], got["group_id"], got["category_id"],
            got["visibility"], len(got["fields"])) == (
        "New laptop", boss["id"], group["id"], category["id"], "staff", 1)
    # Switching approval off forgets the approver.
    got = (await admin.patch(f"/api/v1/catalog/{item['id']}", json={"approval": "none"})).json
    assert (got["approval"], got["approver_id"]) == ("none", None)


async def test_bad_edits_name_the_field_and_change_nothing(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A taken name, a missing approver or a bad form is refused and the item is unchanged."""
    admin = clients["admin"]
    await _item(admin, "Phone")
    item = await _item(admin, "Laptop")
    path = f"/api/v1/catalog/{item['id']}"
    for body, status, code in [
            ({"name": "phone"}, 409, "conflict"),
            ({"name": "   "}, 422, "validation_error"),
            ({"approval": "approver"}, 422, "invalid_approver"),
            ({"approval": "group_manager"}, 422, "invalid_group"),
            ({"group_id": 999}, 422, "invalid_group"),
            ({"category_id": 999}, 422, "validation_error"),
            ({"fields": [{**FIELDS[0], "options": []}]}, 422, "validation_error"),
            ({"fields": [{**FIELDS[0], "options": ["a", "a"]}]}, 422, "validation_error")]:
        resp = await admin.patch(path, json=body)
        assert (resp.status, resp.json["error"]["code"]) == (status, code), body
    assert (await admin.get(path)).json == item


async def test_order_visibility_and_retiring_shape_the_portal_list(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """The list follows the set order; staff-only and retired types are hidden from requesters."""
    admin, tech, requester = clients["admin"], clients["technician"], clients["requester"]
    a, b, c = [await _item(admin, n) for n in ("Alpha", "Bravo", "Charlie")]
    resp = await admin.put("/api/v1/catalog/order", json={"item_ids": [c["id"], a["id"], b["id"]]})
    assert [i["name"] for i in resp.json["items"]] == ["Charlie", "Alpha", "Bravo"]
    for bad in ([a["id"], b["id"]], [a["id"], a["id"], b["id"], c["id"]],
                [a["id"], b["id"], c["id"], 999]):
        assert (await admin.put("/api/v1/catalog/order", json={"item_ids": bad})).status == 422
    await admin.patch(f"/api/v1/catalog/{a['id']}", json={"visibility": "staff"})
    await admin.patch(f"/api/v1/catalog/{b['id']}", json={"active": False})

    async def names(who: Client) -> list[str]:
        return [i["name"] for i in (await who.get("/api/v1/catalog")).json["items"]]

    assert await names(requester) == ["Charlie"]
    assert await names(tech) == ["Charlie", "Alpha"]
    assert await names(admin) == ["Charlie", "Alpha", "Bravo"]
    staff_only = await requester.post(f"/api/v1/catalog/{a['id']}/requests",
                                      json={"values": {"model": "13-inch"}})
    assert staff_only.status == 404
    assert (await requester.get(f"/api/v1/catalog/{a['id']}")).status == 404
    # A retired type still shows its form (old tickets name their fields by it).
    assert (await requester.get(f"/api/v1/catalog/{b['id']}")).json["active"] is False
    assert (await admin.post("/api/v1/catalog", json={"name": "Delta"})).json["position"] == 3


async def test_a_request_gets_the_types_category_and_a_used_type_cannot_be_deleted(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Requests carry the type's category; deleting is refused once used, retiring is not."""
    admin, requester = clients["admin"], clients["requester"]
    category = (await admin.post("/api/v1/categories", json={"name": "Hardware"})).json
    item = await _item(admin, "Laptop", category_id=category["id"])
    unused = await _item(admin, "Unused")
    ticket = (await requester.post(f"/api/v1/catalog/{item['id']}/requests", json={
        "values": {"model": "13-inch", "needed_by": "2027-01-15"}})).json
    assert ticket["category_id"] == category["id"]
    assert ticket["form"] == {"model": "13-inch", "needed_by": "2027-01-15"}
    refused = await admin.delete(f"/api/v1/catalog/{item['id']}")
    assert (refused.status, refused.json["error"]["code"]) == (409, "in_use")
    assert (await admin.delete(f"/api/v1/catalog/{unused['id']}")).status == 204
    assert (await admin.get(f"/api/v1/catalog/{unused['id']}")).status == 404
    retired = await admin.patch(f"/api/v1/catalog/{item['id']}", json={"active": False})
    assert retired.status == 200
    # The category retired later: new requests go without it, the old ticket keeps it.
    await admin.patch(f"/api/v1/catalog/{item['id']}", json={"active": True})
    await admin.patch(f"/api/v1/categories/{category['id']}", json={"active": False})
    later = (await requester.post(f"/api/v1/catalog/{item['id']}/requests", json={
        "values": {"model": "15-inch"}})).json
    assert later["category_id"] is None
    old = (await admin.get(f"/api/v1/tickets/{ticket['id']}")).json
    assert old["category_id"] == category["id"]


async def test_only_admins_manage_the_catalog(clients: dict[str, Client]) -> None:
    """Technicians and requesters are refused every catalog change."""
    admin = clients["admin"]
    item = await _item(admin, "Laptop")
    for who in ("technician", "requester"):
        c = clients[who]
        assert (await c.post("/api/v1/catalog", json={"name": "X"})).status == 403
        assert (await c.patch(f"/api/v1/catalog/{item['id']}", json={"name": "X"})).status == 403
        assert (await c.delete(f"/api/v1/catalog/{item['id']}")).status == 403
        assert (await c.put("/api/v1/catalog/order",
                            json={"item_ids": [item["id"]]})).status == 403


async def test_canned_responses_are_edited_by_their_owner_or_an_admin(
        clients: dict[str, Client]) -> None:
    """An owner edits their own reply, an admin the shared ones; others get 404."""
    tech, admin = clients["technician"], clients["admin"]
    own = (await tech.post("/api/v1/canned-responses",
                           json={"title": "Reboot", "body": "Please restart."})).json
    shared = (await admin.post("/api/v1/canned-responses",
                               json={"title": "Hello", "body": "Hi", "shared": True})).json
    resp = await tech.patch(f"/api/v1/canned-responses/{own['id']}",
                            json={"title": "Restart", "body": "Please restart, then retry."})
    assert (resp.status, resp.json["title"], resp.json["shared"]) == (200, "Restart", False)
    assert (await tech.patch(f"/api/v1/canned-responses/{shared['id']}",
                             json={"title": "Mine now"})).status == 404
    assert (await admin.patch(f"/api/v1/canned-responses/{own['id']}",
                              json={"title": "Theirs"})).status == 404
    resp = await admin.patch(f"/api/v1/canned-responses/{shared['id']}", json={"body": "Hello!"})
    assert (resp.status, resp.json["body"]) == (200, "Hello!")
    for bad in ({"title": "  "}, {"body": ""}, {"title": "x" * 101}):
        assert (await tech.patch(f"/api/v1/canned-responses/{own['id']}",
                                 json=bad)).status == 422
    blank = await tech.post("/api/v1/canned-responses", json={"title": " ", "body": "x"})
    assert blank.status == 422
    titles = [c["title"] for c in (await tech.get("/api/v1/canned-responses")).json["items"]]
    assert titles == ["Hello", "Restart"]
