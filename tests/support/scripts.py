"""Script-run test helpers: a library script approved by a second admin, and waiting on runs."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.server import Client


async def approved_script(author: Client, approver: Client, **fields: Any) -> dict[str, Any]:
    """Add a script as ``author`` and have ``approver`` (an admin) approve its version 1."""
    body = {"name": "Disk report", "language": "bash", "body": "df -h /", **fields}
    made = await author.post("/api/v1/scripts", json=body)
    assert made.status == 201, made.body
    ok = await approver.post(f"/api/v1/scripts/{made.json['id']}/versions/1/approve")
    assert ok.status == 200, ok.body
    return dict(ok.json)


async def ended_runs(staff: Client, runs: list[dict[str, Any]], *, wait: float = 60
                     ) -> list[dict[str, Any]]:
    """Poll runs until all have ended; return them in the same order."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(wait):
        for run in runs:
            while True:
                got = await staff.get(f"/api/v1/script-runs/{run['id']}")
                assert got.status == 200, got.body
                if got.json["state"] == "ended":
                    out.append(dict(got.json))
                    break
                await asyncio.sleep(0.05)
    return out
