"""``deskmate-server`` as an admin runs it: init, run, migrate, create-user, reset-password."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from server.db import migrate
from server.db.database import Database, create_engine
from server.db.schema import users, utcnow

EXE = [sys.executable, "-m", "server.cli"]


def _run(data: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    full_env.update(env or {})
    return subprocess.run([*EXE, *args, "--data", str(data)], input=stdin, text=True,
                          capture_output=True, env=full_env, timeout=60, check=False)


def test_init_prints_password_once_and_reuses_tls(tmp_path: Path) -> None:
    """The first init prints the fingerprint and a one-time password; the second reuses."""
    data = tmp_path / "var"
    first = _run(data, "init")
    assert first.returncode == 0, first.stderr
    fingerprint = re.search(r"fingerprint: (sha256:[0-9a-f]{64})", first.stdout)
    password = re.search(r"password:\s+(\S+)", first.stdout)
    assert fingerprint and password
    assert "(created)" in first.stdout
    second = _run(data, "init")
    assert second.returncode == 0
    assert fingerprint.group(1) in second.stdout
    assert "(reused)" in second.stdout
    assert password.group(1) not in second.stdout
    assert "login:" not in second.stdout


def test_admin_password_from_environment_is_not_printed(tmp_path: Path) -> None:
    """With DESKMATE_ADMIN_PASSWORD the banner says so instead of echoing it."""
    out = _run(tmp_path / "var", "init", env={"DESKMATE_ADMIN_PASSWORD": "given-password-1"})
    assert out.returncode == 0, out.stderr
    assert "given-password-1" not in out.stdout
    assert "DESKMATE_ADMIN_PASSWORD" in out.stdout


def test_weak_admin_password_is_refused(tmp_path: Path) -> None:
    """A too-short DESKMATE_ADMIN_PASSWORD stops init with a clear message."""
    out = _run(tmp_path / "var", "init", env={"DESKMATE_ADMIN_PASSWORD": "short"})
    assert out.returncode == 2
    assert "admin_password" in out.stderr


def test_create_user_and_reset_password(tmp_path: Path) -> None:
    """create-user reads a password from stdin; reset-password generates one."""
    data = tmp_path / "var"
    made = _run(data, "create-user", "Carla", "--role", "technician",
                "--password-stdin", stdin="carla-password\n")
    assert made.returncode == 0, made.stderr
    assert "created technician 'carla'" in made.stdout
    assert "carla-password" not in made.stdout
    dup = _run(data, "create-user", "carla", "--role", "requester")
    assert dup.returncode == 2 and "taken" in dup.stderr
    reset = _run(data, "reset-password", "carla")
    assert reset.returncode == 0
    assert re.search(r"password: \S{12,}", reset.stdout)
    missing = _run(data, "reset-password", "nobody")
    assert missing.returncode == 2 and "no user" in missing.stderr


def test_create_user_keeps_the_user_name_rules_and_system_accounts_get_no_password(
        tmp_path: Path) -> None:
    """create-user refuses names the API refuses; reset-password refuses system accounts."""
    data = tmp_path / "var"
    for bad in (".squat@x", "unknown:1234", "a" * 65, "b\u043eb", "_x"):
        out = _run(data, "create-user", bad, "--role", "requester")
        assert out.returncode == 2 and "breaks the rules" in out.stderr, (bad, out.stderr)
    health = _run(data, "init")
    assert health.returncode == 0, health.stderr
    db = Database(create_engine(f"sqlite:///{data / 'deskmate.db'}"))
    try:
        db.write_sync(lambda c: c.execute(users.insert().values(
            username="system:monitoring", display_name="Health monitoring", role="requester",
            active=True, created_at=utcnow(), updated_at=utcnow())))
    finally:
        db.close()
    out = _run(data, "reset-password", "system:monitoring")
    assert out.returncode == 2 and "server's own account" in out.stderr, out.stderr


def test_migrate_reports_head(tmp_path: Path) -> None:
    """migrate brings an empty database to the newest revision and says which."""
    out = _run(tmp_path / "var", "migrate")
    assert out.returncode == 0, out.stderr
    match = re.search(r"revision (\w+) \(head (\w+)\)", out.stdout)
    assert match and match.group(1) == match.group(2)


@pytest.mark.all_databases
def test_create_user_migrates_the_configured_database(
        tmp_path: Path, empty_database_url: str) -> None:
    """DESKMATE_DATABASE_URL points the commands at the database (SQLite or PostgreSQL)."""
    env = {"DESKMATE_DATABASE_URL": empty_database_url}
    made = _run(tmp_path / "var", "create-user", "carla", "--role", "technician", env=env)
    assert made.returncode == 0, made.stderr
    dup = _run(tmp_path / "var", "create-user", "Carla", "--role", "requester", env=env)
    assert dup.returncode == 2 and "taken" in dup.stderr, dup.stderr
    assert not (tmp_path / "var" / "deskmate.db").exists()  # nothing went to the default
    db = Database(create_engine(empty_database_url))
    try:
        assert db.read_sync(migrate.current) == migrate.head()  # create-user migrated it
    finally:
        db.close()


def test_bad_setting_is_reported_not_raised(tmp_path: Path) -> None:
    """A bad environment value ends with a one-line error, not a traceback."""
    out = _run(tmp_path / "var", "init", env={"DESKMATE_PORT": "abc"})
    assert out.returncode == 2
    assert "port" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.timeout(60)
def test_run_serves_tls_and_stops_on_sigterm(tmp_path: Path) -> None:
    """run prints the URL, serves /healthz over TLS pinned to its CA, and exits on SIGTERM."""
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKMATE_")}
    env.update({"DESKMATE_PORT": "0", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([*EXE, "run", "--data", str(data)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            if m := re.search(r"console:\s+(https://127\.0\.0\.1:\d+)/", line):
                url = m.group(1)
            if "password:" in line:
                break
        assert url is not None
        ctx = ssl.create_default_context(cafile=str(data / "tls" / "ca.pem"))
        with urllib.request.urlopen(url + "/healthz", context=ctx, timeout=10) as resp:  # noqa: S310
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_enrollment_token_create_list_revoke(tmp_path: Path) -> None:
    """Tokens are made with an install command, listed with their state, and revoked."""
    data = tmp_path / "var"
    made = _run(data, "enrollment-token", "create", "--max-uses", "2", "--expires", "12h",
                "--note", "lab")
    assert made.returncode == 0, made.stderr
    secret = re.search(r"(dme_\S+)", made.stdout)
    assert secret
    assert re.search(r"deskmate-agent enroll https://\S+ --token dme_\S+ "
                     r"--fingerprint sha256:[0-9a-f]{64}", made.stdout)
    listed = _run(data, "enrollment-token", "list")
    assert re.search(r"1\s+dme_\S+\s+active\s+0/2", listed.stdout)
    assert secret.group(1) not in listed.stdout  # only the prefix is ever shown again
    assert _run(data, "enrollment-token", "revoke", "1").returncode == 0
    assert "revoked" in _run(data, "enrollment-token", "list").stdout
    missing = _run(data, "enrollment-token", "revoke", "9")
    assert missing.returncode == 2 and "no enrollment token" in missing.stderr
    bad = _run(data, "enrollment-token", "create", "--expires", "soon")
    assert bad.returncode == 2 and "duration" in bad.stderr
