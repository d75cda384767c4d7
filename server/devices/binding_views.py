"""HTTP handlers for device bindings: which requester a login on a device is, the logins
seen there, the group binding rules, and the devices of a person."""

from __future__ import annotations

from typing import Any

from server.agents.languages import push_languages
from server.api.routing import ADMIN, ANY_USER, STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.devices import bindings, logins, store
from server.devices.binding_schemas import (
    BindingEvent,
    BindingHistory,
    BindingRule,
    BindingRuleSet,
    LoginSeen,
    LoginSeenList,
    PersonDevice,
    PersonDeviceList,
)
from server.devices.schemas import (
    BoundUser,
    DeviceBinding,
    DeviceBindingList,
    DeviceBindingSet,
)
from server.errors import NotFound
from server.keys import DATABASE, HUB
from server.users import store as user_store

router = Router("devices")
DID = r"{device_id:\d{1,18}}"
LOGIN = r"{login:[A-Za-z0-9._@-]{1,64}}"
GID = r"{group_id:\d{1,18}}"
UID = r"{user_id:\d{1,18}}"


def _binding(b: bindings.Binding) -> DeviceBinding:
    return DeviceBinding(login=b.login, created_at=b.created_at, source=b.source,
                         user=BoundUser(id=b.user_id, username=b.username,
                                        display_name=b.display_name))


@router.route("GET", f"/api/v1/devices/{DID}/bindings", roles=STAFF,
              summary="List who the logins on a device are", response=DeviceBindingList)
async def list_bindings(req: ApiRequest) -> DeviceBindingList:
    device_id = int(req.params["device_id"])

    def run(conn: Any) -> list[bindings.Binding]:
        store.get_device_row(conn, device_id)
        return bindings.list_bindings(conn, device_id)

    found = await req.app[DATABASE].read(run)
    return DeviceBindingList(items=[_binding(b) for b in found])


@router.route("GET", f"/api/v1/devices/{DID}/bindings/{LOGIN}", roles=STAFF,
              summary="Tell who a login on a device is (404: the device's unknown user)",
              response=DeviceBinding)
async def get_binding(req: ApiRequest) -> DeviceBinding:
    device_id, login = int(req.params["device_id"]), str(req.params["login"])

    def run(conn: Any) -> bindings.Binding | None:
        store.get_device_row(conn, device_id)
        return bindings.resolve(conn, device_id, login)

    found = await req.app[DATABASE].read(run)
    if found is None:
        raise NotFound("login {login!r} on device {device_id} is bound to nobody", login=login,
                       device_id=device_id)
    return _binding(found)


@router.route("PUT", f"/api/v1/devices/{DID}/bindings/{LOGIN}", roles=STAFF,
              summary="Bind a login on a device to a requester", body=DeviceBindingSet,
              response=DeviceBinding)
async def set_binding(req: ApiRequest) -> DeviceBinding:
    device_id, login = int(req.params["device_id"]), str(req.params["login"])
    body: DeviceBindingSet = req.body
    actor = req.user.user_id

    def run(conn: Any) -> bindings.Binding:
        store.get_device_row(conn, device_id)
        return bindings.bind(conn, device_id, login, body.user_id, actor_id=actor,
                             now=utcnow(), source="staff")

    made = await req.app[DATABASE].write(run)
    await push_languages(req.app[DATABASE], req.app[HUB], [device_id])
    return _binding(made)


@router.route("DELETE", f"/api/v1/devices/{DID}/bindings/{LOGIN}", roles=STAFF,
              summary="Remove a login's binding on a device", status=204)
