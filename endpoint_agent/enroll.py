"""``deskmate-agent enroll``: make a device key, pin the server, register the device."""

from __future__ import annotations

import json
import platform
import socket
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from endpoint_agent import __version__
from endpoint_agent.errors import EnrollmentError
from endpoint_agent.pinning import bootstrap_context, check_pin, pinned_context
from endpoint_agent.state import AgentState, Enrollment
from shared.agent_auth import b64encode, public_bytes
from shared.fingerprint import normalize

MAX_CA_BYTES = 64 * 1024
TIMEOUT = 15.0


def normalize_url(url: str) -> str:
    """Return the server's base URL; only https is accepted.

    Raises:
        EnrollmentError: the URL is not an https URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise EnrollmentError(f"the server URL must start with https://, got {url!r}")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def _read(resp: Any, limit: int) -> bytes:
    data: bytes = resp.read(limit + 1)
    if len(data) > limit:
        raise EnrollmentError("the server's answer is too large")
    return data


def fetch_ca(base_url: str, fingerprint: str) -> bytes:
    """Download the server's CA and accept it only if it matches the fingerprint."""
    try:
        with urllib.request.urlopen(  # noqa: S310 - https only, checked above
                base_url + "/api/v1/agent/ca.pem", context=bootstrap_context(),
                timeout=TIMEOUT) as resp:
            pem = _read(resp, MAX_CA_BYTES)
    except urllib.error.HTTPError as exc:
        raise EnrollmentError(f"the server answered {exc.code} for its CA certificate") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnrollmentError(f"cannot reach {base_url}: {reason}") from exc
    return check_pin(pem, fingerprint)


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read(64 * 1024))
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code}"


def enroll(state: AgentState, server_url: str, token: str, fingerprint: str) -> Enrollment:
    """Enroll this machine and store what the agent needs to connect.

    Raises:
        EnrollmentError: the server refused or could not be reached.
        PinMismatch: the server's certificate is not the pinned one.
    """
    base = normalize_url(server_url)
    try:
        pin = normalize(fingerprint)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from exc
    ca_pem = fetch_ca(base, pin)
    key = Ed25519PrivateKey.generate()  # written to disk only once the server accepted it
    body = json.dumps({
        "token": token,
        "public_key": b64encode(public_bytes(key)),
        "hostname": socket.gethostname()[:255] or "unknown",
        "os_name": platform.system(),
        "os_version": platform.release()[:200],
        "agent_version": __version__,
    }).encode()
    request = urllib.request.Request(  # noqa: S310 - https only
        base + "/api/v1/agent/enroll", data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"deskmate-agent/{__version__}"})
    try:
        with urllib.request.urlopen(request, context=pinned_context(ca_pem),  # noqa: S310
                                    timeout=TIMEOUT) as resp:
            answer = json.loads(_read(resp, 64 * 1024))
    except urllib.error.HTTPError as exc:
        raise EnrollmentError(f"enrollment refused: {_error_message(exc)}") from exc
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnrollmentError(f"cannot enroll with {base}: {reason}") from exc
    enrollment = Enrollment(server_url=base, device_id=str(answer["device_id"]),
                            fingerprint=pin, websocket_path=str(answer["websocket_path"]))
    state.save(enrollment, ca_pem, key)
    return enrollment
