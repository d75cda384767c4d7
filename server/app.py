"""Build the aiohttp application: state, middleware, routes and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from aiohttp import web, web_fileresponse

from server import console
from server.agents.connection import MAX_HANDSHAKES, channel_binding_for
from server.agents.hub import hub_ctx, hub_shutdown
from server.agents.ticket_updates import notifier_ctx
from server.api import openapi
from server.api.routing import Endpoint, install
from server.auth import credentials, factor_views, identity_cache, reset_views
from server.auth import views as auth_views
from server.auth.passwords import KdfGate
from server.auth.ratelimit import LoginThrottle
from server.auth.reset import ResetThrottle
from server.auth.setup import auth_ctx
from server.db import migrate
from server.db.database import Database, create_engine
from server.db.schema import utcnow
from server.devices import binding_views
from server.devices import views as device_views
from server.directory import views as directory_views
from server.directory.service import directory_sync_ctx
from server.health import views as health_views
from server.kb import engagement_views as kb_engagement_views
from server.kb import views as kb_views
from server.kb.search import search_index_ctx
from server.keys import (
    BROKER,
    CHANNEL_BINDING,
    DATABASE,
    ENDPOINTS,
    HANDSHAKES,
    IDENTITY_CACHE,
    KDF_GATE,
    LOGIN_THROTTLE,
    MAIL_CONTROL,
    METRICS,
    RESET_THROTTLE,
    SETTINGS,
    SITE_VALUES,
    TLS_INFO,
)
from server.languages import router as languages_router
from server.live import Broker
from server.mail import template_views as mail_template_views
from server.mail import views as mail_views
from server.mail.control import MailControl, mail_ctx
from server.mail.inbound import views as mail_in_views
from server.mail.inbound.service import mail_in_ctx
from server.metrics import Metrics, metrics_middleware
from server.metrics import router as system_router
from server.middleware import error_middleware, headers_middleware, identity_middleware
from server.oidc import views as oidc_views
from server.problems import views as problem_views
from server.remote import recording_views as remote_recording_views
from server.remote import recordings as remote_recordings
from server.remote import views as remote_views
from server.remote.manager import sessions_ctx, sessions_shutdown
from server.reports import views as report_views
from server.reports.service import reports_ctx
from server.satisfaction import views as satisfaction_views
from server.scripts import run_views as script_run_views
from server.scripts import views as script_views
from server.scripts.manager import scripts_ctx
from server.settings import Settings
from server.siteconfig import branding_views
from server.siteconfig import views as site_views
from server.siteconfig.store import SiteValues
from server.sla import views as sla_views
from server.sla.service import sla_engine_ctx
from server.tickets import bulk_views, catalog_views, queue_views, saved_view_views
from server.tickets import updating as ticket_updating
from server.tickets import views as ticket_views
from server.tls import TlsInfo, leaf_certificate_pem
from server.toolbox import files_views as toolbox_files_views
from server.toolbox import system_views as toolbox_system_views
from server.toolbox import views as toolbox_views
from server.toolbox.manager import tools_ctx, tools_shutdown
from server.users import account_views
from server.users import views as user_views

# Every file goes out over TLS, where asyncio's loop.sendfile() falls back to a copy loop
# that raises AttributeError when the client leaves mid-file (its SSL transport is
# already torn down). aiohttp's own chunked copy, what AIOHTTP_NOSENDFILE=1 selects,
# ends such a transfer quietly.
setattr(web_fileresponse, "NOSENDFILE", True)  # noqa: B010 (a Final constant)

log = logging.getLogger("deskmate.server")

ROUTERS = (system_router, openapi.router, auth_views.router, user_views.router,
           device_views.router, ticket_views.router, queue_views.router,
           catalog_views.router, kb_views.router, kb_engagement_views.router,
           health_views.router, sla_views.router, remote_views.router, toolbox_views.router,
           toolbox_system_views.router,
           toolbox_files_views.router,
           script_views.router, script_run_views.router,
           remote_recording_views.router, mail_views.router, binding_views.router,
           languages_router, mail_in_views.router,
           factor_views.router, reset_views.router, directory_views.router,
           site_views.router, branding_views.router,
           bulk_views.router, saved_view_views.router, account_views.router,
           satisfaction_views.router, problem_views.router, report_views.router,
           mail_template_views.router,
           oidc_views.router)
HOUSEKEEPING_SECONDS = 600


def open_database(settings: Settings) -> Database:
    """Open the configured database and bring its schema up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.db_url, synchronous=settings.sqlite_synchronous,
                           pool_size=settings.db_readers + 1)
    db = Database(engine, readers=settings.db_readers, group_max=settings.db_group_commit_max)
    db.write_sync(migrate.upgrade)
    return db


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    if DATABASE not in app:
        app[DATABASE] = await asyncio.to_thread(open_database, app[SETTINGS])
    engine = app[DATABASE].engine  # the one watched, even if the database swaps it later
    listener = identity_cache.watch(engine, app[IDENTITY_CACHE])
    yield
    identity_cache.unwatch(engine, listener)
    await asyncio.to_thread(app[DATABASE].close)


