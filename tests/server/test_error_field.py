"""A validation error names the field to blame, so the console can show it beside that field."""

from __future__ import annotations

from tests.support.server import Client


async def test_a_schema_error_names_its_field(admin: Client) -> None:
    """A value the schema refuses (an empty display name) is a 422 whose error names it."""
    resp = await admin.post("/api/v1/users", json={"username": "ann", "display_name": "",
                                                   "role": "requester"})
    assert resp.status == 422, resp.body
    assert resp.error_code == "validation_error"
    assert resp.json["error"]["field"] == "display_name"


async def test_a_rule_error_names_its_field(admin: Client) -> None:
    """Required text of only white space (a rule checked after decoding) names its field."""
    resp = await admin.post("/api/v1/users", json={"username": "ann", "display_name": "   ",
                                                   "role": "requester"})
    assert resp.status == 422, resp.body
    assert resp.json["error"]["field"] == "display_name"
    resp = await admin.get("/api/v1/users?q=%00")
    assert resp.status == 422, resp.body
    assert resp.json["error"]["field"] == "q"


async def test_a_nested_value_is_named_by_its_path(admin: Client) -> None:
    """A value inside a list is named by its path from the body's root."""
    resp = await admin.post("/api/v1/catalog", json={
        "name": "Laptop", "fields": [{"name": "model", "label": 5, "type": "text"}]})
    assert resp.status == 422, resp.body
    assert resp.json["error"]["field"] == "fields[0].label"


async def test_an_error_about_the_whole_body_names_no_field(admin: Client) -> None:
    """A body that is not an object at all blames no field."""
    resp = await admin.request("POST", "/api/v1/users", data=b"[1, 2]",
                               headers={"Content-Type": "application/json"})
    assert resp.status == 422, resp.body
    assert resp.error_code == "validation_error"
    assert "field" not in resp.json["error"]
