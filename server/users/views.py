"""HTTP handlers for users and groups."""

from __future__ import annotations

from typing import Any

from server.agents.languages import push_for_user
from server.api.pagination import INT, decode_cursor, encode_cursor
from server.api.routing import ADMIN, ANY_USER, STAFF, ApiRequest, Router, page_limit
from server.auth import credentials
from server.auth.passwords import password_problem
from server.db.schema import utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.i18n.catalogues import languages
from server.keys import DATABASE, HUB, KDF_GATE
from server.users import store
from server.users.schemas import (
    Group,
    GroupCreate,
    GroupPage,
    GroupUpdate,
    PageQuery,
    User,
    UserCreate,
    UserPage,
    UserQuery,
    UserUpdate,
    to_builtins,
)

router = Router("users")
ID = r"{user_id:\d{1,18}}"
GID = r"{group_id:\d{1,18}}"
# What a user may change on their own account without being an admin.
SELF_SERVICE_FIELDS = frozenset({"language"})
# Changes that decide what agents are told of a person bound to their logins (the
# language; a role or activity that makes the person bindable or not).
AGENT_FIELDS = frozenset({"language", "role", "active"})


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    (after,) = decode_cursor(cursor, INT)
    return int(after)


@router.route("GET", "/api/v1/users", roles=STAFF, summary="List users",
              query=UserQuery, response=UserPage)
async def list_users(req: ApiRequest) -> UserPage:
    q: UserQuery = req.query
    limit = page_limit(req.app, q.limit)
    after = _after(q.cursor)
    ids = [int(i) for i in q.ids.split(",")] if q.ids else None
    items = await req.app[DATABASE].read(lambda c: store.list_users(
        c, after=after, limit=limit + 1, role=q.role, q=q.q, active=q.active,
        group_id=q.group_id, ids=ids))
    more = len(items) > limit
    items = items[:limit]
    return UserPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


@router.route("POST", "/api/v1/users", roles=ADMIN, summary="Create a user",
              body=UserCreate, response=User, status=201, limited=True)
async def create_user(req: ApiRequest) -> User:
    body: UserCreate = req.body
    if body.password is not None and (problem := password_problem(body.password)):
        raise ValidationFailed(problem)
    actor = req.user.user_id
    pw_hash = (await req.app[KDF_GATE].hash(f"user:{actor}", body.password)
               if body.password is not None else None)

    def run(conn: Any) -> User:
        now = utcnow()
        user_id = store.create_user(conn, username=body.username,
                                    display_name=body.display_name, role=body.role,
                                    email=body.email, password_hash=pw_hash, now=now)
        store.record(conn, actor_id=actor, action="user.create", target_type="user",
                     target_id=user_id, now=now, username=body.username, role=body.role)
        return store.get_user(conn, user_id)

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/users/{ID}", roles=ANY_USER, summary="Get a user",
              response=User)
async def get_user(req: ApiRequest) -> User:
    user_id = int(req.params["user_id"])
    if not req.user.is_staff and user_id != req.user.user_id:
        raise NotFound("no user with id {user_id}",
                       user_id=user_id)  # requesters see only themselves
    return await req.app[DATABASE].read(lambda c: store.get_user(c, user_id))


def _check_own_changes(req: ApiRequest, user_id: int, changes: dict[str, Any]) -> None:
    """Refuse a non-admin's change to another user, or to more than their own settings."""
    if req.user.role == "admin":
        return
    if user_id != req.user.user_id:
        if not req.user.is_staff:
            raise NotFound("no user with id {user_id}", user_id=user_id)
        raise Forbidden("only an admin may change another user")
    if others := sorted(set(changes) - SELF_SERVICE_FIELDS):
        raise Forbidden("only an admin may change {fields}", fields=", ".join(others))


def check_language(changes: dict[str, Any]) -> None:
    """Refuse a ``language`` the server has no catalogue for (None is the browser's)."""
    code = changes.get("language")
    if code is not None and code not in languages():
        raise ValidationFailed("{field}: {language!r} is not a language of this server; "
                               "choose one of {choices}", field="language", language=code,
                               choices=", ".join(languages()))


@router.route("PATCH", f"/api/v1/users/{ID}", roles=ANY_USER, summary="Update a user",
              body=UserUpdate, response=User, limited=True)
