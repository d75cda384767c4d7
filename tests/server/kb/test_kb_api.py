"""The knowledge base through the API: articles, visibility, search, versions, feedback."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.server.test_bad_input import snapshot
from tests.support.server import Client, RunningServer

pytestmark = pytest.mark.all_databases  # the database tests run on SQLite and PostgreSQL

MARK = ("\u0002", "\u0003")


async def _article(client: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Reset your password")
    body.setdefault("body", "Open the portal and choose *Forgot password*.")
    resp = await client.post("/api/v1/kb/articles", json=body)
    assert resp.status == 201, resp.body
    return dict(resp.json)


async def _public(client: Client, **body: Any) -> dict[str, Any]:
    return await _article(client, visibility="public", status="published", **body)


async def test_technician_writes_an_article_rendered_safely(
        clients: dict[str, Client]) -> None:
    """A created article has version 1, its owner, lower-cased tags and sanitized HTML."""
    tech = clients["technician"]
    art = await _article(tech, body="**Hi** <script>alert(1)</script>[x](javascript:alert(1))",
                         tags=["VPN", "vpn", "wifi"], review_date="2027-01-31")
    assert art["version"] == 1 and art["status"] == "draft"
    assert art["owner"]["id"] == tech.user["id"]
    assert art["tags"] == ["vpn", "wifi"] and art["review_date"] == "2027-01-31"
    assert "<strong>Hi</strong>" in art["body_html"]
    assert "<script" not in art["body_html"] and "alert(1)</" not in art["body_html"]
    assert "href" not in art["body_html"]
    assert art["linked_ticket_ids"] == []


async def test_requesters_cannot_write(clients: dict[str, Client]) -> None:
    """Requesters may not create or edit articles, nor read versions."""
    art = await _public(clients["technician"])
    req = clients["requester"]
    assert (await req.post("/api/v1/kb/articles", json={"title": "x"})).status == 403
    assert (await req.patch(f"/api/v1/kb/articles/{art['id']}",
                            json={"title": "x"})).status == 403
    assert (await req.get(f"/api/v1/kb/articles/{art['id']}/versions")).status == 403


async def test_requesters_see_only_public_published(clients: dict[str, Client]) -> None:
    """Drafts, archived and internal articles are hidden from requesters everywhere."""
    tech, req = clients["technician"], clients["requester"]
    shown = await _public(tech, title="Printer toner replacement")
    hidden = [await _article(tech, title="Printer draft notes"),
              await _article(tech, title="Printer internal runbook", status="published"),
              await _article(tech, title="Printer archived guide", visibility="public",
                             status="archived")]
    listed = await req.get("/api/v1/kb/articles")
    assert [a["id"] for a in listed.json["items"]] == [shown["id"]]
    found = await req.get("/api/v1/kb/search?q=printer")
    assert [h["article"]["id"] for h in found.json["items"]] == [shown["id"]]
    suggested = await req.get("/api/v1/kb/suggest?q=printer")
    assert [h["article"]["id"] for h in suggested.json["items"]] == [shown["id"]]
    for art in hidden:
        for path in (f"/api/v1/kb/articles/{art['id']}",):
            resp = await req.get(path)
            assert resp.status == 404 and resp.error_code == "not_found"
        resp = await req.post(f"/api/v1/kb/articles/{art['id']}/deflections", json={})
        assert resp.status == 404
        resp = await req.put(f"/api/v1/kb/articles/{art['id']}/feedback",
                             json={"helpful": True})
        assert resp.status == 404
    staff = await tech.get("/api/v1/kb/search?q=printer")
    assert len(staff.json["items"]) == 4
    staff_suggest = await tech.get("/api/v1/kb/suggest?q=printer")
    assert [h["article"]["id"] for h in staff_suggest.json["items"]] == [shown["id"]]


async def test_title_match_beats_body_match(clients: dict[str, Client]) -> None:
    """An article with the word in its title ranks above ones mentioning it in the body."""
    tech = clients["technician"]
    body_only = [await _public(tech, title=f"Network note {i}",
                               body="When the laptop docking station flickers, replug it. "
                                    * 3) for i in range(3)]
    titled = await _public(tech, title="Docking station setup",
                           body="Plug the cable into the back of the laptop.")
    found = await tech.get("/api/v1/kb/search?q=docking")
    ids = [h["article"]["id"] for h in found.json["items"]]
    assert ids[0] == titled["id"]
    assert set(ids[1:]) == {a["id"] for a in body_only}
    suggested = await clients["requester"].get("/api/v1/kb/suggest?q=docking")
    assert suggested.json["items"][0]["article"]["id"] == titled["id"]


async def test_snippets_mark_matches_and_never_carry_html(clients: dict[str, Client]) -> None:
    """Snippets wrap matched words in control marks and keep user text as plain text."""
    tech = clients["technician"]
    await _public(tech, title="Mail setup",
                  body="Use <b>Outlook</b> & configure the **mailbox** quota.")
    found = await tech.get("/api/v1/kb/search?q=mailbox")
    snippet = found.json["items"][0]["snippet"]
    assert f"{MARK[0]}mailbox{MARK[1]}" in snippet
    assert "**" not in snippet and "<mark>" not in snippet


async def test_search_prefix_filters_and_hostile_queries(clients: dict[str, Client]) -> None:
    """The last word matches as a prefix; tag and category filter; FTS syntax is inert."""
    tech = clients["technician"]
    cat = (await tech.post("/api/v1/kb/categories", json={"name": "Network"})).json
    sub = await tech.post("/api/v1/kb/categories", json={"name": "VPN", "parent_id": cat["id"]})
    assert sub.status == 201 and sub.json["parent_id"] == cat["id"]
    vpn = await _public(tech, title="Connect to the VPN", tags=["remote"],
                        category_id=cat["id"])
    other = await _public(tech, title="VPN token renewal")
    assert [h["article"]["id"] for h in (await tech.get(
        "/api/v1/kb/search?q=conn")).json["items"]] == [vpn["id"]]
    tagged = await tech.get("/api/v1/kb/search?q=vpn&tag=remote")
    assert [h["article"]["id"] for h in tagged.json["items"]] == [vpn["id"]]
    in_cat = await tech.get(f"/api/v1/kb/search?q=vpn&category_id={cat['id']}")
    assert [h["article"]["id"] for h in in_cat.json["items"]] == [vpn["id"]]
    assert len((await tech.get("/api/v1/kb/search?q=vpn")).json["items"]) == 2
    for hostile in ('"', "vpn OR", "NEAR(vpn", "title:vpn", "*", "vpn AND NOT x", "-", "^vpn"):
        resp = await tech.get(f"/api/v1/kb/search?q={quote(hostile, safe='')}")
        assert resp.status == 200, (hostile, resp.body)
    assert other["id"]


async def test_search_pages_by_rank(clients: dict[str, Client]) -> None:
    """Search results page with a cursor and no article repeats or is lost."""
    tech = clients["technician"]
    made = {(await _public(tech, title=f"Backup guide {i}", body="backup " * i))["id"]
            for i in range(1, 6)}
    seen: list[int] = []
    cursor = ""
    while True:
        resp = await tech.get(f"/api/v1/kb/search?q=backup&limit=2{cursor}")
        seen += [h["article"]["id"] for h in resp.json["items"]]
        if not resp.json["next_cursor"]:
            break
        cursor = f"&cursor={resp.json['next_cursor']}"
    assert sorted(seen) == sorted(made)


async def test_versions_diff_and_restore(clients: dict[str, Client]) -> None:
    """Each content edit is a version; the diff shows it; restoring makes a new version."""
    tech, admin = clients["technician"], clients["admin"]
    art = await _article(tech, title="Wi-Fi", body="Line one\nLine two")
    path = f"/api/v1/kb/articles/{art['id']}"
    edited = await admin.patch(path, json={"body": "Line one\nLine 2\nLine three"})
    assert edited.json["version"] == 2
    meta_only = await tech.patch(path, json={"status": "published"})
    assert meta_only.json["version"] == 2 and meta_only.json["status"] == "published"
    versions = (await tech.get(f"{path}/versions")).json["items"]
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["editor"]["id"] == admin.user["id"]
    v1 = (await tech.get(f"{path}/versions/1")).json
    assert v1["body"] == "Line one\nLine two" and v1["editor"]["id"] == tech.user["id"]
    diff = (await tech.get(f"{path}/diff?from=1&to=2")).json
    assert diff["from"] == 1 and diff["to"] == 2
    assert "-Line two" in diff["diff"] and "+Line 2" in diff["diff"]
    assert "+Line three" in diff["diff"] and diff["diff"].startswith("--- version 1")
    restored = await tech.post(f"{path}/versions/1/restore")
    assert restored.status == 200, restored.body
    assert restored.json["version"] == 3 and restored.json["body"] == "Line one\nLine two"
    latest = (await tech.get(f"{path}/versions")).json["items"][0]
    assert (latest["number"], latest["restored_from"]) == (3, 1)
    assert (await tech.get(f"{path}/versions/9")).status == 404
    assert (await tech.get(f"{path}/diff?from=1&to=9")).status == 404
    found = await tech.get("/api/v1/kb/search?q=three")
    assert found.json["items"] == []  # the index follows the current version


async def test_views_deflections_feedback_and_stats(clients: dict[str, Client]) -> None:
    """Views count per read; deflections and one changeable feedback per user feed stats."""
    tech, req, admin = clients["technician"], clients["requester"], clients["admin"]
    art = await _public(tech, title="Clear the browser cache")
    path = f"/api/v1/kb/articles/{art['id']}"
    for _ in range(3):
        assert (await req.get(path)).status == 200
    deflected = await req.post(f"{path}/deflections", json={"query": "browser slow"})
    assert deflected.status == 201
    assert deflected.json["user_id"] == req.user["id"]
    assert deflected.json["query"] == "browser slow"
    first = await req.put(f"{path}/feedback", json={"helpful": False, "comment": "unclear"})
    assert first.status == 200 and first.json["comment"] == "unclear"
    changed = await req.put(f"{path}/feedback", json={"helpful": True})
    assert changed.json["helpful"] is True and changed.json["comment"] is None
    await admin.put(f"{path}/feedback", json={"helpful": False})
    stats = (await tech.get("/api/v1/kb/stats")).json["items"]
    row = next(s for s in stats if s["article_id"] == art["id"])
    assert (row["views"], row["deflections"], row["helpful"], row["not_helpful"]) == \
        (3, 1, 1, 1)
    assert (await req.get("/api/v1/kb/stats")).status == 403


async def test_ticket_links_both_ways(clients: dict[str, Client]) -> None:
    """Staff link articles to tickets; requesters see only public links on own tickets."""
    tech, req = clients["technician"], clients["requester"]
    ticket = (await req.post("/api/v1/tickets", json={"title": "VPN drops"})).json
    public = await _public(tech, title="VPN reconnects")
    internal = await _article(tech, title="VPN server runbook", status="published")
    for art in (public, internal):
        resp = await tech.post(f"/api/v1/tickets/{ticket['id']}/kb-links/{art['id']}")
        assert resp.status == 201, resp.body
    staff_view = await tech.get(f"/api/v1/kb/articles/{public['id']}")
    assert staff_view.json["linked_ticket_ids"] == [ticket["id"]]
    mine = await req.get(f"/api/v1/kb/articles/{public['id']}")
    assert mine.json["linked_ticket_ids"] is None
    listed = await tech.get(f"/api/v1/tickets/{ticket['id']}/kb-links")
    assert [a["id"] for a in listed.json["items"]] == [public["id"], internal["id"]]
    as_req = await req.get(f"/api/v1/tickets/{ticket['id']}/kb-links")
    assert [a["id"] for a in as_req.json["items"]] == [public["id"]]
    assert (await req.post(f"/api/v1/tickets/{ticket['id']}/kb-links/{public['id']}")
            ).status == 403
    gone = await tech.delete(f"/api/v1/tickets/{ticket['id']}/kb-links/{internal['id']}")
    assert gone.status == 204
    again = await tech.delete(f"/api/v1/tickets/{ticket['id']}/kb-links/{internal['id']}")
    assert again.status == 404
    assert (await tech.post(f"/api/v1/tickets/999/kb-links/{public['id']}")).status == 404


async def test_article_from_resolved_ticket_and_send_to_ticket(
        clients: dict[str, Client]) -> None:
    """A resolved ticket drafts an article; a public article is sent as a public reply."""
    tech, req = clients["technician"], clients["requester"]
    ticket = (await req.post("/api/v1/tickets", json={
        "title": "Outlook keeps asking for password", "description": "Since Monday."})).json
    tpath = f"/api/v1/tickets/{ticket['id']}"
    early = await tech.post(f"/api/v1/kb/articles/from-ticket/{ticket['id']}")
    assert early.status == 422 and early.error_code == "invalid_transition"
    await tech.patch(tpath, json={"assignee_id": tech.user["id"]})
    await tech.patch(tpath, json={"status": "resolved", "resolution_code": "fixed",
                                  "resolution_note": "Removed the stale credential."})
    draft = await tech.post(f"/api/v1/kb/articles/from-ticket/{ticket['id']}")
    assert draft.status == 201, draft.body
    assert draft.json["title"] == ticket["title"] and draft.json["status"] == "draft"
    assert "Since Monday." in draft.json["body"]
    assert "Removed the stale credential." in draft.json["body"]
    assert draft.json["linked_ticket_ids"] == [ticket["id"]]

    other = (await req.post("/api/v1/tickets", json={"title": "Outlook again"})).json
    refused = await tech.post(
        f"/api/v1/kb/articles/{draft.json['id']}/send-to-ticket/{other['id']}")
    assert refused.status == 422
    public = await _public(tech, title="Outlook password prompts", summary="Clear creds.")
    sent = await tech.post(f"/api/v1/kb/articles/{public['id']}/send-to-ticket/{other['id']}")
    assert sent.status == 201, sent.body
    event = sent.json["items"][0]
    assert event["public"] and "Outlook password prompts" in event["body"]
    assert f"/kb/articles/{public['id']}" in event["body"] and "Clear creds." in event["body"]
    timeline = await req.get(f"/api/v1/tickets/{other['id']}/events")
    assert any(e["id"] == event["id"] for e in timeline.json["items"])
    links = await req.get(f"/api/v1/tickets/{other['id']}/kb-links")
    assert [a["id"] for a in links.json["items"]] == [public["id"]]


async def test_required_reading_and_acknowledgements(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Group members see what they must read; staff see who has not acknowledged."""
    admin, tech = clients["admin"], clients["technician"]
    other = await server.create_user(admin, "otto", "technician")
    otto = await server.login("otto")
    group = (await admin.post("/api/v1/groups", json={"name": "Service desk"})).json
    for uid in (tech.user["id"], other["id"]):
        assert (await admin.put(f"/api/v1/groups/{group['id']}/members/{uid}")).status == 200
    draft = await _article(tech, title="Draft policy")
    refused = await tech.post(f"/api/v1/kb/articles/{draft['id']}/required-reading",
                              json={"group_id": group["id"]})
    assert refused.status == 422
    art = await _article(tech, title="Security policy", status="published")
    path = f"/api/v1/kb/articles/{art['id']}"
    assigned = await tech.post(f"{path}/required-reading", json={"group_id": group["id"]})
    assert assigned.status == 201, assigned.body
    assert (await tech.post(f"{path}/required-reading", json={"group_id": 999})).status == 422

    pending = (await otto.get("/api/v1/kb/required-reading")).json
    assert [p["article"]["id"] for p in pending["mine"]] == [art["id"]]
    assert pending["mine"][0]["group_ids"] == [group["id"]]
    ack = await otto.post(f"{path}/acknowledge")
    assert ack.status == 200 and ack.json["version"] == 1
    assert (await otto.get("/api/v1/kb/required-reading")).json["mine"] == []

    overview = (await admin.get(f"/api/v1/kb/required-reading?group_id={group['id']}")
                ).json["overview"]
    assert len(overview) == 1
    assert [u["id"] for u in overview[0]["acknowledged"]] == [other["id"]]
    assert [u["id"] for u in overview[0]["pending"]] == [tech.user["id"]]

    req = clients["requester"]
    as_req = (await req.get("/api/v1/kb/required-reading")).json
    assert as_req == {"mine": [], "overview": None}
    public = await _public(tech, title="Public notice")
    not_required = await req.post(f"/api/v1/kb/articles/{public['id']}/acknowledge")
    assert not_required.status == 422 and not_required.error_code == "not_required"
    removed = await tech.delete(f"{path}/required-reading/{group['id']}")
    assert removed.status == 204
    assert (await admin.get("/api/v1/kb/required-reading")).json["overview"] == []