async def delete_binding(req: ApiRequest) -> None:
    device_id, login = int(req.params["device_id"]), str(req.params["login"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.get_device_row(conn, device_id)
        bindings.unbind(conn, device_id, login, actor_id=actor, now=utcnow())

    await req.app[DATABASE].write(run)
    await push_languages(req.app[DATABASE], req.app[HUB], [device_id])


def _person(p: logins.Person | None) -> BoundUser | None:
    return None if p is None else BoundUser(id=p.id, username=p.username,
                                            display_name=p.display_name)


@router.route("GET", f"/api/v1/devices/{DID}/logins", roles=STAFF,
              summary="List the logins seen on a device and who each is bound to",
              response=LoginSeenList)
async def list_logins(req: ApiRequest) -> LoginSeenList:
    device_id = int(req.params["device_id"])

    def run(conn: Any) -> list[logins.LoginSeen]:
        store.get_device_row(conn, device_id)
        return logins.list_seen(conn, device_id)

    found = await req.app[DATABASE].read(run)
    return LoginSeenList(items=[LoginSeen(
        login=x.login, first_seen_at=x.first_seen_at, last_seen_at=x.last_seen_at,
        binding=_binding(x.binding) if x.binding is not None else None,
        suggested=_person(x.suggested)) for x in found])


@router.route("GET", f"/api/v1/devices/{DID}/binding-history", roles=STAFF,
              summary="List the audit entries of a device's bindings, newest first",
              response=BindingHistory)
async def binding_history(req: ApiRequest) -> BindingHistory:
    device_id = int(req.params["device_id"])

    def run(conn: Any) -> tuple[list[Any], dict[int, Any]]:
        store.get_device_row(conn, device_id)
        rows = bindings.history(conn, device_id)
        ids = sorted({int(r.detail["user_id"]) for r in rows
                      if isinstance(r.detail, dict) and isinstance(r.detail.get("user_id"), int)})
        return rows, bindings.people(conn, ids)

    rows, people = await req.app[DATABASE].read(run)
    items = []
    for r in rows:
        detail = dict(r.detail) if isinstance(r.detail, dict) else {}
        who = people.get(detail.get("user_id"))  # type: ignore[arg-type]
        items.append(BindingEvent(
            id=r.id, at=r.at, action=r.action, login=str(detail.get("login", "")),
            source="rule" if detail.get("source") == "rule" else "staff",
            actor_name=r.actor_name, detail=detail,
            user=BoundUser(id=who.id, username=who.username, display_name=who.display_name)
            if who is not None else None))
    return BindingHistory(items=items)


@router.route("GET", f"/api/v1/groups/{GID}/binding-rule", roles=STAFF,
              summary="Tell whether a device group binds the first login seen on its devices",
              response=BindingRule)
async def get_rule(req: ApiRequest) -> BindingRule:
    group_id = int(req.params["group_id"])
    on = await req.app[DATABASE].read(lambda c: logins.has_rule(c, group_id))
    return BindingRule(group_id=group_id, bind_first_login=on)


@router.route("PUT", f"/api/v1/groups/{GID}/binding-rule", roles=ADMIN,
              summary="Turn a device group's binding rule on or off (on: binds its devices "
                      "without a binding at once)", body=BindingRuleSet, response=BindingRule)
async def put_rule(req: ApiRequest) -> BindingRule:
    group_id = int(req.params["group_id"])
    body: BindingRuleSet = req.body
    actor = req.user.user_id
    bound = await req.app[DATABASE].write(lambda c: logins.set_rule(
        c, group_id, body.bind_first_login, actor_id=actor, now=utcnow()))
    if bound:  # the rule bound devices of the group at once
        await push_languages(req.app[DATABASE], req.app[HUB])
    return BindingRule(group_id=group_id, bind_first_login=body.bind_first_login, bound=bound)


@router.route("GET", f"/api/v1/users/{UID}/devices", roles=ANY_USER,
              summary="List the devices bound to a person (a requester: only their own)",
              response=PersonDeviceList)
async def person_devices(req: ApiRequest) -> PersonDeviceList:
    user_id = int(req.params["user_id"])
    me = req.user
    if not me.is_staff and me.user_id != user_id:
        # The same answer as for a user that does not exist: nothing about others leaks.
        raise NotFound("no user with id {user_id}", user_id=user_id)

    def run(conn: Any) -> list[Any]:
        user_store.get_user(conn, user_id)
        return bindings.devices_of(conn, user_id)

    found = await req.app[DATABASE].read(run)
    hub = req.app[HUB]
    return PersonDeviceList(items=[PersonDevice(online=hub.is_online(d["id"]), **d)
                                   for d in found])
