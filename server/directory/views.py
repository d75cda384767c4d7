"""HTTP handlers of the directories API: records, test connection, preview and sync."""

from __future__ import annotations

import asyncio
from typing import Any

from server.api.routing import ADMIN, ApiRequest, Router
from server.db.schema import utcnow
from server.directory import client, store, sync
from server.directory.schemas import (
    ConnectionTest,
    Directory,
    DirectoryBody,
    DirectoryList,
    SyncReport,
)
from server.directory.signin import _ldap_threads
from server.errors import ServiceUnavailable, ValidationFailed
from server.keys import DATABASE
from server.users import store as user_store

router = Router("directories")
PATH = r"/api/v1/directories/{directory_id:\d{1,18}}"


def _check(body: DirectoryBody) -> None:
    cfg = client.Config(id=0, name=body.name, kind=body.kind, urls=body.urls,
                        security=body.security, allow_plaintext=body.allow_plaintext,
                        ca_pem=body.ca_pem, bind_dn=body.bind_dn, bind_password="",
                        user_base=body.user_base, user_filter=body.user_filter,
                        disabled_filter=body.disabled_filter, attributes={},
                        group_base=body.group_base, group_filter=body.group_filter,
                        nested_groups=body.nested_groups, group_mappings=[],
                        default_role=body.default_role, page_size=body.page_size,
                        timeout_seconds=body.timeout_seconds)
    if problem := client.transport_problem(cfg):
        raise ValidationFailed(problem, code="plaintext_refused"
                               if body.security == "plain" else "validation_error")


@router.route("GET", "/api/v1/directories", roles=ADMIN, summary="List directories",
              response=DirectoryList)
async def list_directories(req: ApiRequest) -> DirectoryList:
    return DirectoryList(items=await req.app[DATABASE].read(store.list_directories))


@router.route("POST", "/api/v1/directories", roles=ADMIN, summary="Add a directory",
              body=DirectoryBody, response=Directory, status=201)
async def create_directory(req: ApiRequest) -> Directory:
    body: DirectoryBody = req.body
    _check(body)
    actor = req.user.user_id

    def run(conn: Any) -> Directory:
        now = utcnow()
        directory_id = store.create_directory(conn, body, now)
        user_store.record(conn, actor_id=actor, action="directory.create",
                          target_type="directory", target_id=directory_id, now=now,
                          name=body.name)
        return store.get_directory(conn, directory_id)

    return await req.app[DATABASE].write(run)


@router.route("GET", PATH, roles=ADMIN, summary="Get a directory", response=Directory)
async def get_directory(req: ApiRequest) -> Directory:
    directory_id = int(req.params["directory_id"])
    return await req.app[DATABASE].read(lambda c: store.get_directory(c, directory_id))


@router.route("PUT", PATH, roles=ADMIN, summary="Change a directory", body=DirectoryBody,
              response=Directory)
async def update_directory(req: ApiRequest) -> Directory:
    body: DirectoryBody = req.body
    _check(body)
    directory_id = int(req.params["directory_id"])
    actor = req.user.user_id

    def run(conn: Any) -> Directory:
        now = utcnow()
        store.update_directory(conn, directory_id, body, now)
        user_store.record(conn, actor_id=actor, action="directory.update",
                          target_type="directory", target_id=directory_id, now=now,
                          name=body.name, bind_password_changed=isinstance(
                              body.bind_password, str))
        return store.get_directory(conn, directory_id)

    return await req.app[DATABASE].write(run)


@router.route("DELETE", PATH, roles=ADMIN,
              summary="Delete a directory (its users are deactivated)", status=204)
async def delete_directory(req: ApiRequest) -> None:
    directory_id = int(req.params["directory_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        deactivated = store.delete_directory(conn, directory_id)
        user_store.record(conn, actor_id=actor, action="directory.delete",
                          target_type="directory", target_id=directory_id, now=utcnow(),
                          users_deactivated=deactivated)

    await req.app[DATABASE].write(run)


def _test(cfg: client.Config) -> ConnectionTest:
    try:
        conn = client.service_connection(cfg)
    except (client.DirectoryError, client.LdapFailure) as exc:
        return ConnectionTest(ok=False, message=str(exc))
    try:
        conn.search(cfg.user_base, f"(&{client._wrap(cfg.user_filter)})",
                    attributes=["1.1"], size_limit=1000)
        found = len([e for e in conn.response or [] if e.get("type") == "searchResEntry"])
        server = str(conn.server.host) if conn.server is not None else None
        return ConnectionTest(ok=True, server=server, users_found=found,
                              message=f"connected and bound as {cfg.bind_dn!r}; the user "
                                      f"search finds {found}"
                                      f"{'+' if found >= 1000 else ''} entries")
    finally:
        conn.unbind()


@router.route("POST", PATH + "/test", roles=ADMIN,
              summary="Test the connection and service bind of a directory",
              response=ConnectionTest)
async def test_directory_connection(req: ApiRequest) -> ConnectionTest:
    directory_id = int(req.params["directory_id"])
    row = await req.app[DATABASE].read(lambda c: store.get_row(c, directory_id))
    return await asyncio.get_running_loop().run_in_executor(
        _ldap_threads, _test, client.Config.from_row(row))


async def _sync(req: ApiRequest, *, preview: bool) -> SyncReport:
    directory_id = int(req.params["directory_id"])
    try:
        return await sync.run(req.app, directory_id, preview=preview,
                              actor_id=req.user.user_id)
    except client.DirectoryError as exc:
        raise ServiceUnavailable(str(exc), code="directory_unavailable") from exc


@router.route("POST", PATH + "/preview", roles=ADMIN,
              summary="Show what a sync of a directory would change (writes nothing)",
              response=SyncReport)
async def preview_directory_sync(req: ApiRequest) -> SyncReport:
    return await _sync(req, preview=True)


@router.route("POST", PATH + "/sync", roles=ADMIN, summary="Sync a directory now",
              response=SyncReport)
async def sync_directory(req: ApiRequest) -> SyncReport:
    return await _sync(req, preview=False)
