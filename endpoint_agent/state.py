"""The agent's state directory: enrollment record, device key, pinned CA, outbox."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from endpoint_agent.errors import NotEnrolled
from endpoint_agent.pinning import check_pin

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from shared.agent_auth import Signer

ENV_STATE = "DESKMATE_AGENT_STATE"


def default_state_dir() -> Path:
    """Return the state directory: $DESKMATE_AGENT_STATE, /var/lib for root, else XDG."""
    if env := os.environ.get(ENV_STATE):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/deskmate-agent")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "deskmate-agent"


@dataclass(frozen=True)
class Enrollment:
    """What enrolling stored: where the server is, who this device is, what to pin."""

    server_url: str
    device_id: str
    fingerprint: str
    websocket_path: str


def write_private(path: Path, data: bytes) -> None:
    """Write a file only the owner can read (0600 from creation on)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class AgentState:
    """Files in the state directory (created 0700)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    @property
    def key_file(self) -> Path:
        return self.dir / "device.key"

    @property
    def ca_file(self) -> Path:
        return self.dir / "server-ca.pem"

    @property
    def enrollment_file(self) -> Path:
        return self.dir / "enrollment.json"

    @property
    def outbox_file(self) -> Path:
        return self.dir / "outbox.sqlite"

    @property
    def health_file(self) -> Path:
        return self.dir / "health.json"

    @property
    def tray_socket(self) -> Path:
        return self.dir / "tray.sock"

    def ensure_dir(self) -> None:
        """Create the directory with mode 0700."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)

    def load_key(self) -> Signer:
        """Load the device key (signing through libcrypto: :mod:`endpoint_agent.devkey`).

        Raises:
            NotEnrolled: there is no key.
        """
        try:
            data = self.key_file.read_bytes()
        except FileNotFoundError as exc:
            raise NotEnrolled(f"no device key in {str(self.dir)!r}; run "
                              "'deskmate-agent enroll' first") from exc
        from endpoint_agent.devkey import DeviceKey

        key: Signer = DeviceKey.from_pem(data)
        return key

    def save(self, enrollment: Enrollment, ca_pem: bytes, key: Ed25519PrivateKey) -> None:
        """Store the device key, the pinned CA and the enrollment record."""
        from shared.agent_auth import private_pem

        self.ensure_dir()
        write_private(self.key_file, private_pem(key))
        write_private(self.ca_file, ca_pem)
        write_private(self.enrollment_file,
                      json.dumps(asdict(enrollment), indent=2).encode() + b"\n")

    def load(self) -> tuple[Enrollment, bytes]:
        """Return the enrollment record and the pinned CA's PEM.

        Raises:
            NotEnrolled: this machine has not been enrolled (with this state directory).
        """
        try:
            record = json.loads(self.enrollment_file.read_text())
            ca_pem = self.ca_file.read_bytes()
        except FileNotFoundError as exc:
            raise NotEnrolled(f"not enrolled (no {self.enrollment_file}); run "
                              "'deskmate-agent enroll URL --token ... --fingerprint ...'") from exc
        enrollment = Enrollment(**record)
        # The stored CA must still be the pinned one (and only it), whatever touched it.
        return enrollment, check_pin(ca_pem, enrollment.fingerprint)
