"""HTTP handlers for the desk's saved views (server/tickets/saved_views.py decides who may)."""

from __future__ import annotations

from typing import Any

from server.api.routing import STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.keys import DATABASE
from server.tickets import saved_views as store
from server.tickets.saved_views import SavedView, SavedViewCreate, SavedViewList, SavedViewUpdate
from server.users import store as audit

router = Router("tickets")
VID = r"{view_id:\d{1,18}}"


@router.route("GET", "/api/v1/views", roles=STAFF,
              summary="List my saved desk views and the shared ones", response=SavedViewList)
async def list_views(req: ApiRequest) -> SavedViewList:
    me = req.user
    return SavedViewList(items=await req.app[DATABASE].read(lambda c: store.list_views(c, me)))


@router.route("GET", f"/api/v1/views/{VID}", roles=STAFF, summary="Get a saved desk view",
              response=SavedView)
async def get_view(req: ApiRequest) -> SavedView:
    me, view_id = req.user, int(req.params["view_id"])
    return await req.app[DATABASE].read(lambda c: store.get_view(c, me, view_id))


@router.route("POST", "/api/v1/views", roles=STAFF,
              summary="Save the desk's filters and sort as a view", body=SavedViewCreate,
              response=SavedView, status=201)
async def create_view(req: ApiRequest) -> SavedView:
    me, body = req.user, req.body

    def run(conn: Any) -> SavedView:
        now = utcnow()
        view_id = store.create_view(conn, me, body, now)
        audit.record(conn, actor_id=me.user_id, action="view.create", target_type="view",
                     target_id=view_id, now=now, shared=body.shared)
        return store.get_view(conn, me, view_id)

    return await req.app[DATABASE].write(run)


@router.route("PATCH", f"/api/v1/views/{VID}", roles=STAFF,
              summary="Rename, change or share a saved desk view", body=SavedViewUpdate,
              response=SavedView)
async def update_view(req: ApiRequest) -> SavedView:
    me, body, view_id = req.user, req.body, int(req.params["view_id"])

    def run(conn: Any) -> SavedView:
        now = utcnow()
        changed = store.update_view(conn, me, view_id, body, now)
        if changed:
            audit.record(conn, actor_id=me.user_id, action="view.update", target_type="view",
                         target_id=view_id, now=now, fields=changed)
        return store.get_view(conn, me, view_id)

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/views/{VID}", roles=STAFF,
              summary="Delete a saved desk view", status=204)
async def delete_view(req: ApiRequest) -> None:
    me, view_id = req.user, int(req.params["view_id"])

    def run(conn: Any) -> None:
        name = store.delete_view(conn, me, view_id)
        audit.record(conn, actor_id=me.user_id, action="view.delete", target_type="view",
                     target_id=view_id, now=utcnow(), name=name)

    await req.app[DATABASE].write(run)
