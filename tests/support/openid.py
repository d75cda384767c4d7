"""A real OpenID provider (the npm package ``oidc-provider``, run by Debian's node) for
the OIDC sign-in tests.

tests/support/oidc_provider/ holds the script and its package.json/package-lock.json; the
first use installs the locked packages with ``npm ci`` (offline from npm's cache when it
can) into a cache directory named after the lock file's hash, shared by later runs and by
the xdist workers (a file lock guards the install). The provider serves HTTPS on
127.0.0.1 with a certificate from a test CA made by the project's own CA code, shows its
own development login page (any password; the login names an account of the test), and
has a test-only route that rotates its signing key.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.tls import ensure_own_ca
from tests.support.tools import missing

SOURCE = Path(__file__).with_name("oidc_provider")
CLIENT_ID = "deskmate"
CLIENT_SECRET = "deskmate-client-secret-1"
START_TIMEOUT = 30.0


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deskmate-tests"


def installed_packages() -> Path:
    """Return a directory holding provider.js and its node_modules (installed once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("node and npm are not installed (Debian packages nodejs npm)")
    lock = (SOURCE / "package-lock.json").read_bytes()
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    with open(root / "oidc-provider.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (target / "node_modules" / "oidc-provider").is_dir():
            work = Path(tempfile.mkdtemp(prefix="install-", dir=root))
            for name in ("package.json", "package-lock.json"):
                shutil.copy(SOURCE / name, work / name)
            quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
            done = subprocess.run([npm, "ci", "--offline", *quiet], cwd=work,
                                  capture_output=True, timeout=300)
            if done.returncode != 0:  # not in npm's cache yet: from the registry
                done = subprocess.run([npm, "ci", *quiet], cwd=work, capture_output=True,
                                      timeout=600)
            if done.returncode != 0:
                shutil.rmtree(work, ignore_errors=True)
                raise RuntimeError(f"npm ci failed: {done.stderr.decode(errors='replace')}")
            shutil.rmtree(target, ignore_errors=True)
            work.rename(target)
    shutil.copy(SOURCE / "provider.js", target / "provider.js")
    return target


@dataclass
class OpenIdProvider:
    """A running oidc-provider and how to reach it."""

    issuer: str
    ca_pem: str
    process: subprocess.Popen[bytes]

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem)

    def rotate_key(self) -> str:
        """Make the provider sign with a new key (the old one is unpublished); return its kid."""
        request = urllib.request.Request(  # noqa: S310 - https, the test's own provider
            f"{self.issuer}/__test/rotate", method="POST")
        with urllib.request.urlopen(  # noqa: S310 - https, the test's own provider
                request, context=self._context(), timeout=20) as resp:
            return str(json.load(resp)["kid"])

    def set_clients(self, clients: list[dict[str, Any]]) -> None:
        """Replace the provider's registered clients."""
        request = urllib.request.Request(  # noqa: S310 - https, the test's own provider
            f"{self.issuer}/__test/clients", method="PUT", data=json.dumps(clients).encode())
        with urllib.request.urlopen(  # noqa: S310 - https, the test's own provider
                request, context=self._context(), timeout=20):
            pass

    def jwks(self) -> dict[str, Any]:
        """Return the provider's published key set."""
        with urllib.request.urlopen(  # noqa: S310 - https, the test's own provider
                f"{self.issuer}/jwks", context=self._context(), timeout=20) as resp:
            return dict(json.load(resp))

    def stop(self) -> None:
        """Stop the provider (connections are refused afterwards)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def client(redirect_uri: str) -> dict[str, Any]:
    """Return the provider's record of Deskmate as a confidential client."""
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uris": [redirect_uri], "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic"}


@contextlib.contextmanager
def running_provider(*, accounts: Mapping[str, Mapping[str, Any]],
                     clients: list[dict[str, Any]] | None = None) -> Iterator[OpenIdProvider]:
    """Start oidc-provider with ``accounts`` (login -> claims) and ``clients``."""
    packages = installed_packages()
    node = shutil.which("node")
    assert node is not None
    with tempfile.TemporaryDirectory(prefix="deskmate-oidc-") as tmp:
        root = Path(tmp)
        tls = ensure_own_ca(root / "tls", hostnames=["127.0.0.1", "localhost"])
        assert tls.ca_file is not None
        config = {"cert": tls.cert_file.read_text(), "key": tls.key_file.read_text(),
                  "clients": clients or [], "accounts": accounts}
        (root / "config.json").write_text(json.dumps(config))
        process = subprocess.Popen([node, str(packages / "provider.js"),
                                    str(root / "config.json")], cwd=packages,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdout is not None
        line = process.stdout.readline().decode()  # "listening <port>" or EOF on a crash
        if not line.startswith("listening "):
            process.kill()
            process.wait()
            process.stdout.close()
            raise RuntimeError(f"oidc-provider did not start: {line!r}")
        port = int(line.split()[1])
        provider = OpenIdProvider(issuer=f"https://127.0.0.1:{port}",
                                  ca_pem=tls.ca_file.read_text(), process=process)
        try:
            yield provider
        finally:
            provider.stop()


async def through_provider(http: Any, base_url: str, provider: OpenIdProvider,
                           provider_id: int, login: str) -> str:
    """Sign in through the provider as ``login`` without a browser; return where Deskmate
    sends the browser at the end (its callback's redirect, or the start's refusal).

    ``http`` is the aiohttp session of the person's Deskmate client (its cookies);
    the provider's own cookies live in a session of their own.
    """
    import aiohttp

    start = await http.get(f"{base_url}/api/v1/auth/oidc/{provider_id}/start",
                           allow_redirects=False)
    location = start.headers["Location"]
    if not location.startswith(provider.issuer):
        return str(location)
    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=provider._context()),
            cookie_jar=aiohttp.CookieJar(unsafe=True)) as idp:
        page = await idp.get(location)  # follows to the provider's login page
        assert page.status == 200, await page.text()
        answer = await idp.post(str(page.url), data={"prompt": "login", "login": login,
                                                     "password": "any"},
                                allow_redirects=False)
        location = answer.headers["Location"]
        while location.startswith(provider.issuer) or location.startswith("/"):
            url = location if location.startswith("https://") else provider.issuer + location
            answer = await idp.get(url, allow_redirects=False)
            location = answer.headers["Location"]
    assert location.startswith(base_url), location
    return await callback(http, location)


async def callback(http: Any, url: str) -> str:
    """Open Deskmate's callback URL in the person's client; return where it sends them."""
    done = await http.get(url, allow_redirects=False)
    assert done.status == 302, await done.text()
    return str(done.headers["Location"])
