"""The one automatic answer to incoming mail: a refusal to an unknown sender (RFC 3834).

It goes only to a person's mail (never to an auto-reply, a bounce, a list or bulk mail:
:mod:`server.mail.inbound.loops`), at most once a day per address, never to an address
that bounced, and carries ``Auto-Submitted`` like every Deskmate mail, so another
system's responder stays quiet.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.mail import compose, outbox
from server.mail.inbound.parse import Parsed
from server.mail.tables import mail_outbox

REASON = "refused"  # the outbox reason of a refusal
ONCE_PER = dt.timedelta(days=1)


def refusal_body(subject: str) -> str:
    """Return the text of the refusal (the service desk's language of mails: English)."""
    return ("Hello,\n\n"
            f"Your message \"{subject[:200]}\" was not accepted: this service desk takes "
            "requests by e-mail only from people it knows. Please use the portal, or ask "
            "your IT department to give you access.\n\n"
            "-- \nThis message was sent automatically by Deskmate.\n")


def queue_refusal(conn: Connection, msg: Parsed, now: dt.datetime) -> bool:
    """Queue a refusal to the sender of ``msg`` (once a day per address); tell if queued."""
    config = outbox.config_of(conn)
    if config is None or not compose.valid_address(msg.sender):
        return False
    recent = conn.execute(sa.select(mail_outbox.c.id).where(
        mail_outbox.c.reason == REASON, mail_outbox.c.to_addr == msg.sender,
        mail_outbox.c.created_at > now - ONCE_PER).limit(1)).first()
    if recent is not None:
        return False
    title = " ".join(msg.subject.split()) or "(no subject)"
    conn.execute(mail_outbox.insert().values(
        created_at=now, ticket_id=None, recipient_id=None, reason=REASON, to_addr=msg.sender,
        subject=f"Not accepted: {title}"[:300], body=refusal_body(title),
        message_id=f"<refused-{secrets.token_hex(12)}@{config.domain}>",
        thread_id=msg.message_id, status="queued", attempts=0, next_attempt_at=now))
    return True
