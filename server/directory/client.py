"""Talking to an LDAP server with ldap3 (blocking: callers run these on a thread).

Transport rules: ``ldaps`` URLs with ``security = "ldaps"``, ``ldap`` URLs with
``starttls`` (the StartTLS extended operation, RFC 4513 section 3, before any bind) or
``plain``, which is refused unless the directory's ``allow_plaintext`` is on. TLS checks
the server's certificate against the directory's CA (``ca_pem``) when one is given, else
the system's CA store, and always checks the host name. Several URLs are replicas, tried
in order, each once: the first that answers wins.
"""

from __future__ import annotations

import contextlib
import ssl
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.i18n.messages import N_, Message

with warnings.catch_warnings():
    # ldap3 2.9.1 imports pyasn1 names that pyasn1 0.6 renamed ("tagMap is deprecated.
    # Please use TAG_MAP instead"): harmless, and not ours to fix.
    warnings.filterwarnings("ignore", message=r".* is deprecated\. Please use ",
                            category=DeprecationWarning)
    import ldap3
    from ldap3.core import exceptions as ldap_errors
    from ldap3.utils.conv import escape_filter_chars

IN_CHAIN = "1.2.840.113556.1.4.1941"  # LDAP_MATCHING_RULE_IN_CHAIN (Active Directory)


class DirectoryError(Exception):
    """Talking to a directory failed; the message is safe to show to an admin."""


class Unreachable(DirectoryError):
    """No URL of the directory answered (or TLS with it failed)."""


class PlaintextRefused(DirectoryError):
    """The directory is set to plain LDAP without allow_plaintext."""


# Any failure of ldap3 itself (a search cut off, a server gone mid-way).
LdapFailure = ldap_errors.LDAPException


class ServiceBindFailed(DirectoryError):
    """The directory refused the service account's bind DN or password."""


