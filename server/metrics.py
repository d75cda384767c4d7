"""Prometheus metrics, /metrics and /healthz."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web
from msgspec import Struct
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from server import __version__
from server.api.routing import PUBLIC, ApiRequest, Router, json_response
from server.errors import Forbidden, Unauthorized
from server.keys import DATABASE, METRICS, SETTINGS


class Metrics:
    """The server's metrics, in a registry of its own (one per app, so tests stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "deskmate_http_requests_total", "HTTP requests answered",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "deskmate_http_request_seconds", "Time to answer an HTTP request",
            ["method", "route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.auth_failures = Counter(
            "deskmate_auth_failures_total", "Refused logins, tokens and agent logins",
            ["reason"], registry=self.registry)
        self.slow_heads = Counter(
            "deskmate_http_slow_heads_total",
            "Connections closed for not sending a complete request head within "
            "request_head_timeout (slowloris)", registry=self.registry)
        self.agents_connected = Gauge(
            "deskmate_agents_connected", "Authenticated agent connections",
            registry=self.registry)


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def metrics_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Count and time requests by route template (not raw path: bounded label values)."""
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        metrics = request.app[METRICS]
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - start)


router = Router("system")


class Health(Struct, kw_only=True):
    """Liveness and readiness."""

    status: Literal["ok", "unavailable"]
    version: str
    checks: dict[str, str]


@router.route("GET", "/healthz", roles=PUBLIC, summary="Check health", response=Health)
async def healthz(req: ApiRequest) -> web.Response:
    """Report liveness and readiness (the database answers) as JSON."""
    try:
        db_ok = await req.app[DATABASE].ping()
    except Exception:
        db_ok = False
    body = Health(status="ok" if db_ok else "unavailable", version=__version__,
                  checks={"database": "ok" if db_ok else "failing"})
    return json_response(body, status=200 if db_ok else 503)


@router.route("GET", "/metrics", roles=PUBLIC, summary="Read Prometheus metrics",
              produces=CONTENT_TYPE_LATEST)
async def metrics_view(req: ApiRequest) -> web.Response:
    """Serve Prometheus text; admins (or their tokens) only unless metrics_public is set."""
    request = req.request
    if not request.app[SETTINGS].metrics_public:
        identity = req.identity
        if identity is None:
            raise Unauthorized("authentication required",
                               headers={"WWW-Authenticate": "Bearer"})
        if identity.role != "admin":
            raise Forbidden("only admins may read metrics")
    data = generate_latest(request.app[METRICS].registry)
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})
