"""Apply Alembic migrations programmatically (on start and by ``deskmate-server migrate``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection, revision: str = "head") -> None:
    """Bring the schema on ``conn`` up to ``revision``."""
    command.upgrade(_config(conn), revision)


def current(conn: Connection) -> str | None:
    """Return the schema revision stored in the database, or None if empty."""
    return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """Return the newest revision the code knows."""
    heads = ScriptDirectory.from_config(_config(None)).get_heads()  # type: ignore[arg-type]
    return str(heads[0])