async def housekeeping_pass(app: web.Application) -> None:
    """Purge expired sessions, close long-resolved tickets, delete expired recordings,
    look for recurring problems."""
    now = utcnow()
    removed = await app[DATABASE].write(lambda c: credentials.purge_expired_sessions(c, now))
    if removed:
        log.info("purged %d expired sessions", removed)
    days = app[SETTINGS].auto_close_days
    if days > 0:
        total, chunk = 0, ticket_updating.AUTO_CLOSE_CHUNK
        while True:  # in chunks: other writes go in between
            closed = await app[DATABASE].write(lambda c: ticket_updating.auto_close(
                c, now=now, after=dt.timedelta(days=days), limit=chunk))
            for row in closed:
                app[BROKER].publish_ticket(ticket_id=row.id, number=row.number,
                                           requester_id=row.requester_id, change="closed",
                                           public=True)
            total += len(closed)
            if len(closed) < chunk:
                break
            await asyncio.sleep(0.05)
        if total:
            log.info("closed %d tickets resolved over %d days ago", total, days)
    await remote_recordings.expire(
        app[DATABASE], app[SETTINGS].data_dir / remote_recordings.DIRECTORY,
        days=app[SETTINGS].remote_recording_days, now=now)
    await problem_views.refresh_suggestions(app)


async def _housekeeping(app: web.Application) -> None:
    """Run :func:`housekeeping_pass` every few minutes."""
    while True:
        try:
            await housekeeping_pass(app)
        except Exception:
            log.exception("housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_housekeeping(app), name="housekeeping")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _channel_binding(settings: Settings, tls: TlsInfo | None) -> bytes | None:
    """Return what agents bind their signature to: the certificate they will see."""
    if tls is not None:
        return channel_binding_for(leaf_certificate_pem(tls))
    if settings.tls_binding_cert:
        with open(settings.tls_binding_cert, "rb") as fh:
            return channel_binding_for(fh.read())
    return None


async def _close_streams(app: web.Application) -> None:
    app[BROKER].close_all()


def make_app(settings: Settings, *, tls: TlsInfo | None = None,
             database: Database | None = None) -> web.Application:
    """Return the application for ``settings`` (the database opens on startup)."""
    app = web.Application(
        middlewares=[headers_middleware, metrics_middleware, error_middleware,
                     identity_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[TLS_INFO] = tls
    app[CHANNEL_BINDING] = _channel_binding(settings, tls)
    app[METRICS] = Metrics()
    app[IDENTITY_CACHE] = identity_cache.IdentityCache(settings.identity_cache_seconds)
    app[BROKER] = Broker()
    app[HANDSHAKES] = asyncio.Semaphore(MAX_HANDSHAKES)
    app[LOGIN_THROTTLE] = LoginThrottle(account_limit=settings.login_max_failures,
                                        address_limit=settings.login_address_max_failures,
                                        window=settings.login_window_seconds)
    app[RESET_THROTTLE] = ResetThrottle(
        per_address=settings.password_reset_max_per_address,
        per_ip=settings.password_reset_max_per_ip,
        window=settings.password_reset_window_seconds)
    app[KDF_GATE] = KdfGate(max_pending=settings.password_checks_max,
                            on_refused=app[METRICS].auth_failures.labels("busy").inc)
    if database is not None:
        app[DATABASE] = database
    endpoints: list[Endpoint] = install(app, ROUTERS)
    app[ENDPOINTS] = endpoints
    console.install(app)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(auth_ctx)
    app.cleanup_ctx.append(reports_ctx)
    app.cleanup_ctx.append(search_index_ctx)
    app.cleanup_ctx.append(hub_ctx)
    app.cleanup_ctx.append(sessions_ctx)
    app.on_shutdown.append(sessions_shutdown)
    app.cleanup_ctx.append(tools_ctx)
    app.cleanup_ctx.append(scripts_ctx)
    app.on_shutdown.append(tools_shutdown)
    app.cleanup_ctx.append(notifier_ctx)
    app.on_shutdown.append(hub_shutdown)
    app.on_shutdown.append(_close_streams)
    app.cleanup_ctx.append(_background_ctx)
    app.cleanup_ctx.append(sla_engine_ctx)
    app[SITE_VALUES] = SiteValues()
    app[MAIL_CONTROL] = MailControl(app)
    app.cleanup_ctx.append(mail_ctx)
    app.cleanup_ctx.append(mail_in_ctx)
    app.cleanup_ctx.append(directory_sync_ctx)
    app.cleanup_ctx.append(oidc_views.clients_ctx)
    return app

