"""Typed keys for application and request state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from server.agents.hub import Hub
    from server.agents.ticket_updates import TicketNotifier
    from server.api.routing import Endpoint
    from server.auth.identity import Identity
    from server.auth.identity_cache import IdentityCache
    from server.auth.passwords import KdfGate
    from server.auth.ratelimit import LoginThrottle
    from server.auth.reset import ResetThrottle
    from server.db.database import Database
    from server.live import Broker
    from server.mail.control import MailControl
    from server.mail.sender import MailSender
    from server.metrics import Metrics
    from server.remote.manager import Sessions
    from server.scripts.manager import ScriptRuns
    from server.settings import Settings
    from server.siteconfig.store import SiteValues
    from server.sla.service import SlaEngine
    from server.tls import TlsInfo
    from server.toolbox.manager import ToolSessions

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
LOGIN_THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")
RESET_THROTTLE: web.AppKey[ResetThrottle] = web.AppKey("reset_throttle")
KDF_GATE: web.AppKey[KdfGate] = web.AppKey("kdf_gate")
DEVICE_KEY: web.AppKey[bytes] = web.AppKey("device_key")
ENDPOINTS: web.AppKey[list[Endpoint]] = web.AppKey("endpoints")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
HUB: web.AppKey[Hub] = web.AppKey("hub")
REMOTE: web.AppKey[Sessions] = web.AppKey("remote_sessions")
TOOLS: web.AppKey[ToolSessions] = web.AppKey("tool_sessions")
SCRIPTS: web.AppKey[ScriptRuns] = web.AppKey("script_runs")
BROKER: web.AppKey[Broker] = web.AppKey("broker")
HANDSHAKES: web.AppKey[asyncio.Semaphore] = web.AppKey("handshakes")
CHANNEL_BINDING: web.AppKey[bytes | None] = web.AppKey("channel_binding")
TLS_INFO: web.AppKey[TlsInfo | None] = web.AppKey("tls_info")
SLA_ENGINE: web.AppKey[SlaEngine] = web.AppKey("sla_engine")
MAIL_SENDER: web.AppKey[MailSender] = web.AppKey("mail_sender")
MAIL_CONTROL: web.AppKey[MailControl] = web.AppKey("mail_control")
SITE_VALUES: web.AppKey[SiteValues] = web.AppKey("site_values")
TICKET_NOTIFIER: web.AppKey[TicketNotifier] = web.AppKey("ticket_notifier")

IDENTITY_CACHE: web.AppKey[IdentityCache] = web.AppKey("identity_cache")
IDENTITY: web.RequestKey[Identity | None] = web.RequestKey("identity")
CLIENT_IP: web.RequestKey[str] = web.RequestKey("client_ip")