BAD_ARTICLES: list[tuple[str, dict[str, Any]]] = [
    ("title not a string", {"title": 5}),
    ("empty title", {"title": ""}),
    ("blank title", {"title": "   "}),
    ("unknown field", {"title": "x", "author": "me"}),
    ("bad visibility", {"title": "x", "visibility": "secret"}),
    ("bad status", {"title": "x", "status": "deleted"}),
    ("tags not a list", {"title": "x", "tags": "a,b"}),
    ("bad tag", {"title": "x", "tags": ["no spaces allowed"]}),
    ("too many tags", {"title": "x", "tags": [f"t{i}" for i in range(21)]}),
    ("bad date", {"title": "x", "review_date": "next week"}),
    ("oversized body", {"title": "x", "body": "b" * 100_001}),
    ("oversized title", {"title": "t" * 201}),
    ("missing category", {"title": "x", "category_id": 12345}),
    ("owner not staff", {"title": "x", "owner_id": 99999}),
]


@pytest.mark.sqlite_only  # input validation: PostgreSQL would add time, not coverage
@pytest.mark.parametrize(("label", "body"), BAD_ARTICLES, ids=[b[0] for b in BAD_ARTICLES])
async def test_bad_article_input_changes_nothing(
        server: RunningServer, clients: dict[str, Client], label: str,
        body: dict[str, Any]) -> None:
    """A wrong type, value, unknown field or oversized text is a 422 and stores nothing."""
    tech = clients["technician"]
    art = await _article(tech)
    before = await snapshot(server)
    created = await tech.post("/api/v1/kb/articles", json=body)
    assert created.status == 422, (label, created.body)
    assert created.error_code == "validation_error"
    edited = await tech.patch(f"/api/v1/kb/articles/{art['id']}", json=body)
    assert edited.status == 422, (label, edited.body)
    assert await snapshot(server) == before