async def update_user(req: ApiRequest) -> User:
    """Admins change anyone; every user changes their own language (and, through
    /api/v1/account, their own name, e-mail address, time zone and language)."""
    user_id = int(req.params["user_id"])
    changes = to_builtins(req.body)
    _check_own_changes(req, user_id, changes)
    check_language(changes)
    password = changes.pop("password", None)
    actor = req.user.user_id
    if isinstance(password, str):
        if problem := password_problem(password):
            raise ValidationFailed(problem)
        changes["password_hash"] = await req.app[KDF_GATE].hash(f"user:{actor}", password)

    def run(conn: Any) -> User:
        before = store.get_user(conn, user_id)
        if store.is_system_username(before.username) and {"password_hash", "email",
                                                           "role"} & set(changes):
            raise Conflict("{username!r} is the server's own account: nobody logs "
                           "in as it and it gets no mail", code="system_account",
                           username=before.username)
        demoted = before.role == "admin" and (
            changes.get("role", "admin") != "admin" or changes.get("active") is False)
        if demoted and before.active and store.count_active_admins(conn) <= 1:
            raise Conflict("cannot remove the last active admin")
        now = utcnow()
        store.update_user(conn, user_id, changes, now)
        if changes.get("active") is False or "password_hash" in changes or (
                "role" in changes and changes["role"] != before.role):
            credentials.delete_user_sessions(conn, user_id)
        # An admin reset answers a compromise, and a deactivated user's tokens must not
        # come back with a reactivation: tokens go in all three cases. (Reactivation
        # also clears tokens left by versions that kept them on deactivation.)
        if "password_hash" in changes or (
                "active" in changes and changes["active"] != before.active):
            credentials.delete_user_tokens(conn, user_id)
        store.record(conn, actor_id=actor, action="user.update", target_type="user",
                     target_id=user_id, now=now,
                     fields=sorted(k if k != "password_hash" else "password" for k in changes))
        return store.get_user(conn, user_id)

    user = await req.app[DATABASE].write(run)
    if AGENT_FIELDS & set(changes):  # the agents of the person's devices speak it now
        await push_for_user(req.app[DATABASE], req.app[HUB], user_id)
    return user


@router.route("GET", "/api/v1/groups", roles=STAFF, summary="List groups",
              query=PageQuery, response=GroupPage)
async def list_groups(req: ApiRequest) -> GroupPage:
    q: PageQuery = req.query
    limit = page_limit(req.app, q.limit)
    after = _after(q.cursor)
    items = await req.app[DATABASE].read(
        lambda c: store.list_groups(c, after=after, limit=limit + 1))
    more = len(items) > limit
    items = items[:limit]
    return GroupPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


@router.route("POST", "/api/v1/groups", roles=ADMIN, summary="Create a group",
              body=GroupCreate, response=Group, status=201)
async def create_group(req: ApiRequest) -> Group:
    body: GroupCreate = req.body
    name = body.name.strip()
    if not name:
        raise ValidationFailed("group name must not be blank")
    actor = req.user.user_id

    def run(conn: Any) -> Group:
        now = utcnow()
        group_id = store.create_group(conn, name=name, description=body.description, now=now,
                                      auto_assign=body.auto_assign)
        store.record(conn, actor_id=actor, action="group.create", target_type="group",
                     target_id=group_id, now=now, name=name)
        return store.get_group(conn, group_id)

    return await req.app[DATABASE].write(run)


@router.route("GET", f"/api/v1/groups/{GID}", roles=STAFF, summary="Get a group",
              response=Group)
async def get_group(req: ApiRequest) -> Group:
    group_id = int(req.params["group_id"])
    return await req.app[DATABASE].read(lambda c: store.get_group(c, group_id))


@router.route("PATCH", f"/api/v1/groups/{GID}", roles=ADMIN, summary="Update a group",
              body=GroupUpdate, response=Group)
async def update_group(req: ApiRequest) -> Group:
    group_id = int(req.params["group_id"])
    changes = to_builtins(req.body)
    if isinstance(changes.get("name"), str):
        changes["name"] = str(changes["name"]).strip()
        if not changes["name"]:
            raise ValidationFailed("group name must not be blank")
    actor = req.user.user_id

    def run(conn: Any) -> Group:
        store.update_group(conn, group_id, changes)
        store.record(conn, actor_id=actor, action="group.update", target_type="group",
                     target_id=group_id, now=utcnow(), fields=sorted(changes))
        return store.get_group(conn, group_id)

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/groups/{GID}", roles=ADMIN, summary="Delete a group",
              status=204)
async def delete_group(req: ApiRequest) -> None:
    group_id = int(req.params["group_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.delete_group(conn, group_id)
        store.record(conn, actor_id=actor, action="group.delete", target_type="group",
                     target_id=group_id, now=utcnow())

    await req.app[DATABASE].write(run)


@router.route("PUT", f"/api/v1/groups/{GID}/members/{ID}", roles=ADMIN,
              summary="Add a group member", response=Group)
async def add_member(req: ApiRequest) -> Group:
    group_id, user_id = int(req.params["group_id"]), int(req.params["user_id"])
    actor = req.user.user_id

    def run(conn: Any) -> Group:
        if store.add_member(conn, group_id, user_id):
            store.record(conn, actor_id=actor, action="group.member_add",
                         target_type="group", target_id=group_id, now=utcnow(),
                         user_id=user_id)
        return store.get_group(conn, group_id)

    return await req.app[DATABASE].write(run)


@router.route("DELETE", f"/api/v1/groups/{GID}/members/{ID}", roles=ADMIN,
              summary="Remove a group member", status=204)
async def remove_member(req: ApiRequest) -> None:
    group_id, user_id = int(req.params["group_id"]), int(req.params["user_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.remove_member(conn, group_id, user_id)
        store.record(conn, actor_id=actor, action="group.member_remove", target_type="group",
                     target_id=group_id, now=utcnow(), user_id=user_id)

    await req.app[DATABASE].write(run)
