"""HTTP handlers of script runs: run a script on a ticket's devices, follow and cancel runs.

Who may run: admins, and technicians while the ``scripts_technicians_run`` setting is on;
either needs rights on the ticket (its assignee, a member of its group, or an admin), as
for screen sessions and terminals. Only an approved version runs. Devices must be linked
to the ticket; one offline, or whose agent does not offer scripts, gets a run that ends at
once with the reason, and the others run.
"""

from __future__ import annotations

import secrets
from typing import Any

from server.api.routing import STAFF, ApiRequest, Router
from server.auth.identity import Identity
from server.db.schema import utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.i18n.messages import N_
from server.keys import DATABASE, HUB, SCRIPTS, SETTINGS
from server.remote import policy
from server.remote import store as remote_store
from server.scripts import library, runstore
from server.scripts.manager import LiveRun
from server.scripts.params import ParamError, Parameter, resolve
from server.scripts.schemas import AttachmentRef, RunCreate, RunList, ScriptRun
from server.tickets import reading as ticket_reading
from server.tickets.schemas import UserRef
from shared import scripts as sc

router = Router("script_runs")
TID = r"{ticket_id:\d{1,18}}"
RID = r"{run_id:\d{1,18}}"
NO_RIGHTS = N_("only the ticket's assignee, members of its group and admins may run "
               "scripts on it")


async def _may(req: ApiRequest, ticket: Any) -> bool:
    me = req.user
    member_of = await req.app[DATABASE].read(lambda c: remote_store.group_ids_of(c, me.user_id))
    return policy.may_remote(role=me.role, user_id=me.user_id, assignee_id=ticket.assignee_id,
                             ticket_group_id=ticket.group_id, member_of=member_of)


def _may_run_role(req: ApiRequest, me: Identity) -> None:
    if me.role == "technician" and not req.app[SETTINGS].scripts_technicians_run:
        raise Forbidden("only admins may run scripts here (setting scripts_technicians_run)",
                        code="scripts_admins_only")


def _to_api(row: Any, live: LiveRun | None) -> ScriptRun:
    attachment = None
    if row.attachment_id is not None:
        attachment = AttachmentRef(id=row.attachment_id, filename=row.attachment_filename,
                                   size=row.attachment_size,
                                   url=f"/api/v1/attachments/{row.attachment_id}")
    return ScriptRun(
        id=row.id, batch=row.batch, script_id=row.script_id, script_name=row.script_name,
        version=row.version, ticket_id=row.ticket_id, device_id=row.device_id,
        device_name=row.device_name,
        technician=(UserRef(id=row.technician_id, display_name=row.technician_name or "")
                    if row.technician_id is not None else None),
        parameters=dict(row.parameters), reason=row.reason, as_root=row.as_root,
        account=(live.account if live and live.account else row.account) or None,
        state=live.state if live else row.state,  # type: ignore[arg-type]
        outcome=row.outcome, end_reason=row.end_reason, exit_code=row.exit_code,
        truncated=live.truncated if live else row.truncated,
        stdout="".join(live.stdout) if live else row.stdout,
        stderr="".join(live.stderr) if live else row.stderr,
        attachment=attachment, created_at=row.created_at, started_at=row.started_at,
        ended_at=row.ended_at)


@router.route("POST", f"/api/v1/tickets/{TID}/script-runs", roles=STAFF,
              summary="Run an approved script on devices linked to the ticket (one run each)",
              body=RunCreate, response=RunList, status=201)
