"""HTTP handlers of the script library and the script policy of device groups.

Staff (admins and technicians) read the library and write scripts; each edit is a new
version. Only an admin approves a version, and never one they wrote themselves: every
script that runs has been read by a second person.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from server.api.routing import ADMIN, STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.errors import Forbidden, ValidationFailed
from server.keys import DATABASE
from server.scripts import library
from server.scripts.params import ParamError, check_declaration
from server.scripts.schemas import (
    Script,
    ScriptList,
    ScriptPolicy,
    ScriptPolicyUpdate,
    ScriptWrite,
)
from shared import scripts as sc

router = Router("scripts")
SCR = r"{script_id:\d{1,18}}"
VER = r"{version:\d{1,9}}"
GID = r"{group_id:\d{1,18}}"


def _checked(body: ScriptWrite) -> ScriptWrite:
    body.name = " ".join(body.name.split())
    if not body.name:
        raise ValidationFailed("the name is empty", field="name")
    if len(body.body.encode("utf-8", "replace")) > sc.MAX_BODY_BYTES:
        raise ValidationFailed("the script is longer than {limit} bytes", field="body",
                               limit=sc.MAX_BODY_BYTES)
    if "\x00" in body.body:
        raise ValidationFailed("the script holds a NUL character", field="body")
    try:
        check_declaration(body.parameters)
    except ParamError as exc:
        raise ValidationFailed(exc.message, field="parameters") from exc
    return body


def _audit(conn: Any, *, actor_id: int, action: str, script_id: int, now: Any,
           **details: Any) -> None:
    from server.users import store as audit

    audit.record(conn, actor_id=actor_id, action=action, target_type="script",
                 target_id=script_id, now=now, **details)


@router.route("GET", "/api/v1/scripts", roles=STAFF, summary="List the script library",
              response=ScriptList)
async def list_scripts(req: ApiRequest) -> ScriptList:
    return ScriptList(items=await req.app[DATABASE].read(library.list_scripts))


@router.route("POST", "/api/v1/scripts", roles=STAFF,
              summary="Add a script (its first version awaits an admin's approval)",
              body=ScriptWrite, response=Script, status=201)
async def create_script(req: ApiRequest) -> Script:
    body = _checked(req.body)
    me, now = req.user, utcnow()

    def run(conn: Any) -> Script:
        script_id = library.create(conn, body, author_id=me.user_id, now=now)
        _audit(conn, actor_id=me.user_id, action="script.create", script_id=script_id,
               now=now, name=body.name, version=1)
        return library.get_script(conn, script_id)

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/scripts/{SCR}", roles=STAFF,
              summary="Get a script with its versions", response=Script)
async def get_script(req: ApiRequest) -> Script:
    script_id = int(req.params["script_id"])
    return await req.app[DATABASE].read(lambda c: library.get_script(c, script_id))


@router.route("PUT", f"/api/v1/scripts/{SCR}", roles=STAFF,
              summary="Edit a script: stores a new version that awaits approval",
              body=ScriptWrite, response=Script)
async def edit_script(req: ApiRequest) -> Script:
    script_id = int(req.params["script_id"])
    body = _checked(req.body)
    me, now = req.user, utcnow()

    def run(conn: Any) -> Script:
        version = library.update(conn, script_id, body, author_id=me.user_id, now=now)
        _audit(conn, actor_id=me.user_id, action="script.edit", script_id=script_id,
               now=now, name=body.name, version=version)
        return library.get_script(conn, script_id)

    return await req.app[DATABASE].write(run)


@router.route("POST", f"/api/v1/scripts/{SCR}/versions/{VER}/approve", roles=ADMIN,
              summary="Approve a script version so that it may run (not by its author)",
              response=Script)
async def approve_script_version(req: ApiRequest) -> Script:
    script_id, version = int(req.params["script_id"]), int(req.params["version"])
    me, now = req.user, utcnow()

    def run(conn: Any) -> Script:
        row = library.version_row(conn, script_id, version)
        if row.author_id == me.user_id:
            raise Forbidden("you wrote this version; another admin must approve it",
                            code="own_version")
        library.approve(conn, script_id, version, admin_id=me.user_id, now=now)
        _audit(conn, actor_id=me.user_id, action="script.approve", script_id=script_id,
               now=now, version=version)
        return library.get_script(conn, script_id)

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/groups/{GID}/script-policy", roles=ADMIN,
              summary="Get a device group's script policy", response=ScriptPolicy)
async def get_script_policy(req: ApiRequest) -> ScriptPolicy:
    group_id = int(req.params["group_id"])
    root = await req.app[DATABASE].read(lambda c: library.get_policy(c, group_id))
    return ScriptPolicy(group_id=group_id, run_as_root=root)


@router.route("PUT", f"/api/v1/groups/{GID}/script-policy", roles=ADMIN,
              summary="Set a device group's script policy", body=ScriptPolicyUpdate,
              response=ScriptPolicy)
async def put_script_policy(req: ApiRequest) -> ScriptPolicy:
    group_id = int(req.params["group_id"])
    body: ScriptPolicyUpdate = req.body
    if body.run_as_root is UNSET:
        raise ValidationFailed("give run_as_root")
    root = bool(body.run_as_root)
    me, now = req.user, utcnow()

    def run(conn: Any) -> None:
        library.set_policy(conn, group_id, run_as_root=root, actor_id=me.user_id, now=now)
        from server.users import store as audit

        audit.record(conn, actor_id=me.user_id, action="script_policy.set",
                     target_type="group", target_id=group_id, now=now, run_as_root=root)

    await req.app[DATABASE].write(run)
    return ScriptPolicy(group_id=group_id, run_as_root=root)
