"""First-start work shared by ``deskmate-server init`` and ``run``: data dir, TLS, admin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from server.auth.passwords import generate_password, hash_password, password_problem
from server.db.database import Database
from server.db.schema import utcnow
from server.settings import Settings, SettingsError
from server.tls import TlsInfo, ensure_own_ca, given_certificate
from server.users import store


@dataclass(frozen=True)
class FirstAdmin:
    """The admin created on first start; the password is shown this once."""

    username: str
    password: str
    generated: bool


def prepare_tls(settings: Settings) -> TlsInfo | None:
    """Return the TLS files to serve with, creating the own CA on first start."""
    if settings.behind_proxy:
        return None
    if settings.tls_cert:
        return given_certificate(Path(settings.tls_cert), Path(settings.tls_key))
    return ensure_own_ca(settings.data_dir / "tls", hostnames=settings.tls_hostnames)


def ensure_admin(db: Database, settings: Settings) -> FirstAdmin | None:
    """Create the first admin when there are no users yet."""
    password = settings.admin_password or generate_password()
    if settings.admin_password and (problem := password_problem(password)):
        raise SettingsError(f"admin_password: {problem}")
    username = settings.admin_username.strip().lower()
    pw_hash = hash_password(password)

    def run(conn: Connection) -> bool:
        if store.count_users(conn) > 0:
            return False
        now = utcnow()
        user_id = store.create_user(conn, username=username,
                                    display_name="Administrator", role="admin", email=None,
                                    password_hash=pw_hash, now=now)
        store.record(conn, actor_id=None, action="user.create",
                     target_type="user", target_id=user_id, now=now, username=username,
                     role="admin", source="init")
        return True

    if not db.write_sync(run):
        return None
    return FirstAdmin(username=username, password=password,
                      generated=not settings.admin_password)