async def run_script(req: ApiRequest) -> RunList:
    ticket_id = int(req.params["ticket_id"])
    body: RunCreate = req.body
    me, app = req.user, req.app
    db = app[DATABASE]
    _may_run_role(req, me)
    ticket = await db.read(lambda c: ticket_reading.get_row(c, ticket_id))
    if not await _may(req, ticket):
        raise Forbidden(NO_RIGHTS)
    if ticket.status not in policy.OPEN_STATUSES:
        raise Conflict("the ticket is {status}; reopen it first", code="ticket_not_open",
                       status=ticket.status)
    if len(set(body.device_ids)) != len(body.device_ids):
        raise ValidationFailed("a device is named twice", field="device_ids")
    version = body.version
    if version is None:
        version = await db.read(lambda c: library.latest_approved(c, body.script_id))
        if version is None:
            await db.read(lambda c: library.get_row(c, body.script_id))  # 404 if unknown
            raise Conflict("no version of this script is approved yet",
                           code="version_not_approved")
    chosen = version
    vrow = await db.read(lambda c: library.version_row(c, body.script_id, chosen))
    if vrow.approved_at is None:
        raise Conflict("version {version} of this script is not approved; an admin must "
                       "approve it first", code="version_not_approved", version=chosen)
    import msgspec

    try:
        values = resolve(msgspec.convert(vrow.parameters, list[Parameter]), body.parameters)
    except ParamError as exc:
        raise ValidationFailed(exc.message, field="parameters") from exc
    linked = {d.id: d for d in await db.read(
        lambda c: remote_store.linked_devices(c, ticket_id))}
    missing = [i for i in body.device_ids if i not in linked]
    if missing:
        raise ValidationFailed("device {device_id} is not linked to this ticket",
                               field="device_ids", device_id=missing[0])
    targets = [linked[i] for i in body.device_ids]
    if body.as_root:
        allowed = await db.read(lambda c: {d.group_id: library.root_allowed(c, d.group_id)
                                           for d in targets})
        for d in targets:
            if not allowed[d.group_id]:
                raise Forbidden("the script policy of {hostname!r}'s group does not allow "
                                "scripts as root", code="root_not_allowed",
                                hostname=d.hostname)
    unattended = await db.read(remote_store.unattended_groups)
    batch, now = secrets.token_hex(8), utcnow()
    ids = await db.write(lambda c: runstore.create_batch(
        c, batch=batch, version_row=vrow, ticket_id=ticket_id,
        devices_=[(d.id, d.hostname) for d in targets], technician_id=me.user_id,
        parameters=values, reason=body.reason, as_root=body.as_root, now=now))
    runs, hub = app[SCRIPTS], app[HUB]
    name = await db.read(lambda c: remote_store.display_name(c, me.user_id))
    max_output = max(1024, min(app[SETTINGS].scripts_output_max_bytes, 64 * 1024 * 1024))
    for run_id, d in zip(ids, targets, strict=True):
        link = hub.links.get(d.id)
        consent = policy.needs_consent(device_group_id=d.group_id,
                                       unattended_groups=unattended)
        live = LiveRun(id=run_id, ticket_id=ticket_id, ticket_number=ticket.number,
                       device_name=d.hostname, script_name=vrow.name, version=vrow.version,
                       link=link, timeout=vrow.timeout_seconds,  # type: ignore[arg-type]
                       max_output=max_output, consent=consent)
        if d.revoked_at is not None or link is None or not link.welcomed:
            await runs.finish(live, outcome="offline", reason="the device is offline",
                              tell_agent=False)
            continue
        if sc.SCRIPTS_CAPABILITY not in link.capabilities:
            await runs.finish(live, outcome="skipped", tell_agent=False,
                              reason="the agent on the device does not run scripts "
                                     "(an older agent, or started without them)")
            continue
        runs.start(live, sc.ScriptRun(
            run=run_id, script=vrow.name[:200], version=vrow.version,
            language=vrow.language, body=vrow.body, params=values,
            timeout=vrow.timeout_seconds, max_output=max_output, technician=name[:200],
            ticket=ticket.number, title=ticket.title[:200], reason=body.reason,
            consent=consent, consent_timeout=runs.consent_seconds, root=body.as_root))
    await runs.publish(ticket_id)
    rows = await db.read(lambda c: [runstore.get_row(c, i) for i in ids])
    return RunList(items=[_to_api(r, runs.by_id.get(r.id)) for r in rows])


@router.route("GET", f"/api/v1/tickets/{TID}/script-runs", roles=STAFF,
              summary="List a ticket's script runs", response=RunList)
async def list_script_runs(req: ApiRequest) -> RunList:
    ticket_id = int(req.params["ticket_id"])
    db = req.app[DATABASE]
    ticket = await db.read(lambda c: ticket_reading.get_row(c, ticket_id))
    if not await _may(req, ticket):
        raise Forbidden(NO_RIGHTS)
    rows = await db.read(lambda c: runstore.rows_of_ticket(c, ticket_id))
    live = req.app[SCRIPTS].by_id
    return RunList(items=[_to_api(r, live.get(r.id)) for r in rows])


async def _run_for(req: ApiRequest, run_id: int) -> tuple[Any, LiveRun | None]:
    db = req.app[DATABASE]
    row = await db.read(lambda c: runstore.get_row(c, run_id))
    ticket = await db.read(lambda c: ticket_reading.get_row(c, row.ticket_id))
    if not await _may(req, ticket):
        raise NotFound("no script run with id {run_id}", run_id=run_id)
    live = req.app[SCRIPTS].by_id.get(run_id)
    if live is None and row.state != "ended":  # ended between the two reads
        row = await db.read(lambda c: runstore.get_row(c, run_id))
    return row, live


@router.route("GET", f"/api/v1/script-runs/{RID}", roles=STAFF,
              summary="Get a script run with its output so far", response=ScriptRun)
async def get_script_run(req: ApiRequest) -> ScriptRun:
    row, live = await _run_for(req, int(req.params["run_id"]))
    return _to_api(row, live)


@router.route("POST", f"/api/v1/script-runs/{RID}/cancel", roles=STAFF,
              summary="Stop a script run (its process group is killed)", response=ScriptRun)
async def cancel_script_run(req: ApiRequest) -> ScriptRun:
    run_id = int(req.params["run_id"])
    _row, live = await _run_for(req, run_id)
    if live is None:
        raise Conflict("the run is already over", code="run_ended")
    name = await req.app[DATABASE].read(lambda c: remote_store.display_name(c, req.user.user_id))
    req.app[SCRIPTS].cancel(live, f"cancelled by {name}")
    row = await req.app[DATABASE].read(lambda c: runstore.get_row(c, run_id))
    return _to_api(row, req.app[SCRIPTS].by_id.get(run_id))
