"""HTTP handlers: enrollment tokens, enrolling, the agent socket, and the device registry."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web
from msgspec import UNSET

from server.agents.connection import agent_websocket
from server.api.pagination import INT, decode_cursor, encode_cursor
from server.api.routing import ADMIN, PUBLIC, STAFF, ApiRequest, Router, page_limit
from server.db.schema import utcnow
from server.devices import enrollment, store
from server.devices.schemas import (
    ChangePage,
    Device,
    DeviceDetail,
    DeviceDetailQuery,
    DevicePage,
    DeviceQuery,
    DeviceUpdate,
    EnrollmentTokenCreate,
    EnrollmentTokenCreated,
    EnrollmentTokenList,
    EnrollRequest,
    EnrollResponse,
    MetricsPoint,
    MetricsQuery,
    MetricsSeries,
)
from server.errors import NotFound, ValidationFailed
from server.keys import DATABASE, HUB, SETTINGS, TLS_INFO
from server.tls import pinned_certificate_pem
from server.users import store as audit
from server.users.schemas import PageQuery
from shared import agent_auth
from shared import protocol as p
from shared import scripts as sc
from shared import toolbox as tb

router = Router("devices")
DID = r"{device_id:\d{1,18}}"


def install_command(base_url: str, token: str, fingerprint: str) -> str:
    """Return the shell command that enrolls a machine."""
    return f"deskmate-agent enroll {base_url} --token {token} --fingerprint {fingerprint}"


@router.route("GET", "/api/v1/enrollment-tokens", roles=ADMIN,
              summary="List enrollment tokens", response=EnrollmentTokenList)
async def list_enrollment_tokens(req: ApiRequest) -> EnrollmentTokenList:
    rows = await req.app[DATABASE].read(enrollment.list_tokens)
    now = utcnow()
    return EnrollmentTokenList(items=[enrollment.to_token(r, now) for r in rows])


@router.route("POST", "/api/v1/enrollment-tokens", roles=ADMIN,
              summary="Create an enrollment token", body=EnrollmentTokenCreate,
              response=EnrollmentTokenCreated, status=201)
async def create_enrollment_token(req: ApiRequest) -> EnrollmentTokenCreated:
    body: EnrollmentTokenCreate = req.body
    actor = req.user.user_id

    def run(conn: Any) -> tuple[str, Any]:
        now = utcnow()
        secret, token_id = enrollment.create_token(
            conn, created_by=actor, expires_at=now + dt.timedelta(hours=body.expires_in_hours),
            max_uses=body.max_uses, group_id=body.group_id, note=body.note, now=now)
        audit.record(conn, actor_id=actor, action="enrollment_token.create",
                     target_type="enrollment_token", target_id=token_id, now=now,
                     max_uses=body.max_uses, group_id=body.group_id)
        return secret, enrollment.get_token(conn, token_id)

    secret, row = await req.app[DATABASE].write(run)
    tls = req.app[TLS_INFO]
    fingerprint = tls.fingerprint if tls is not None else "sha256:<your proxy CA>"
    return EnrollmentTokenCreated(
        token=secret, info=enrollment.to_token(row, utcnow()),
        install_command=install_command(req.app[SETTINGS].base_url, secret, fingerprint))


@router.route("DELETE", r"/api/v1/enrollment-tokens/{token_id:\d{1,18}}", roles=ADMIN,
              summary="Revoke an enrollment token", status=204)
async def revoke_enrollment_token(req: ApiRequest) -> None:
    token_id = int(req.params["token_id"])
    actor = req.user.user_id

    def run(conn: Any) -> None:
        now = utcnow()
        enrollment.revoke_token(conn, token_id, now)
        audit.record(conn, actor_id=actor, action="enrollment_token.revoke",
                     target_type="enrollment_token", target_id=token_id, now=now)

    await req.app[DATABASE].write(run)


@router.route("GET", "/api/v1/agent/ca.pem", roles=PUBLIC,
              summary="Get the CA certificate agents pin", produces="application/x-pem-file")
async def agent_ca(req: ApiRequest) -> web.Response:
    """Serve the certificate whose fingerprint the install command carries.

    The agent checks its SHA-256 against the fingerprint it was given before trusting it,
    so fetching it over an unverified connection is safe.
    """
    tls = req.app[TLS_INFO]
    if tls is None:
        raise NotFound("TLS ends at a proxy; agents pin the proxy's CA")
    pem = await asyncio.to_thread(pinned_certificate_pem, tls)
    return web.Response(body=pem, content_type="application/x-pem-file")


@router.route("POST", "/api/v1/agent/enroll", roles=PUBLIC, summary="Enroll a device",
              body=EnrollRequest, response=EnrollResponse, status=201)
async def enroll_device(req: ApiRequest) -> EnrollResponse:
    body: EnrollRequest = req.body
    try:
        public_key = agent_auth.b64decode(body.public_key)
    except ValueError as exc:
        raise ValidationFailed("public_key is not base64url") from exc
    if len(public_key) != 32:
        raise ValidationFailed("public_key must be a raw 32-byte Ed25519 key")

    def run(conn: Any) -> str:
        now = utcnow()
        uid = enrollment.enroll(conn, token=body.token, public_key=public_key,
                                hostname=body.hostname, os_name=body.os_name,
                                os_version=body.os_version, agent_version=body.agent_version,
                                now=now)
        device = store.auth_record(conn, uid)
        audit.record(conn, actor_id=None, action="device.enroll", target_type="device",
                     target_id=device.id if device else None, now=now, hostname=body.hostname)
        return uid

    uid = await req.app[DATABASE].write(run)
    return EnrollResponse(device_id=uid, websocket_path=p.WS_PATH, protocol=p.PROTOCOL_VERSION)


@router.route("GET", p.WS_PATH, roles=PUBLIC,
              summary="Connect an agent (WebSocket; see docs/protocol.md)", status=101)
async def agent_socket(req: ApiRequest) -> web.StreamResponse:
    return await agent_websocket(req.request)


def _device(req: ApiRequest, row: Any) -> Device:
    hub = req.app[HUB]
    online = hub.is_online(row.id)
    device = store.to_device(row, online, hub.live_metrics(row.id) if online else None)
    link = hub.links.get(row.id)
    device.remote_available = link is not None and "remote" in link.capabilities
    for capability in link.capabilities if link is not None else ():
        if capability.startswith(p.REMOTE_BACKEND_PREFIX):
            device.remote_backend = capability.removeprefix(p.REMOTE_BACKEND_PREFIX)
        elif capability.startswith(p.REMOTE_UNAVAILABLE_PREFIX):
            device.remote_unavailable = capability.removeprefix(p.REMOTE_UNAVAILABLE_PREFIX)
    device.tools_available = [k for k in (*tb.KINDS, sc.SCRIPTS_CAPABILITY)
                              if link is not None and k in link.capabilities]
    seen = hub.last_seen(row.id)  # newer than the last batched write, when it exists
    if seen is not None and (device.last_seen_at is None or seen > device.last_seen_at):
        device.last_seen_at = seen
    return device


@router.route("GET", "/api/v1/devices", roles=STAFF, summary="List devices",
              query=DeviceQuery, response=DevicePage)
async def list_devices(req: ApiRequest) -> DevicePage:
    q: DeviceQuery = req.query
    limit = page_limit(req.app, q.limit)
    after = 0
    if q.cursor is not None:
        (after,) = decode_cursor(q.cursor, INT)
    filters = {"q": q.q, "os": q.os, "software": q.software,
               "software_version": q.software_version, "serial": q.serial, "user": q.user,
               "group_id": q.group_id, "revoked": q.revoked, "online": q.online,
               "health": q.health}
    online_ids = req.app[HUB].online_ids() if q.online is not None else None
    rows = await req.app[DATABASE].read(lambda c: store.list_devices(
        c, after=after, limit=limit + 1, filters=filters, online_ids=online_ids))
    more = len(rows) > limit
    items = [_device(req, r) for r in rows[:limit]]
    return DevicePage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


@router.route("GET", f"/api/v1/devices/{DID}", roles=STAFF,
              summary="Get a device with its inventory", query=DeviceDetailQuery,
              response=DeviceDetail)
async def get_device(req: ApiRequest) -> DeviceDetail:
    device_id = int(req.params["device_id"])
    with_inventory = req.query.inventory

    def run(conn: Any) -> tuple[Any, list[Any]]:
        row = store.get_device_row(conn, device_id)
        return row, store.inventory_of(conn, device_id) if with_inventory else []

    row, sections = await req.app[DATABASE].read(run)
    return DeviceDetail(device=_device(req, row),
                        inventory={s.section: s.data for s in sections},
                        inventory_updated_at={s.section: s.updated_at for s in sections})


@router.route("PATCH", f"/api/v1/devices/{DID}", roles=ADMIN, summary="Update a device",
              body=DeviceUpdate, response=Device)
async def update_device(req: ApiRequest) -> Device:
    device_id = int(req.params["device_id"])
    body: DeviceUpdate = req.body
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        store.get_device_row(conn, device_id)
        if body.group_id is not UNSET:
            from server.health.store import prune_states

            store.set_group(conn, device_id, body.group_id)
            prune_states(conn, [device_id])
            audit.record(conn, actor_id=actor, action="device.update", target_type="device",
                         target_id=device_id, now=utcnow(), group_id=body.group_id)
            from server.devices.logins import apply_rule

            apply_rule(conn, device_id, utcnow())  # the new group's binding rule, if any
        return store.get_device_row(conn, device_id)

    row = await req.app[DATABASE].write(run)
    if body.group_id is not UNSET:  # the group's health checks apply now
        from server.health.push import push_configs

        await push_configs(req.app[DATABASE], req.app[HUB], [device_id])
    return _device(req, row)


@router.route("GET", f"/api/v1/devices/{DID}/changes", roles=STAFF,
              summary="List a device's inventory changes", query=PageQuery,
              response=ChangePage)
async def device_changes(req: ApiRequest) -> ChangePage:
    device_id = int(req.params["device_id"])
    q: PageQuery = req.query
    limit = page_limit(req.app, q.limit)
    before = None
    if q.cursor is not None:
        (before,) = decode_cursor(q.cursor, INT)

    def run(conn: Any) -> list[Any]:
        store.get_device_row(conn, device_id)
        return store.changes_of(conn, device_id, before=before, limit=limit + 1)

    items = await req.app[DATABASE].read(run)
    more = len(items) > limit
    items = items[:limit]
    return ChangePage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


@router.route("GET", f"/api/v1/devices/{DID}/metrics", roles=STAFF,
              summary="Get a device's stored metrics", query=MetricsQuery,
              response=MetricsSeries)
async def device_metrics(req: ApiRequest) -> MetricsSeries:
    device_id = int(req.params["device_id"])
    q: MetricsQuery = req.query
    since = utcnow() - dt.timedelta(hours=q.hours)

    def run(conn: Any) -> list[Any]:
        store.get_device_row(conn, device_id)
        return store.metrics_of(conn, device_id, since)

    rows = await req.app[DATABASE].read(run)
    return MetricsSeries(items=[MetricsPoint(at=r.at, cpu_percent=r.cpu_percent,
                                             memory_percent=r.memory_percent,
                                             disk_percent=r.disk_percent) for r in rows])


@router.route("POST", f"/api/v1/devices/{DID}/revoke", roles=ADMIN,
              summary="Revoke a device (disconnects it now)", response=Device)
async def revoke_device(req: ApiRequest) -> Device:
    device_id = int(req.params["device_id"])
    actor = req.user.user_id

    def run(conn: Any) -> Any:
        now = utcnow()
        store.revoke(conn, device_id, now)
        audit.record(conn, actor_id=actor, action="device.revoke", target_type="device",
                     target_id=device_id, now=now)
        return store.get_device_row(conn, device_id)

    row = await req.app[DATABASE].write(run)
    req.app[HUB].revoke(device_id)
    return _device(req, row)
