"""Serve the console: static files from the ``console`` package, index.html at ``/``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

CONSOLE_DIR = Path(str(resources.files("console")))


async def index(_request: web.Request) -> web.FileResponse:
    """Serve the single page; the client-side router picks the view."""
    response = web.FileResponse(CONSOLE_DIR / "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


def install(app: web.Application) -> None:
    """Add the console's routes to ``app``."""
    app.router.add_get("/", index)
    app.router.add_static("/static/", CONSOLE_DIR / "static", append_version=False)