@dataclass(frozen=True)
class Config:
    """What connecting and searching need (a directories row)."""

    id: int
    name: str
    kind: str
    urls: list[str]
    security: str
    allow_plaintext: bool
    ca_pem: str
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    disabled_filter: str
    attributes: dict[str, Any]
    group_base: str
    group_filter: str
    nested_groups: str
    group_mappings: list[dict[str, Any]]
    default_role: str
    page_size: int
    timeout_seconds: int

    @classmethod
    def from_row(cls, row: Any) -> Config:
        """Return the config of a directories row."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def transport_problem(cfg: Config) -> Message | None:
    """Return why the directory's URLs and security do not fit together, or None.

    The message's ``field`` names what the admin changes: the URLs, or the security.
    """
    for url in cfg.urls:
        secure_url = url.lower().startswith("ldaps://")
        if cfg.security == "ldaps" and not secure_url:
            return N_("the security LDAPS needs ldaps:// URLs; {url} is not one", url=url,
                      field="urls")
        if cfg.security != "ldaps" and secure_url:
            return N_("an ldaps:// URL such as {url} needs the security LDAPS", url=url,
                      field="urls")
    if cfg.security == "plain" and not cfg.allow_plaintext:
        return N_("plain LDAP sends passwords unencrypted; choose LDAPS or StartTLS, or allow "
                  "plain LDAP explicitly", field="security")
    return None


class _Tls(ldap3.Tls):  # type: ignore[misc]
    """TLS through the standard library's own checks: certificate against the CA and
    the host name in the handshake (ldap3 checks names itself with the deprecated
    ssl.match_hostname, and not at all unless asked)."""

    def __init__(self, ca_pem: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self.context = ssl.create_default_context(cadata=ca_pem or None)
        if not ca_pem:
            self.context.load_default_certs()
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self.context.wrap_socket(
            connection.socket, server_side=False, do_handshake_on_connect=do_handshake,
            server_hostname=connection.server.host)


def _servers(cfg: Config) -> list[ldap3.Server]:
    problem = transport_problem(cfg)
    if problem is not None:
        raise PlaintextRefused(str(problem))
    tls = None
    if cfg.security != "plain":
        tls = _Tls(cfg.ca_pem)
    return [ldap3.Server(url, use_ssl=cfg.security == "ldaps", tls=tls,
                         connect_timeout=cfg.timeout_seconds, get_info=ldap3.NONE)
            for url in cfg.urls]


def _open(cfg: Config, user: str, password: str) -> ldap3.Connection:
    """Connect to the first of the directory's URLs that answers (StartTLS when asked)
    and bind as ``user``; raise on failure.

    The URLs are tried in their order, each once within ``timeout_seconds``. (ldap3's
    own server pool sleeps 10 s after a round in which no server answered, so a login
    with the directory down would wait that long for its 503.)
    """
    if not password:
        # RFC 4513 section 5.1.2: an empty password is an unauthenticated bind, which
        # servers answer with success. Never take it for a right password.
        raise ServiceBindFailed("empty password")
    failures: list[str] = []
    for server in _servers(cfg):
        if not server.check_availability():  # a TCP connect within connect_timeout
            failures.append(f"{server.host}:{server.port}")
            continue
        conn = ldap3.Connection(server, user=user, password=password,
                                receive_timeout=cfg.timeout_seconds, raise_exceptions=False,
                                read_only=True)
        try:
            conn.open()
        except (ldap_errors.LDAPException, ssl.SSLError, OSError) as exc:
            raise Unreachable(f"directory {cfg.name!r}: connection failed: {exc}") from exc
        return _bind(cfg, conn, user)
    raise Unreachable(f"directory {cfg.name!r} cannot be reached at {', '.join(failures)}")


def _bind(cfg: Config, conn: ldap3.Connection, user: str) -> ldap3.Connection:
    """StartTLS when asked, then bind ``conn`` as ``user``; raise on failure."""
    try:
        if cfg.security == "starttls" and not conn.start_tls():
            raise Unreachable(f"StartTLS refused by {cfg.name!r}")
        if not conn.bind():
            result = conn.result or {}
            conn.unbind()
            raise ServiceBindFailed(f"bind as {user!r} refused: "
                                    f"{result.get('description', 'invalid credentials')} "
                                    f"{result.get('message', '')}".strip())
    except (ldap_errors.LDAPException, ssl.SSLError, OSError) as exc:
        with contextlib.suppress(ldap_errors.LDAPException, OSError):
            conn.unbind()
        raise Unreachable(f"directory {cfg.name!r}: connection failed: {exc}") from exc
    return conn


def service_connection(cfg: Config) -> ldap3.Connection:
    """Return a connection bound as the directory's service account."""
    return _open(cfg, cfg.bind_dn, cfg.bind_password)


def _first(attrs: dict[str, Any], name: str | None) -> str | None:
    if not name:
        return None
    value = attrs.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


@dataclass(frozen=True)
class DirectoryUser:
    """One user entry as the sync and the sign-in read it."""

    dn: str
    external_id: str
    login: str
    display_name: str
    mail: str | None
    phone: str | None
    department: str | None
    manager_dn: str | None


def _attribute_names(cfg: Config) -> list[str]:
    names = [cfg.attributes.get(k) for k in ("login", "display_name", "mail", "phone",
                                              "department", "manager", "external_id")]
    return sorted({n for n in names if n})


def _user(cfg: Config, dn: str, attrs: dict[str, Any]) -> DirectoryUser | None:
    a = cfg.attributes
    login = _first(attrs, a.get("login"))
    external = _first(attrs, a.get("external_id") or "entryUUID")
    if login is None or external is None:
        return None
    return DirectoryUser(
        dn=dn, external_id=external, login=login.strip().lower(),
        display_name=_first(attrs, a.get("display_name")) or login,
        mail=_first(attrs, a.get("mail")), phone=_first(attrs, a.get("phone")),
        department=_first(attrs, a.get("department")),
        manager_dn=_first(attrs, a.get("manager")))


