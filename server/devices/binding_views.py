"""HTTP handlers for device bindings: which requester a login on a device is."""

from __future__ import annotations

from typing import Any

from server.api.routing import STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.devices import bindings, store
from server.devices.schemas import (
    BoundUser,
    DeviceBinding,
    DeviceBindingList,
    DeviceBindingSet,
)
from server.errors import NotFound
from server.keys import DATABASE

router = Router("devices")
DID = r"{device_id:\d{1,18}}"
LOGIN = r"{login:[A-Za-z0-9._@-]{1,64}}"


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
                             now=utcnow())

    return _binding(await req.app[DATABASE].write(run))


@router.route("DELETE", f"/api/v1/devices/{DID}/bindings/{LOGIN}", roles=STAFF,
              summary="Remove a login's binding on a device", status=204)
async def delete_binding(req: ApiRequest) -> None:
    device_id, login = int(req.params["device_id"]), str(req.params["login"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        store.get_device_row(conn, device_id)
        bindings.unbind(conn, device_id, login, actor_id=actor, now=utcnow())

    await req.app[DATABASE].write(run)
