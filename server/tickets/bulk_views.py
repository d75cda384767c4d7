"""HTTP handler for bulk actions on tickets (the desk's selection)."""

from __future__ import annotations

from typing import Any

from server.api.routing import STAFF, ApiRequest, Router
from server.db.schema import utcnow
from server.keys import BROKER, DATABASE, SETTINGS
from server.tickets import bulk
from server.tickets.priority import parse_matrix
from server.tickets.reading import get_row
from server.users import store as audit

router = Router("tickets")


@router.route("POST", "/api/v1/tickets/bulk", roles=STAFF,
              summary="Assign, change the status of, merge or tag several tickets",
              body=bulk.BulkRequest, response=bulk.BulkOutcome)
async def bulk_action(req: ApiRequest) -> bulk.BulkOutcome:
    body: bulk.BulkRequest = req.body
    ids = bulk.check(body)
    actor = req.user.user_id
    matrix = parse_matrix(req.app[SETTINGS].priority_matrix)

    def run(conn: Any) -> tuple[bulk.BulkOutcome, list[tuple[bulk.Touched, Any]]]:
        now = utcnow()
        outcome, touched = bulk.apply(conn, body, ids, actor_id=actor, now=now,
                                      matrix=matrix)
        audit.record(conn, actor_id=actor, action="ticket.bulk", target_type="ticket",
                     target_id=None, now=now, bulk_action=body.action,
                     changed=[r.id for r in outcome.results if r.outcome == "changed"],
                     failed=[r.id for r in outcome.results if r.outcome == "failed"])
        return outcome, [(t, get_row(conn, t.id)) for t in touched]

    outcome, touched = await req.app[DATABASE].write(run)
    for change, row in touched:
        req.app[BROKER].publish_ticket(ticket_id=row.id, number=row.number,
                                       requester_id=row.requester_id, change="updated",
                                       public=change.public)
    return outcome
