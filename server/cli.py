"""``deskmate-server``: run the server and administer it from the shell."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server import __version__
from server.app import make_app, open_database
from server.auth import credentials
from server.auth.identity import ROLES
from server.auth.passwords import generate_password, hash_password, password_problem
from server.bootstrap import ensure_admin, prepare_tls
from server.db import migrate
from server.db.names import fold
from server.db.schema import groups, utcnow
from server.devices import enrollment
from server.devices.views import install_command
from server.errors import ApiError
from server.gc_policy import GcPolicy
from server.reports import rollup as report_rollup
from server.settings import Settings, SettingsError, load
from server.slow_clients import AppRunner
from server.tls import TlsError, TlsInfo, server_context, shrink_asyncio_tls_buffers
from server.users import store

log = logging.getLogger("deskmate.server")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in ("data", "host", "port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return load(config_file=args.config, overrides=overrides)


def _print_banner(settings: Settings, tls: TlsInfo | None, admin: Any) -> None:
    out = sys.stdout
    print(f"Deskmate {__version__}", file=out)
    print(f"  console:     {settings.base_url}/", file=out)
    print(f"  data:        {settings.data_dir}", file=out)
    if tls is not None:
        state = "created" if tls.created else "reused"
        print(f"  TLS:         {tls.cert_file} ({state})", file=out)
        print(f"  fingerprint: {tls.fingerprint}", file=out)
        if tls.ca_file is not None:
            print(f"  CA file:     {tls.ca_file} (import it to trust the console)", file=out)
    else:
        print("  TLS:         off: behind_proxy is set, the proxy terminates TLS", file=out)
    if admin is not None:
        print(f"  login:       {admin.username}", file=out)
        if admin.generated:
            print(f"  password:    {admin.password}", file=out)
            print("               (shown once; change it after logging in)", file=out)
        else:
            print("  password:    from DESKMATE_ADMIN_PASSWORD", file=out)
    out.flush()


def _init(settings: Settings) -> tuple[TlsInfo | None, Any]:
    tls = prepare_tls(settings)
    db = open_database(settings)
    try:
        admin = ensure_admin(db, settings)
    finally:
        db.close()
    return tls, admin


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    tls, admin = _init(settings)
    _print_banner(settings, tls, admin)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    tls, admin = _init(settings)
    if settings.behind_proxy and settings.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("serving plain HTTP on %s: only do this behind a TLS proxy", settings.host)
    app = make_app(settings, tls=tls)
    ssl_context = server_context(tls) if tls is not None else None
    if ssl_context is not None and not shrink_asyncio_tls_buffers():
        log.warning("could not shrink asyncio's TLS buffers; each connection keeps 256 KiB")

    async def serve() -> None:
        access_log = logging.getLogger("deskmate.access") if settings.access_log else None
        runner = AppRunner(app, access_log=access_log,
                               handle_signals=False, shutdown_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
        await site.start()
        port = runner.addresses[0][1]  # the real one when port 0 was asked for
        _print_banner(dataclasses.replace(settings, port=port), tls, admin)
        gc_task = None
        if settings.gc_full_minutes > 0:
            policy = GcPolicy(full_interval=settings.gc_full_minutes * 60.0)
            policy.start()
            gc_task = asyncio.create_task(policy.run(), name="gc-policy")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("stopping", flush=True)
        if gc_task is not None:
            gc_task.cancel()
        await runner.cleanup()

    asyncio.run(serve())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = open_database(settings)  # applies pending migrations
    try:
        revision = db.read_sync(migrate.current)
    finally:
        db.close()
    print(f"database at revision {revision} (head {migrate.head()})")
    return 0


def cmd_reports_rebuild(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = open_database(settings)
    tz = settings.report_time_zone or settings.default_time_zone
    try:
        n = db.write_sync(lambda c: report_rollup.rebuild(c, tz=tz, now=utcnow()))
    finally:
        db.close()
    print(f"report roll-ups rebuilt over {n} tickets (days in {tz})")
    return 0


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if problem := password_problem(password):
            raise SettingsError(problem)
        return password, False
    return generate_password(), True


def _checked_username(text: str) -> str:
    """Return a user name as the API would take it, or raise: the same rules everywhere."""
    import msgspec

    from server.users.schemas import Username

    username = text.strip().lower()
    try:
        return msgspec.convert(username, Username)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"user name {username!r} breaks the rules: lower-case letters, "
                            "digits and . _ @ -, starting with a letter or digit, at most "
                            "64 characters") from exc


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = _settings(args)
    username = _checked_username(args.username)
    password, generated = _read_password(args)
    db = open_database(settings)
    try:
        def run(conn: Any) -> int:
            now = utcnow()
            user_id = store.create_user(
                conn, username=username, display_name=args.display_name or username,
                role=args.role, email=args.email, password_hash=hash_password(password),
                now=now)
            store.record(conn, actor_id=None, action="user.create", target_type="user",
                         target_id=user_id, now=now, username=username, role=args.role,
                         source="cli")
            return user_id
        user_id = db.write_sync(run)
    finally:
        db.close()
    print(f"created {args.role} {username!r} (id {user_id})")
    if generated:
        print(f"password: {password}")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password, generated = _read_password(args)
    username = args.username.strip().lower()
    db = open_database(settings)
    try:
        def run(conn: Any) -> None:
            row = store.find_login(conn, username)
            if row is None:
                raise SettingsError(f"no user {username!r}")
            if store.is_system_username(username):
                raise SettingsError(f"{username!r} is the server's own account: nobody "
                                    "logs in as it")
            now = utcnow()
            store.update_user(conn, row.id, {"password_hash": hash_password(password)}, now)
            credentials.delete_user_sessions(conn, row.id)
            credentials.delete_user_tokens(conn, row.id)
            store.record(conn, actor_id=None, action="user.update", target_type="user",
                         target_id=row.id, now=now, fields=["password"], source="cli")
        db.write_sync(run)
    finally:
        db.close()
    print(f"password of {username!r} changed")
    if generated:
        print(f"password: {password}")
    return 0


def _parse_duration(text: str) -> dt.timedelta:
    """Parse 30m, 12h, 7d (or a bare number of hours)."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "h")
    try:
        value = int(number)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use 30m, 12h, 7d)") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return dt.timedelta(**{units[unit]: value})


