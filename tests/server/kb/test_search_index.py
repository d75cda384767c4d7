"""Search through the tantivy index: phrases, stems, filters kept in step, crash replay."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from server.kb.tables import kb_articles, kb_search_queue
from tests.server.kb.test_kb_api import _public
from tests.support.server import ADMIN_PASSWORD, Client, RunningServer, start_server
from tests.support.waiting import eventually


def _ids(resp: Any) -> list[int]:
    return [h["article"]["id"] for h in resp.json["items"]]


async def test_phrases_and_stems(clients: dict[str, Client]) -> None:
    """Quoted words match only in order; inflected words find their stems."""
    tech = clients["technician"]
    ordered = await _public(tech, title="Mail", body="To reset the password, open Outlook.")
    reversed_ = await _public(tech, title="Mail 2", body="The password will reset itself.")
    phrase = quote('"reset the password"')
    found = await tech.get(f"/api/v1/kb/search?q={phrase}")
    assert _ids(found) == [ordered["id"]]
    both = await tech.get("/api/v1/kb/search?q=resetting%20passwords")
    assert set(_ids(both)) == {ordered["id"], reversed_["id"]}
    snippet = found.json["items"][0]["snippet"]
    assert "\u0002reset\u0003" in snippet and "\u0002password\u0003" in snippet


async def test_edits_reach_the_index_at_once(clients: dict[str, Client]) -> None:
    """Publishing, hiding, retagging and retitling show in the next search."""
    tech, req = clients["technician"], clients["requester"]
    resp = await tech.post("/api/v1/kb/articles", json={
        "title": "Scanner drivers", "body": "Install the driver.", "visibility": "public"})
    art = resp.json
    assert _ids(await req.get("/api/v1/kb/search?q=scanner")) == []
    await tech.patch(f"/api/v1/kb/articles/{art['id']}", json={"status": "published"})
    assert _ids(await req.get("/api/v1/kb/search?q=scanner")) == [art["id"]]
    assert _ids(await req.get("/api/v1/kb/suggest?q=scann")) == [art["id"]]
    await tech.patch(f"/api/v1/kb/articles/{art['id']}", json={"tags": ["hardware"]})
    assert _ids(await tech.get("/api/v1/kb/search?q=scanner&tag=hardware")) == [art["id"]]
    await tech.patch(f"/api/v1/kb/articles/{art['id']}", json={"title": "Flatbed setup"})
    assert _ids(await tech.get("/api/v1/kb/search?q=flatbed")) == [art["id"]]
    await tech.patch(f"/api/v1/kb/articles/{art['id']}", json={"visibility": "internal"})
    assert _ids(await req.get("/api/v1/kb/search?q=flatbed")) == []
    assert _ids(await tech.get("/api/v1/kb/search?q=flatbed")) == [art["id"]]


async def _queue_empty(server: RunningServer) -> bool:
    return await server.db.read(lambda c: c.execute(
        sa.select(sa.func.count()).select_from(kb_search_queue)).scalar_one()) == 0


async def _restart(server: RunningServer, *, lose_index: bool = False) -> RunningServer:
    """Stop the server and start it again on the same data; wait for its catch-up."""
    await server.close()
    data = Path(server.settings.data_dir)
    if lose_index:
        await asyncio.to_thread(shutil.rmtree, data / "kb-index")
    server = await start_server(data)
    await eventually(lambda: _queue_empty(server))
    return server


async def test_queued_edits_are_replayed_after_a_crash(server: RunningServer,
                                                       admin: Client) -> None:
    """An edit committed to the database but not to the index is indexed on restart;
    a lost index directory is rebuilt from the database."""
    art = await _public(admin, title="Keyboard layout", body="Switch the layout.")

    def crash_after_commit(conn: Any) -> None:
        conn.execute(kb_articles.update().where(kb_articles.c.id == art["id"])
                     .values(title="Trackball cleaning"))
        conn.execute(kb_search_queue.insert().values(article_id=art["id"]))

    await server.db.write(crash_after_commit)
    server = await _restart(server)
    try:
        client = await server.login("admin", ADMIN_PASSWORD)
        assert _ids(await client.get("/api/v1/kb/search?q=trackball")) == [art["id"]]
        assert _ids(await client.get("/api/v1/kb/search?q=keyboard")) == []
        server = await _restart(server, lose_index=True)
        client = await server.login("admin", ADMIN_PASSWORD)
        assert _ids(await client.get("/api/v1/kb/search?q=trackball")) == [art["id"]]
    finally:
        await server.close()


async def test_suggestions_match_a_typed_sentence(clients: dict[str, Client]) -> None:
    """Suggestions rank articles by the significant words of a whole sentence, while
    search needs every word."""
    tech, req = clients["technician"], clients["requester"]
    jam = await _public(tech, title="Printer paper jam", body="Open the rear door.")
    toner = await _public(tech, title="Replace the toner", body="Printer toner is in room 2.")
    sentence = quote("the printer on floor 2 says there is a paper jam")
    found = await req.get(f"/api/v1/kb/suggest?q={sentence}")
    assert _ids(found)[0] == jam["id"] and set(_ids(found)) == {jam["id"], toner["id"]}
    assert _ids(await req.get(f"/api/v1/kb/search?q={sentence}")) == []
    assert _ids(await req.get("/api/v1/kb/suggest?q=the%20is%20there")) == []


async def test_preview_renders_like_a_saved_article(clients: dict[str, Client]) -> None:
    """Staff preview Markdown as sanitized HTML; requesters may not; bad bodies are refused."""
    tech, req = clients["technician"], clients["requester"]
    resp = await tech.post("/api/v1/kb/preview",
                           json={"body": "**bold** <img src=x onerror=alert(1)><script>x</script>"})
    assert resp.status == 200
    assert "<strong>bold</strong>" in resp.json["html"]
    assert "onerror" not in resp.json["html"] and "<script" not in resp.json["html"]
    assert (await req.post("/api/v1/kb/preview", json={"body": "x"})).status == 403
    assert (await clients["anonymous"].post("/api/v1/kb/preview",
                                            json={"body": "x"})).status == 401
    for bad in ({"body": 3}, {"body": "x", "title": "y"}, {}, {"body": "x" * 100_001}):
        refused = await tech.post("/api/v1/kb/preview", json=bad)
        assert refused.status == 422, (bad, refused.body)
        assert refused.error_code == "validation_error"


async def test_suggestions_forgive_a_typo(clients: dict[str, Client]) -> None:
    """A word one typo away (here two letters swapped) still suggests the article."""
    tech, req = clients["technician"], clients["requester"]
    jam = await _public(tech, title="Printer paper jam", body="Open the rear door.")
    found = await req.get("/api/v1/kb/suggest?q=my%20pritner%20is%20broken")
    assert _ids(found) == [jam["id"]]
    assert _ids(await req.get("/api/v1/kb/search?q=pritner%20")) == []


def test_phrases_match_adjacent_words_in_order_only(tmp_path: Path) -> None:
    """Phrases go through the pairs fields: two words are one pair, longer phrases a
    run of pairs; words apart, out of order or split across fields do not match."""
    from server.kb.search_index import Doc, Filters, SearchIndex
    from server.kb.search_query import parse

    def doc(aid: int, title: str, text: str) -> Doc:
        return Doc(article_id=aid, title=title, summary="", text=text,
                   visibility="public", status="published", category_id=None, tags=())

    index = SearchIndex(tmp_path / "index")
    try:
        index.apply([
            doc(1, "Printer", "Turn the printer off and on again."),
            doc(2, "Printer off", "The printer stays on; never turn it off."),
            doc(3, "Turn the printer", "off and on again"),  # split across fields
            doc(4, "Printers", "Turning printers off and on fixes most jams."),
            doc(5, "Turn the printer off", "Nothing else."),
        ], [])

        def ids(q: str) -> list[int]:
            hits = index.search(parse(q, index.analyze), Filters(), offset=0, limit=10)
            return [aid for aid, _, _ in hits]

        assert set(ids('"printer off"')) == {1, 2, 4, 5}  # 2 by its title, 4 by stems
        # Stems: "turning printers off" is "turn printer off".
        assert set(ids('"turn the printer off"')) == {1, 5}
        assert set(ids('"turning printers off"')) == {4}
        assert ids('"off the printer"') == []
        assert ids('"printer on"') == []
        # A title phrase outranks the same phrase in a body.
        assert ids('"turn the printer off"')[0] == 5
    finally:
        index.close()