def _paged(conn: ldap3.Connection, cfg: Config, base: str, search: str,
           attributes: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (dn, attributes) of every entry, a page at a time (RFC 2696)."""
    for item in conn.extend.standard.paged_search(
            base, search, search_scope=ldap3.SUBTREE, attributes=attributes,
            paged_size=cfg.page_size, generator=True):
        if item.get("type") == "searchResEntry":
            attrs = dict(item["attributes"])
            for key, raw in item.get("raw_attributes", {}).items():
                if key.lower() == "objectguid" and raw:  # AD: binary, shown as hex
                    attrs[key] = raw[0] if isinstance(raw, list) else raw
            yield item["dn"], attrs
    if conn.result and conn.result.get("result") not in (0, None):
        raise DirectoryError(f"search in {base!r} failed: {conn.result.get('description')}")


def users(conn: ldap3.Connection, cfg: Config) -> tuple[list[DirectoryUser], set[str],
                                                          list[str]]:
    """Return the directory's users, the DNs of disabled ones, and entries skipped."""
    found: list[DirectoryUser] = []
    skipped: list[str] = []
    for dn, attrs in _paged(conn, cfg, cfg.user_base, cfg.user_filter, _attribute_names(cfg)):
        user = _user(cfg, dn, attrs)
        if user is None:
            skipped.append(f"{dn}: no login or id attribute")
        else:
            found.append(user)
    disabled: set[str] = set()
    if cfg.disabled_filter:
        both = f"(&{_wrap(cfg.user_filter)}{_wrap(cfg.disabled_filter)})"
        disabled = {dn.lower() for dn, _a in _paged(conn, cfg, cfg.user_base, both, ["1.1"])}
    return found, disabled, skipped


def _wrap(search: str) -> str:
    search = search.strip()
    return search if search.startswith("(") else f"({search})"


def groups(conn: ldap3.Connection, cfg: Config) -> dict[str, set[str]]:
    """Return every group under group_base: its DN (lower case) -> member DNs (lower)."""
    if not cfg.group_base:
        return {}
    search = cfg.group_filter or "(|(objectClass=groupOfNames)(objectClass=group)" \
                                 "(objectClass=groupOfUniqueNames))"
    found: dict[str, set[str]] = {}
    for dn, attrs in _paged(conn, cfg, cfg.group_base, search, ["member", "uniqueMember"]):
        members = list(attrs.get("member") or []) + list(attrs.get("uniqueMember") or [])
        found[dn.lower()] = {str(m).lower() for m in members}
    return found


def in_chain_members(conn: ldap3.Connection, cfg: Config, group_dn: str) -> set[str]:
    """Return the DNs of users in ``group_dn`` at any depth, asking Active Directory to
    follow the nesting (LDAP_MATCHING_RULE_IN_CHAIN)."""
    search = (f"(&{_wrap(cfg.user_filter)}"
              f"(memberOf:{IN_CHAIN}:={escape_filter_chars(group_dn)}))")
    return {dn.lower() for dn, _a in _paged(conn, cfg, cfg.user_base, search, ["1.1"])}


def find_user(conn: ldap3.Connection, cfg: Config, login: str) -> DirectoryUser | None:
    """Return the user whose login attribute is ``login`` (one entry), or None."""
    search = (f"(&{_wrap(cfg.user_filter)}"
              f"({cfg.attributes['login']}={escape_filter_chars(login)}))")
    conn.search(cfg.user_base, search, search_scope=ldap3.SUBTREE,
                attributes=_attribute_names(cfg), size_limit=2)
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    if len(entries) != 1:
        return None
    return _user(cfg, entries[0]["dn"], dict(entries[0]["attributes"]))


def is_disabled(conn: ldap3.Connection, cfg: Config, dn: str) -> bool:
    """Tell whether the entry ``dn`` matches the directory's disabled filter."""
    if not cfg.disabled_filter:
        return False
    conn.search(dn, _wrap(cfg.disabled_filter), search_scope=ldap3.BASE, attributes=["1.1"])
    return any(e.get("type") == "searchResEntry" for e in conn.response or [])


# Active Directory's reasons in a refused bind's diagnostic message ("data 533").
AD_DISABLED = ("data 533", "data 775", "data 701", "data 532", "data 773")


def user_bind(cfg: Config, dn: str, password: str) -> tuple[bool, str]:
    """Bind as ``dn`` with ``password``; return whether it worked and the server's
    diagnostic message (Active Directory names a disabled or locked account there)."""
    try:
        conn = _open(cfg, dn, password)
    except ServiceBindFailed as exc:
        return False, str(exc)
    conn.unbind()
    return True, ""