async def test_other_bad_input_changes_nothing(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """Bad feedback, deflections, queries and cursors get 4xx errors and store nothing."""
    tech, req = clients["technician"], clients["requester"]
    art = await _public(tech)
    path = f"/api/v1/kb/articles/{art['id']}"
    before = await snapshot(server)
    for method, url, body, status in (
            ("PUT", f"{path}/feedback", {"helpful": "yes"}, 422),
            ("PUT", f"{path}/feedback", {"helpful": True, "comment": "c" * 2001}, 422),
            ("PUT", f"{path}/feedback", {"helpful": True, "stars": 5}, 422),
            ("POST", f"{path}/deflections", {"query": "q" * 201}, 422),
            ("POST", f"{path}/deflections", {"query": 3}, 422),
            ("POST", f"{path}/acknowledge", {"x": 1}, 422),
            ("PATCH", path, {}, 422),
            ("GET", "/api/v1/kb/search?q=", None, 422),
            ("GET", "/api/v1/kb/search", None, 422),
            ("GET", f"/api/v1/kb/search?q={'a' * 201}", None, 422),
            ("GET", "/api/v1/kb/search?q=a&cursor=WzEuNSwgM10", None, 400),
            ("GET", "/api/v1/kb/search?q=a&cursor=WyJ4Il0", None, 400),
            ("GET", "/api/v1/kb/articles?cursor=%25%25bad", None, 400),
            ("GET", "/api/v1/kb/articles?status=gone", None, 422),
            ("GET", f"{path}/diff?from=0&to=1", None, 422),
            ("GET", f"{path}/diff?from=1", None, 422),
            ("GET", "/api/v1/kb/suggest?q=x&extra=1", None, 422),
            ("GET", "/api/v1/kb/articles/99999999999999999999", None, 404)):
        client = tech if method in ("PATCH", "GET") else req
        resp = await client.request(method, url, json=body)
        assert resp.status == status, (method, url, resp.body)
        resp.error_code  # noqa: B018 - asserts the error shape
    assert await snapshot(server) == before