def cmd_token_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    tls = prepare_tls(settings)
    db = open_database(settings)
    try:
        def run(conn: Any) -> tuple[str, int]:
            group_id = None
            if args.group:
                row = conn.execute(sa.select(groups.c.id).where(
                    groups.c.name_key == fold(args.group))).first()
                if row is None:
                    raise SettingsError(f"no group named {args.group!r}")
                group_id = row.id
            now = utcnow()
            secret, token_id = enrollment.create_token(
                conn, created_by=None, expires_at=now + args.expires, max_uses=args.max_uses,
                group_id=group_id, note=args.note, now=now)
            store.record(conn, actor_id=None, action="enrollment_token.create",
                         target_type="enrollment_token", target_id=token_id, now=now,
                         source="cli")
            return secret, token_id
        secret, token_id = db.write_sync(run)
    finally:
        db.close()
    fingerprint = tls.fingerprint if tls is not None else "sha256:<your proxy CA>"
    print(f"enrollment token {token_id} (shown once):")
    print(f"  {secret}")
    print("install command:")
    print(f"  {install_command(settings.base_url, secret, fingerprint)}")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = open_database(settings)
    try:
        rows = db.read_sync(enrollment.list_tokens)
    finally:
        db.close()
    now = utcnow()
    print(f"{'id':>4}  {'prefix':10}  {'state':8}  {'uses':>9}  {'expires (UTC)':16}  note")
    for row in rows:
        uses = f"{row.uses}/{row.max_uses if row.max_uses is not None else '-'}"
        print(f"{row.id:>4}  {row.prefix:10}  {enrollment.token_state(row, now):8}  "
              f"{uses:>9}  {row.expires_at:%Y-%m-%d %H:%M}  {row.note}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = open_database(settings)
    try:
        def run(conn: Any) -> None:
            now = utcnow()
            enrollment.revoke_token(conn, args.id, now)
            store.record(conn, actor_id=None, action="enrollment_token.revoke",
                         target_type="enrollment_token", target_id=args.id, now=now,
                         source="cli")
        db.write_sync(run)
    finally:
        db.close()
    print(f"enrollment token {args.id} revoked")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskmate-server",
        description="Deskmate service desk server. Settings come from DESKMATE_* variables "
                    "or a TOML file; see docs/configuration.md.")
    parser.add_argument("--version", action="version", version=f"deskmate {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="TOML settings file")
    common.add_argument("--data", metavar="DIR", help="data directory (default ./var)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="initialise if needed and serve")
    run.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port (default 8443)")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init", parents=[common],
                          help="create the data directory, TLS files, database and admin")
    init.set_defaults(func=cmd_init)

    mig = sub.add_parser("migrate", parents=[common], help="apply database migrations")
    mig.set_defaults(func=cmd_migrate)

    rebuild = sub.add_parser("reports-rebuild", parents=[common],
                             help="compute the dashboards' roll-ups afresh from the tickets")
    rebuild.set_defaults(func=cmd_reports_rebuild)

    create = sub.add_parser("create-user", parents=[common], help="create a user")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--display-name")
    create.add_argument("--email")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (else one is generated)")
    create.set_defaults(func=cmd_create_user)

    reset = sub.add_parser("reset-password", parents=[common], help="set a user's password")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (else one is generated)")
    reset.set_defaults(func=cmd_reset_password)

    tokens = sub.add_parser("enrollment-token", help="create, list or revoke enrollment tokens")
    tsub = tokens.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    tcreate = tsub.add_parser("create", parents=[common], help="create a token")
    tcreate.add_argument("--expires", type=_parse_duration, default=dt.timedelta(days=7),
                         metavar="DURATION", help="validity: 30m, 12h, 7d (default 7d)")
    tcreate.add_argument("--max-uses", type=int, metavar="N",
                         help="how many machines may enroll with it (default: no limit)")
    tcreate.add_argument("--group", metavar="NAME", help="put enrolled devices in this group")
    tcreate.add_argument("--note", default="", help="what the token is for")
    tcreate.set_defaults(func=cmd_token_create)
    tlist = tsub.add_parser("list", parents=[common], help="list tokens")
    tlist.set_defaults(func=cmd_token_list)
    trevoke = tsub.add_parser("revoke", parents=[common], help="revoke a token")
    trevoke.add_argument("id", type=int)
    trevoke.set_defaults(func=cmd_token_revoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (SettingsError, TlsError, ApiError) as exc:
        print(f"deskmate-server: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
