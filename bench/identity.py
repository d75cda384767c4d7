"""Benchmark: sync of a large directory from a real slapd, beside a raw ldap3 baseline.

Prints figures, never passes or fails. Starts Debian's slapd (tests/support/slapd.py)
over LDAPS loaded with N users and G nested groups, a fresh SQLite database, and a
directory record mapping a tenth of the groups to Deskmate groups (some to the
technician role). Then, in one run:

1. baseline: a raw ldap3 paged search of the same user and group entries (the least any
   sync has to do), timed, with its peak memory (RSS growth, sampled every 20 ms);
2. first sync (creates every user and membership): time, peak memory, rows written;
3. second sync with nothing changed: time, peak memory and its write count (0 expected).

    .venv/bin/python bench/identity.py [--users 10000] [--groups 500] [--page-size 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import psutil
from aiohttp import web

from server.app import open_database
from server.db.schema import utcnow
from server.directory import client, store, sync
from server.directory.schemas import DirectoryBody
from server.keys import DATABASE
from server.settings import load
from server.users import store as user_store
from tests.support import slapd

T = TypeVar("T")


def people(n: int) -> list[slapd.Person]:
    return [slapd.Person(f"p{i:05d}", f"Person {i:05d}", f"p{i:05d}@example.test",
                         phone=f"+62 21 {i:05d}", department=f"Dept {i % 40}",
                         manager=f"p{(i // 50) * 50:05d}" if i % 50 else "")
            for i in range(n)]


def groups(n: int, users: int) -> list[slapd.Group]:
    """Groups of 20 people each; every fifth group also holds the next four (nesting)."""
    found = []
    for g in range(n):
        members = tuple(f"p{(g * 20 + k) % users:05d}" for k in range(20))
        nested = tuple(f"g{h:04d}" for h in range(g + 1, min(g + 5, n))) if g % 5 == 0 else ()
        found.append(slapd.Group(f"g{g:04d}", people=members, groups=nested))
    return found


async def measured(label: str, work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """Run ``work``; return its result, seconds and peak RSS growth in MiB (sampled every
    20 ms: what the process needed beyond what it held when the phase started)."""
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = start_rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    grown = max(peak, process.memory_info().rss) - start_rss
    print(f"  {label:<34} {seconds:8.2f} s   peak RSS +{grown / 2**20:6.1f} MiB", flush=True)
    return result, seconds, grown / 2**20


def baseline(cfg: client.Config) -> int:
    """A raw paged search of every user and group entry with the sync's attributes."""
    conn = client.service_connection(cfg)
    try:
        count = 0
        for _dn, _attrs in client._paged(conn, cfg, cfg.user_base, cfg.user_filter,
                                         client._attribute_names(cfg)):
            count += 1
        for _dn, _attrs in client._paged(conn, cfg, cfg.group_base,
                                         "(objectClass=groupOfNames)", ["member"]):
            count += 1
        return count
    finally:
        conn.unbind()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    print(f"directory sync: {args.users} users, {args.groups} groups, page size "
          f"{args.page_size}, {os.cpu_count()} CPUs, slapd over LDAPS on loopback")
    started = time.perf_counter()
    with slapd.running_slapd(people(args.users), groups(args.groups, args.users)) as ldap, \
            tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp:
        print(f"  slapd loaded and started in {time.perf_counter() - started:.1f} s")
        settings = load(environ={}, overrides={"data": str(Path(tmp) / "data")})
        db = open_database(settings)
        app = web.Application()
        app[DATABASE] = db

        def setup(conn: Any) -> int:
            now = utcnow()
            mappings = []
            for g in range(0, args.groups, 10):
                gid = user_store.create_group(conn, name=f"G{g:04d}", description="", now=now)
                mappings.append({"group_dn": slapd.group_dn(f"g{g:04d}"),
                                 "deskmate_group_id": gid,
                                 "role": "technician" if g % 50 == 0 else None})
            body = DirectoryBody(
                name="bench", kind="openldap", urls=[ldap.ldaps_url], ca_pem=ldap.ca_pem,
                bind_dn=slapd.SERVICE_DN, bind_password=slapd.SERVICE_PASSWORD,
                user_base=slapd.PEOPLE, user_filter="(objectClass=inetOrgPerson)",
                attributes=_attributes(), group_base=slapd.GROUPS,
                group_mappings=_mappings(mappings), sync_minutes=0,
                page_size=args.page_size)
            return store.create_directory(conn, body, now)

        directory_id = db.write_sync(setup)
        cfg = client.Config.from_row(db.read_sync(lambda c: store.get_row(c, directory_id)))

        async def raw() -> int:
            return await asyncio.to_thread(baseline, cfg)

        entries, base_s, base_mb = await measured("baseline: raw ldap3 paged search", raw)

        async def run_sync() -> Any:
            return await sync.run(app, directory_id, preview=False, actor_id=None)

        first, first_s, first_mb = await measured("first sync (creates everything)", run_sync)
        second, second_s, second_mb = await measured("second sync (no changes)", run_sync)
        db.close()
    print()
    print(f"  entries read by the baseline: {entries}")
    print(f"  first sync: {first.created} users created, {first.memberships_added} "
          f"memberships, {first.writes} rows written")
    print(f"  second sync: {second.created} created, {second.updated} updated, "
          f"{second.deactivated} deactivated, {second.writes} rows written")
    print(f"  sync / baseline time: first {first_s / base_s:.1f}x, second "
          f"{second_s / base_s:.1f}x; peak RSS growth: baseline {base_mb:.0f} MiB, first "
          f"{first_mb:.0f} MiB, second {second_mb:.0f} MiB")


def _attributes() -> Any:
    from server.directory.schemas import Attributes

    return Attributes(login="uid", display_name="cn", mail="mail", phone="telephoneNumber",
                      department="departmentNumber", manager="manager",
                      external_id="entryUUID")


def _mappings(raw: list[dict[str, Any]]) -> Any:
    from server.directory.schemas import GroupMapping

    return [GroupMapping(group_dn=m["group_dn"], deskmate_group_id=m["deskmate_group_id"],
                         role=m["role"]) for m in raw]


if __name__ == "__main__":
    asyncio.run(main())
