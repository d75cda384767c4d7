"""HTTP handlers: health checks per device group, and the checks of a device."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from server.api.routing import ADMIN, STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.devices import store as device_store
from server.health import store
from server.health.push import push_configs
from server.health.schemas import (
    DeviceHealth,
    HealthCheckCreate,
    HealthCheckList,
    HealthCheckOut,
    HealthCheckQuery,
    HealthCheckUpdate,
)
from server.keys import DATABASE, HUB
from server.users import store as audit

router = Router("health")
CID = r"{check_id:\d{1,18}}"


@router.route("GET", "/api/v1/health-checks", roles=STAFF, summary="List health checks",
              query=HealthCheckQuery, response=HealthCheckList)
async def list_checks(req: ApiRequest) -> HealthCheckList:
    q: HealthCheckQuery = req.query
    rows = await req.app[DATABASE].read(lambda c: store.list_checks(
        c, group_id=q.group_id, defaults=q.defaults))
    return HealthCheckList(items=[store.to_check(r) for r in rows])


@router.route("POST", "/api/v1/health-checks", roles=ADMIN,
              summary="Create a health check for a device group (or a default)",
              body=HealthCheckCreate, response=HealthCheckOut, status=201)
async def create_check(req: ApiRequest) -> HealthCheckOut:
    body: HealthCheckCreate = req.body
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        check_id = store.create_check(conn, msgspec.structs.asdict(body), now)
        store.prune_states(conn)
        audit.record(conn, actor_id=actor, action="health_check.create",
                     target_type="health_check", target_id=check_id, now=now,
                     name=body.name, group_id=body.group_id)
        return store.get_check(conn, check_id)

    row = await req.app[DATABASE].write(run)
    await push_configs(req.app[DATABASE], req.app[HUB])
    return store.to_check(row)


@router.route("GET", f"/api/v1/health-checks/{CID}", roles=STAFF,
              summary="Get a health check", response=HealthCheckOut)
async def get_check(req: ApiRequest) -> HealthCheckOut:
    check_id = int(req.params["check_id"])
    return store.to_check(await req.app[DATABASE].read(lambda c: store.get_check(c, check_id)))


@router.route("PATCH", f"/api/v1/health-checks/{CID}", roles=ADMIN,
              summary="Change a health check's levels or settings", body=HealthCheckUpdate,
              response=HealthCheckOut)
async def update_check(req: ApiRequest) -> HealthCheckOut:
    check_id = int(req.params["check_id"])
    body: HealthCheckUpdate = req.body
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        row = store.update_check(conn, check_id, changes, now)
        store.prune_states(conn)
        audit.record(conn, actor_id=actor, action="health_check.update",
                     target_type="health_check", target_id=check_id, now=now,
                     fields=sorted(changes))
        return row

    row = await req.app[DATABASE].write(run)
    await push_configs(req.app[DATABASE], req.app[HUB])
    return store.to_check(row)


@router.route("DELETE", f"/api/v1/health-checks/{CID}", roles=ADMIN,
              summary="Delete a health check (its open incidents stay)", status=204)
async def delete_check(req: ApiRequest) -> None:
    check_id = int(req.params["check_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        now = utcnow()
        row = store.delete_check(conn, check_id)
        audit.record(conn, actor_id=actor, action="health_check.delete",
                     target_type="health_check", target_id=check_id, now=now, name=row.name)

    await req.app[DATABASE].write(run)
    await push_configs(req.app[DATABASE], req.app[HUB])


@router.route("GET", r"/api/v1/devices/{device_id:\d{1,18}}/health", roles=STAFF,
              summary="Get the health checks of a device and their state",
              response=DeviceHealth)
async def device_health(req: ApiRequest) -> DeviceHealth:
    device_id = int(req.params["device_id"])

    def run(conn: Any) -> DeviceHealth:
        device_store.get_device_row(conn, device_id)
        return DeviceHealth(items=store.device_status(conn, device_id))

    return await req.app[DATABASE].read(run)
