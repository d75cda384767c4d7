"""The admins' mail templates: storage (runs in a database transaction)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.mail.tables import mail_templates
from server.mail.templates import Template

Saved = dict[tuple[str, str], Template]  # (kind, language) -> the admin's template


def load(conn: Connection) -> Saved:
    """Return every saved template (a handful of rows: kinds times languages)."""
    return {(r.kind, r.language): Template(subject=r.subject, body=r.body)
            for r in conn.execute(sa.select(mail_templates))}


def save(conn: Connection, kind: str, language: str, template: Template, *,
         user_id: int | None, now: dt.datetime) -> None:
    """Store an admin's template for ``kind`` in ``language`` (replacing one saved before)."""
    reset(conn, kind, language)
    conn.execute(mail_templates.insert().values(
        kind=kind, language=language, subject=template.subject, body=template.body,
        updated_at=now, updated_by=user_id))


def reset(conn: Connection, kind: str, language: str) -> bool:
    """Forget the template of ``kind`` in ``language``; return whether there was one."""
    done = conn.execute(mail_templates.delete().where(
        mail_templates.c.kind == kind, mail_templates.c.language == language))
    return bool(done.rowcount)
