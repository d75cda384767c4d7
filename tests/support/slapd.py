"""A real OpenLDAP server (Debian's slapd) for the directory tests and the bench.

slapd runs from a generated slapd.conf and an MDB database in a temporary directory,
listening on ldaps://127.0.0.1:<free port>/ (and ldap:// on another port, for the
plaintext and StartTLS cases) with a certificate from a test CA made by the project's
own CA code (server/tls.py). Entries are loaded with slapadd before it starts, which
takes a second for thousands of entries. The ppolicy overlay is loaded: an account is
locked by ``pwdAccountLockedTime: 000001010000Z`` (the disabled filter of the tests is
``(pwdAccountLockedTime=*)``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from server.tls import ensure_own_ca
from tests.support.tools import missing

BASE = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "directory-admin-1"
SERVICE_DN = f"cn=deskmate,{BASE}"
SERVICE_PASSWORD = "service-password-1"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
USER_PASSWORD = "ldap-user-password-1"
LOCKED = "000001010000Z"  # ppolicy: locked for good
START_TIMEOUT = 20.0

_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
sizelimit unlimited
TLSCACertificateFile {tls}/ca.pem
TLSCertificateFile {tls}/server.pem
TLSCertificateKeyFile {tls}/server.key
database mdb
maxsize 2147483648
suffix "{base}"
rootdn "{admin}"
rootpw {admin_password}
directory {root}/db
overlay ppolicy
index objectClass eq
index uid eq
index member eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="{service}" read by self read by * none
"""


@dataclass(frozen=True)
class Person:
    """A directory user of the tests."""

    uid: str
    name: str
    mail: str
    phone: str = ""
    department: str = ""
    manager: str = ""  # uid of the manager
    locked: bool = False


@dataclass(frozen=True)
class Group:
    """A groupOfNames; ``members`` are uids of people or cn's of other groups (nested)."""

    cn: str
    people: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


def ldif(people: Iterable[Person], groups: Iterable[Group]) -> str:
    """Return the LDIF of the base entries, the service account, people and groups."""
    parts = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
        "o: Example\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject"
        f"\ncn: deskmate\nuserPassword: {SERVICE_PASSWORD}\n",
    ]
    for p in people:
        entry = (f"dn: {person_dn(p.uid)}\nobjectClass: inetOrgPerson\nuid: {p.uid}\n"
                 f"cn: {p.name}\nsn: {p.name.split()[-1]}\nmail: {p.mail}\n"
                 f"userPassword: {USER_PASSWORD}\n")
        if p.phone:
            entry += f"telephoneNumber: {p.phone}\n"
        if p.department:
            entry += f"departmentNumber: {p.department}\n"
        if p.manager:
            entry += f"manager: {person_dn(p.manager)}\n"
        if p.locked:
            entry += f"pwdAccountLockedTime: {LOCKED}\n"
        parts.append(entry)
    for g in groups:
        members = [person_dn(u) for u in g.people] + [group_dn(c) for c in g.groups]
        entry = f"dn: {group_dn(g.cn)}\nobjectClass: groupOfNames\ncn: {g.cn}\n"
        entry += "".join(f"member: {m}\n" for m in members or [ADMIN_DN])
        parts.append(entry)
    return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slapd:
    """A running slapd and how to reach it."""

    root: Path
    ldaps_port: int
    ldap_port: int
    ca_pem: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap_port}"

    def modify(self, text: str) -> None:
        """Apply LDIF changes as the directory's admin (ldapmodify over ldapi-less TCP)."""
        subprocess.run(
            ["ldapmodify", "-x", "-H", self.ldap_url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=text.encode(), check=True, capture_output=True, timeout=30)

    def stop(self) -> None:
        """Stop slapd (connections are refused afterwards)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def start(self) -> None:
        """Start slapd on its ports and wait until it answers."""
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        self.process = subprocess.Popen(
            [slapd, "-d", "0", "-f", str(self.root / "slapd.conf"), "-h",
             f"{self.ldaps_url}/ {self.ldap_url}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.ldaps_port), timeout=0.5):
                return
            time.sleep(0.05)
        raise RuntimeError("slapd did not start in time")


@contextlib.contextmanager
def running_slapd(people: Iterable[Person], groups: Iterable[Group]) -> Iterator[Slapd]:
    """Start slapd loaded with ``people`` and ``groups``; stop and delete it afterwards."""
    if shutil.which("slapd") is None and not Path("/usr/sbin/slapd").exists():
        missing("slapd is not installed (Debian package slapd)")
    if shutil.which("slapadd") is None and not Path("/usr/sbin/slapadd").exists():
        missing("slapadd is not installed (Debian package slapd)")
    with tempfile.TemporaryDirectory(prefix="deskmate-slapd-") as tmp:
        root = Path(tmp)
        tls = ensure_own_ca(root / "tls", hostnames=["127.0.0.1", "localhost"])
        (root / "db").mkdir()
        (root / "slapd.conf").write_text(_CONF.format(
            root=root, tls=root / "tls", base=BASE, admin=ADMIN_DN,
            admin_password=ADMIN_PASSWORD, service=SERVICE_DN))
        (root / "data.ldif").write_text(ldif(people, groups))
        slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
        subprocess.run([slapadd, "-q", "-f", str(root / "slapd.conf"), "-l",
                        str(root / "data.ldif")], check=True, capture_output=True, timeout=300)
        assert tls.ca_file is not None
        server = Slapd(root=root, ldaps_port=_free_port(), ldap_port=_free_port(),
                       ca_pem=tls.ca_file.read_text())
        server.start()
        try:
            yield server
        finally:
            server.stop()
