"""A throwaway Dovecot IMAP server for the tests: its own config, users, maildirs and TLS
certificate in a temporary directory, listening on 127.0.0.1 only (IMAPS and IMAP with
STARTTLS), stopped by PID.

Debian's ``dovecot-imapd`` provides the binary. Mail is stored as the ``dovecot`` system
user (Dovecot will not store mail as root); the tests put messages in with IMAP APPEND
and look at what is left the same way.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.tools import missing

DOVECOT = "/usr/sbin/dovecot"
USER = "desk"
PASSWORD = "desk-mail-password"  # a test account on loopback
START_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _certificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 (it is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dovecot.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


@dataclass
class Dovecot:
    """A running Dovecot and how to reach it."""

    root: Path
    process: subprocess.Popen[bytes]
    imaps_port: int
    imap_port: int
    ca_file: Path
    username: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4_SSL:
        """Return a logged-in IMAPS client (blocking; for test set-up and checks)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context,
                                 timeout=30)
        try:
            imap.login(self.username, self.password)
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def append(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """Put messages into a folder (IMAP APPEND)."""
        imap = self.client()
        try:
            for raw in messages:
                typ, data = imap.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def count(self, folder: str = "INBOX") -> int:
        """Return how many undeleted messages a folder holds."""
        imap = self.client()
        try:
            typ, data = imap.select(folder)
            assert typ == "OK", data
            typ, data = imap.uid("SEARCH", "UNDELETED")
            return len((data[0] or b"").split())
        finally:
            imap.logout()

    def create_folder(self, folder: str) -> None:
        """Create a folder."""
        imap = self.client()
        try:
            imap.create(folder)
        finally:
            imap.logout()


def _oauth2(root: Path, introspection_url: str | None) -> str:
    """Return the passdb that checks XOAUTH2/OAUTHBEARER tokens at an introspection
    endpoint (RFC 7662), or nothing."""
    if introspection_url is None:
        return ""
    (root / "oauth2.conf").write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
        "force_introspection = yes\nusername_attribute = username\n"
        "active_attribute = active\nactive_value = true\n")
    return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
"""


def _config(root: Path, cert: Path, key: Path, *, imaps: int, imap: int, uid: int,
            gid: int, introspection_url: str | None = None) -> str:
    mechanisms = "plain login xoauth2 oauthbearer" if introspection_url else "plain login"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_privileged_group =
default_login_user = dovenull
default_internal_user = dovecot
{_oauth2(root, introspection_url)}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextmanager
def running_dovecot(*, introspection_url: str | None = None) -> Iterator[Dovecot]:
    """Start Dovecot in a temporary directory; skip (fail under CI) when it is missing.

    With ``introspection_url``, Dovecot also accepts XOAUTH2 logins whose token that
    endpoint (RFC 7662) reports active for the user.
    """
    if not os.path.exists(DOVECOT):
        missing("dovecot is not installed (Debian package dovecot-imapd)")
    account = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="deskmate-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(root / sub, account.pw_uid, account.pw_gid) if os.geteuid() == 0 else None
    cert, key = _certificate(root)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    imaps, imap = _free_port(), _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, cert, key, imaps=imaps, imap=imap, uid=account.pw_uid,
                            gid=account.pw_gid, introspection_url=introspection_url))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    server = Dovecot(root=root, process=process, imaps_port=imaps, imap_port=imap,
                     ca_file=cert)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() \
                    else ""
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{log}")
            try:
                server.client().logout()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
