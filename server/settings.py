"""Every server setting in one table: name, type, default and help.

A setting is read, lowest precedence first, from its default, the TOML file named by
``DESKMATE_CONFIG`` (or ``--config``), the environment variable ``DESKMATE_<NAME>``, and
finally explicit overrides (command-line flags, tests). ``docs/configuration.md`` lists
every setting; ``tests/server/test_settings.py`` fails when one is missing there.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.i18n.catalogues import languages
from server.tickets.priority import parse_matrix

ENV_PREFIX = "DESKMATE_"


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Setting:
    """One configurable value."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("data", str, "./var", "Data directory: database, TLS files, attachments."),
    Setting("host", str, "127.0.0.1", "Address to listen on."),
    Setting("port", int, 8443, "Port for HTTPS, the API, the console and WebSockets."),
    Setting(
        "public_url", str, "",
        "URL users and agents reach the server at; derived from host and port when empty.",
    ),
    Setting(
        "database_url", str, "",
        "SQLAlchemy URL of the database; empty means the SQLite file <data>/deskmate.db.",
        secret=True,
    ),
    Setting(
        "sqlite_synchronous", str, "FULL",
        "SQLite synchronous pragma (FULL or NORMAL). FULL survives power loss; NORMAL is "
        "about 3x faster for writes and still survives a crash of the server process.",
    ),
    Setting("db_readers", int, 4, "Threads that run database reads (writes use one thread)."),
    Setting(
        "db_group_commit_max", int, 64,
        "Write jobs the writer thread commits together in one transaction (group commit; "
        "each in its own savepoint, every caller answered after the commit); 1 turns it off.",
    ),
    Setting(
        "identity_cache_seconds", float, 5.0,
        "How long a resolved session cookie or API token is remembered. Logout, revocation, "
        "password and user changes on this server forget it at once; changes by the CLI "
        "or another server are seen within this time. 0 turns the cache off.",
    ),
    Setting(
        "access_log", bool, True,
        "Log one line per HTTP request (logger deskmate.access); off saves ~10 % of a "
        "small request's CPU.",
    ),
    Setting(
        "tls_cert", str, "",
        "PEM certificate chain to serve; empty means the server's own CA issues one.",
    ),
    Setting("tls_key", str, "", "PEM private key for tls_cert."),
    Setting(
        "tls_hostnames", list, [],
        "Extra DNS names or IP addresses for the self-issued server certificate.",
    ),
    Setting(
        "behind_proxy", bool, False,
        "Serve plain HTTP for a TLS-terminating reverse proxy (see docs/install.md).",
    ),
    Setting(
        "trusted_proxies", list, ["127.0.0.1", "::1"],
        "Peers whose X-Forwarded-For and X-Forwarded-Proto headers are believed "
        "(only when behind_proxy is on).",
    ),
    Setting(
        "tls_binding_cert", str, "",
        "Behind a proxy: PEM file of the certificate the proxy presents, which agents "
        "bind their authentication to. Agents cannot connect behind a proxy without it.",
    ),
    Setting("session_idle_minutes", int, 720, "A console session ends after this idle time."),
    Setting("session_max_hours", int, 168, "A console session ends this long after login."),
    Setting(
        "login_max_failures", int, 5,
        "Failed password checks allowed per account from clients it does not trust (no "
        "device cookie of that account), and per trusted device, within login_window.",
    ),
    Setting(
        "login_address_max_failures", int, 20,
        "Failed password checks allowed per client address (IPv6: per /64) within "
        "login_window, whatever the user names; a successful login does not reset it.",
    ),
    Setting(
        "login_window_seconds", int, 900,
        "Window for counting failed logins; also how long a locked-out login waits.",
    ),
    Setting(
        "login_device_days", int, 90,
        "How long the signed device cookie of a successful login makes that browser a "
        "trusted client of the account (see docs/admin.md, Login rate limiting).",
    ),
    Setting(
        "password_checks_max", int, 16,
        "Password hashing jobs (logins, password changes) accepted at once; beyond that, "
        "and for a second job of the same user or address, the answer is 429.",
    ),
    Setting(
        "totp_required_for_admins", bool, False,
        "Admins must use a TOTP second factor: an admin without one is sent to set it up "
        "after logging in and can do nothing else until then.",
    ),
    Setting(
        "local_login_admins_only", bool, False,
        "Only admins may log in with a local Deskmate password; everyone else signs in "
        "through an identity provider (OpenID Connect) or a directory. Admins can also "
        "switch it on the Single sign-on page, which then wins over this value.",
    ),
    Setting("oidc_clock_skew_seconds", int, 60,
            "Clock difference allowed between Deskmate and an OpenID provider when the "
            "expiry and issue time of an ID token are checked."),
    Setting("oidc_jwks_min_refresh_seconds", int, 60,
            "Shortest time between two fetches of a provider's key set when ID tokens "
            "name a key Deskmate does not know (key rotation); a flood of such tokens "
            "cannot make it ask more often."),
    Setting("oidc_flow_minutes", int, 10,
            "How long a person may take at the provider's login page before the "
            "single sign-on attempt expires."),
    Setting("password_reset_minutes", int, 60,
            "How long a password reset link sent by e-mail works (it works once)."),
    Setting("password_reset_max_per_address", int, 3,
            "Password reset e-mails that may be asked for one e-mail address within "
            "password_reset_window_seconds."),
    Setting("password_reset_max_per_ip", int, 10,
            "Password reset requests allowed from one client address (IPv6: per /64) "
            "within password_reset_window_seconds."),
    Setting("password_reset_window_seconds", int, 3600,
            "Window for counting password reset requests."),
    Setting(
        "api_token_max_days", int, 365,
        "Longest lifetime of an API token, in days; older tokens stop working.",
    ),
    Setting("max_body_bytes", int, 1_048_576, "Largest request body accepted, in bytes."),
    Setting(
        "request_head_timeout", float, 20.0,
        "Seconds a client has to send a request's line and headers, from their first byte "
        "(from connecting, for a connection's first request); a connection that takes "
        "longer is closed (slowloris). 0: no limit.",
    ),
    Setting("page_size_max", int, 200, "Largest page a list endpoint returns."),
    Setting(
        "priority_matrix", str, "1 2 3 / 2 3 4 / 3 4 5",
        "Ticket priority (1 = P1 .. 5 = P5) by impact (rows, 1 high .. 3 low) and urgency "
        "(columns); the default is ITIL's matrix.",
    ),
    Setting("reopen_window_days", int, 7,
            "Days after resolution during which a requester may reopen a ticket."),
    Setting("satisfaction_low_score", int, 2,
            "A satisfaction score at or below this (1-5) flags the ticket for its group's "
            "manager (0: never)."),
    Setting("satisfaction_change_hours", int, 24,
            "Hours after their first answer during which a requester may change their "
            "satisfaction score and comment; later answers are refused."),
    Setting("auto_close_days", int, 7,
            "Resolved tickets close by themselves after this many days (0: never)."),
    Setting("sla_engine_seconds", int, 30,
            "Longest wait between SLA engine passes, in seconds (0: engine off). A pass also "
            "runs at start-up and when the next warning or breach falls due."),
    Setting("attachment_max_bytes", int, 10 * 1024 * 1024,
            "Largest file that can be attached to a ticket, in bytes."),
    Setting("admin_username", str, "admin", "User name of the first admin created on init."),
    Setting(
        "admin_password", str, "",
        "Password of the first admin; empty means one is generated and printed once.",
        secret=True,
    ),
    Setting(
        "metrics_public", bool, False,
        "Serve /metrics without authentication (default: admins and their API tokens only).",
    ),
    Setting("log_level", str, "INFO", "Logging level: DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "gc_full_minutes", int, 60,
        "Minutes between full garbage collections; in between, live objects are frozen "
        "every 10 s so long-lived connections are not rescanned (0: CPython's default "
        "collector). See docs/performance.md.",
    ),
    Setting("remote_consent_seconds", int, 30,
            "How long the user has to answer a remote-session request; no answer is a refusal."),
    Setting("remote_recording_days", int, 30,
            "Days a remote-session recording is kept after the session ended; housekeeping "
            "deletes older ones (0: keep them until an admin deletes them). Recording is "
            "switched on per device group (docs/remote.md)."),
    Setting("toolbox_file_max_bytes", int, 4 * 1024**3,
            "Largest file the toolbox's Files tool uploads to or downloads from a device, in "
            "bytes (docs/toolbox.md)."),
    Setting("scripts_technicians_run", bool, True,
            "Technicians may run approved scripts on devices of tickets they have rights on "
            "(admins always may); false keeps running scripts to admins (docs/toolbox.md)."),
    Setting("scripts_output_max_bytes", int, 1024 * 1024,
            "Output of one script run kept and attached to the ticket (stdout and stderr "
            "together); the rest is read and dropped."),
    Setting("smtp_host", str, "",
            "SMTP server for outgoing e-mail notifications; empty turns e-mail off."),
    Setting("smtp_port", int, 587, "Port of smtp_host (587 for starttls, 465 for tls)."),
    Setting("smtp_security", str, "starttls",
            "How the SMTP connection is protected: starttls, tls, or none. none is refused "
            "for a host other than localhost/127.0.0.1/::1 unless smtp_allow_plaintext is on."),
    Setting("smtp_allow_plaintext", bool, False,
            "Allow smtp_security = none to a non-local SMTP server (mail and password "
            "travel unencrypted)."),
    Setting("smtp_ca_file", str, "",
            "PEM file of the CAs that may sign the SMTP server's certificate (a private CA); "
            "empty: the system's CA store."),
    Setting("smtp_username", str, "", "User name for SMTP authentication; empty: no login."),
    Setting("smtp_password", str, "", "Password for SMTP authentication.", secret=True),
    Setting("smtp_password_file", str, "",
            "File holding the SMTP password (read once at start-up; instead of smtp_password)."),
    Setting("mail_from", str, "",
            "Sender address of notifications, e.g. Deskmate <desk@example.org>; required "
            "when smtp_host is set."),
    Setting("mail_max_attempts", int, 8,
            "Delivery attempts of one e-mail before it is marked failed."),
    Setting("mail_keep_days", int, 14, "Days sent and failed e-mails stay in the outbox."),
    Setting("mail_in_unknown_sender", str, "hold",
            "What incoming mail from an address no user has becomes: create (a requester "
            "account and a ticket), refuse (an automatic answer, once a day per address) or "
            "hold (kept for the desk to accept or discard)."),
    Setting("mail_in_rate_per_hour", int, 20,
            "Messages one sender may turn into tickets and comments per hour; more are held."),
    Setting("mail_in_addresses", list, [],
            "More addresses of this Deskmate (besides mail_from and the mailboxes' "
            "addresses): mail from them is ignored, so two systems cannot loop."),
    Setting("mail_reply_address", str, "",
            "Reply-To address of ticket mails; its plus-tag carries the signed reply token "
            "(desk@example.org becomes desk+dm-...@example.org). Empty: no Reply-To."),
    Setting("mail_lmtp_host", str, "127.0.0.1",
            "Address the LMTP receiver listens on (direct delivery from Postfix)."),
    Setting("mail_lmtp_port", int, 0,
            "Port of the LMTP receiver; 0: no receiver."),
    Setting("mail_lmtp_protocol", str, "lmtp",
            "Protocol of the receiver on mail_lmtp_port: lmtp (RFC 2033) or smtp."),
    Setting("mail_imap_ca_file", str, "",
            "PEM file of the CAs that may sign IMAP servers' certificates (a private CA); "
            "empty: the system's CA store."),
    Setting("mail_imap_poll_seconds", int, 60,
            "Longest wait between two looks into an IMAP mailbox, when IDLE is not "
            "available or between IDLE rounds."),
    Setting("email_confirm_hours", int, 24,
            "Hours the link that confirms a user's new e-mail address stays valid."),
    Setting("default_language", str, "en",
            "Language of mail to users who chose none, and of API messages when the "
            "browser asks for no language the server has (en, id: server/locales)."),
    Setting("default_time_zone", str, "UTC",
            "Time zone of times in mail to users who chose none (an IANA name such as "
            "Asia/Jakarta)."),
    Setting("report_time_zone", str, "",
            "Time zone whose calendar days the dashboards count in; empty means "
            "default_time_zone. Changing it rebuilds the report roll-ups at the next start."),
    Setting("report_weekly_summary", bool, True,
            "Mail each group manager a summary of their group's last week every Monday."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load`."""

    data: str
    host: str
    port: int
    public_url: str
    database_url: str
    sqlite_synchronous: str
    db_readers: int
    db_group_commit_max: int
    identity_cache_seconds: float
    access_log: bool
    tls_cert: str
    tls_key: str
    tls_hostnames: list[str]
    behind_proxy: bool
    trusted_proxies: list[str]
    tls_binding_cert: str
    session_idle_minutes: int
    session_max_hours: int
    login_max_failures: int
    login_address_max_failures: int
    login_window_seconds: int
    login_device_days: int
    password_checks_max: int
    totp_required_for_admins: bool
    local_login_admins_only: bool
    oidc_clock_skew_seconds: int
    oidc_jwks_min_refresh_seconds: int
    oidc_flow_minutes: int
    password_reset_minutes: int
    password_reset_max_per_address: int
    password_reset_max_per_ip: int
    password_reset_window_seconds: int
    api_token_max_days: int
    max_body_bytes: int
    request_head_timeout: float
    page_size_max: int
    priority_matrix: str
    reopen_window_days: int
    satisfaction_low_score: int
    satisfaction_change_hours: int
    auto_close_days: int
    sla_engine_seconds: int
    attachment_max_bytes: int
    admin_username: str
    admin_password: str
    metrics_public: bool
    log_level: str
    gc_full_minutes: int
    remote_consent_seconds: int
    toolbox_file_max_bytes: int
    remote_recording_days: int
    scripts_technicians_run: bool
    scripts_output_max_bytes: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_allow_plaintext: bool
    smtp_ca_file: str
    smtp_username: str
    smtp_password: str = field(repr=False)  # never in a printed or logged repr
    smtp_password_file: str
    mail_from: str
    mail_max_attempts: int
    mail_keep_days: int
    mail_in_unknown_sender: str
    mail_in_rate_per_hour: int
    mail_in_addresses: list[str]
    mail_reply_address: str
    mail_lmtp_host: str
    mail_lmtp_port: int
    mail_lmtp_protocol: str
    mail_imap_ca_file: str
    mail_imap_poll_seconds: int
    email_confirm_hours: int
    default_language: str
    default_time_zone: str
    report_time_zone: str
    report_weekly_summary: bool

    @property
    def data_dir(self) -> Path:
        """Return the data directory (made absolute by :func:`load`)."""
        return Path(self.data)

    @property
    def db_url(self) -> str:
        """Return the SQLAlchemy URL, defaulting to the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'deskmate.db'}"

    @property
    def base_url(self) -> str:
        """Return the URL people and agents use to reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "http" if self.behind_proxy else "https"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):  # noqa: S104 - display only
            host = "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    """Convert a raw value (text from the environment, or TOML) to the setting's type."""
    kind = setting.type
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind is list:
            if isinstance(value, list):
                return [str(v) for v in value]
            return [part.strip() for part in str(value).split(",") if part.strip()]
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except ValueError as exc:
        raise SettingsError(
            f"{setting.name} from {origin}: expected {kind.__name__}, got {value!r}"
        ) from exc


def _validate(values: dict[str, Any]) -> None:
    """Reject combinations and ranges that cannot work."""
    sync = values["sqlite_synchronous"]
    if sync.upper() not in ("FULL", "NORMAL", "EXTRA"):
        raise SettingsError(f"sqlite_synchronous: expected FULL, NORMAL or EXTRA, got {sync!r}")
    values["sqlite_synchronous"] = values["sqlite_synchronous"].upper()
    if not 0 <= values["port"] <= 65535:
        raise SettingsError(f"port: out of range: {values['port']!r}")
    if bool(values["tls_cert"]) != bool(values["tls_key"]):
        raise SettingsError("tls_cert and tls_key must be given together")
    for name in ("db_readers", "db_group_commit_max", "login_max_failures", "login_window_seconds",
                 "login_address_max_failures", "login_device_days", "password_checks_max",
                 "api_token_max_days",
                 "max_body_bytes", "page_size_max", "session_idle_minutes",
                 "session_max_hours", "reopen_window_days", "attachment_max_bytes",
                 "email_confirm_hours", "satisfaction_change_hours",
                 "toolbox_file_max_bytes"):
        if values[name] < 1:
            raise SettingsError(f"{name}: must be at least 1, got {values[name]!r}")
    for name in ("auto_close_days", "gc_full_minutes", "identity_cache_seconds",
                 "remote_recording_days", "request_head_timeout"):
        if values[name] < 0:
            raise SettingsError(f"{name}: must be 0 or more, got {values[name]!r}")
    if not 0 <= values["satisfaction_low_score"] <= 5:
        raise SettingsError("satisfaction_low_score: must be 0 to 5, "
                            f"got {values['satisfaction_low_score']!r}")
    _validate_mail(values)
    _validate_locale(values)
    if values["sla_engine_seconds"] < 0:
        raise SettingsError(f"sla_engine_seconds: must not be negative, "
                            f"got {values['sla_engine_seconds']!r}")


def _validate_locale(values: dict[str, Any]) -> None:
    """Refuse a default language without a catalogue or an unknown time zone."""
    if values["default_language"] not in languages():
        raise SettingsError(f"default_language: expected one of {', '.join(languages())}, "
                            f"got {values['default_language']!r}")
    try:
        zoneinfo.ZoneInfo(values["default_time_zone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"default_time_zone: not a time zone: "
                            f"{values['default_time_zone']!r}") from exc
    if values["report_time_zone"]:
        try:
            zoneinfo.ZoneInfo(values["report_time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"report_time_zone: not a time zone: "
                                f"{values['report_time_zone']!r}") from exc


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SMTP_SECURITY = ("starttls", "tls", "none")


def _validate_mail(values: dict[str, Any]) -> None:
    """Refuse an SMTP setup that cannot work or would send mail or a password in clear."""
    security = values["smtp_security"].lower()
    if security not in SMTP_SECURITY:
        raise SettingsError(f"smtp_security: expected starttls, tls or none, got {security!r}")
    values["smtp_security"] = security
    if not 1 <= values["smtp_port"] <= 65535:
        raise SettingsError(f"smtp_port: out of range: {values['smtp_port']!r}")
    if values["smtp_password"] and values["smtp_password_file"]:
        raise SettingsError("smtp_password and smtp_password_file cannot both be given")
    if values["mail_max_attempts"] < 1:
        raise SettingsError(f"mail_max_attempts: must be at least 1, "
                            f"got {values['mail_max_attempts']!r}")
    if values["mail_keep_days"] < 1:
        raise SettingsError(f"mail_keep_days: must be at least 1, got {values['mail_keep_days']!r}")
    if values["mail_in_unknown_sender"] not in ("create", "refuse", "hold"):
        raise SettingsError(f"mail_in_unknown_sender: expected create, refuse or hold, got "
                            f"{values['mail_in_unknown_sender']!r}")
    if values["mail_lmtp_protocol"] not in ("lmtp", "smtp"):
        raise SettingsError(f"mail_lmtp_protocol: expected lmtp or smtp, got "
                            f"{values['mail_lmtp_protocol']!r}")
    if not 0 <= values["mail_lmtp_port"] <= 65535:
        raise SettingsError(f"mail_lmtp_port: out of range: {values['mail_lmtp_port']!r}")
    for name in ("mail_in_rate_per_hour", "mail_imap_poll_seconds"):
        if values[name] < 1:
            raise SettingsError(f"{name}: must be at least 1, got {values[name]!r}")
    host = values["smtp_host"].strip()
    if not host:
        return
    if not values["mail_from"] or "@" not in values["mail_from"]:
        raise SettingsError(f"mail_from: an address is required when smtp_host is set, "
                            f"got {values['mail_from']!r}")
    if (security == "none" and host.strip("[]").lower() not in LOCAL_HOSTS
            and not values["smtp_allow_plaintext"]):
        raise SettingsError(f"smtp_security: none sends mail unencrypted to {host!r}; use "
                            f"starttls or tls, or set smtp_allow_plaintext")


def _read_secret_file(values: dict[str, Any], name: str, target: str) -> None:
    """Replace ``target`` by the stripped contents of the file named by ``name``, if any."""
    path = values[name]
    if not path:
        return
    try:
        values[target] = Path(path).expanduser().read_text().strip()
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path!r}: {exc.strerror}") from exc


def load(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve settings from defaults, a TOML file, the environment and overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                table = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {str(path)!r}: {exc}") from exc
        for key, raw in table.items():
            if key not in _BY_NAME:
                raise SettingsError(f"unknown setting {key!r} in {str(path)!r}")
            values[key] = _coerce(_BY_NAME[key], raw, str(path))
    for setting in SETTINGS:
        var = ENV_PREFIX + setting.name.upper()
        if var in env:
            values[setting.name] = _coerce(setting, env[var], var)
    for key, raw in (overrides or {}).items():
        if key not in _BY_NAME:
            raise SettingsError(f"unknown setting {key!r}")
        values[key] = _coerce(_BY_NAME[key], raw, "override")
    _validate(values)
    _read_secret_file(values, "smtp_password_file", "smtp_password")
    if values["smtp_ca_file"] and not Path(values["smtp_ca_file"]).expanduser().is_file():
        raise SettingsError(f"smtp_ca_file: no such file {values['smtp_ca_file']!r}")
    # Resolved once here, at start-up: request handlers must not touch the file system.
    values["data"] = str(Path(values["data"]).expanduser().resolve())
    try:
        parse_matrix(values["priority_matrix"])
    except ValueError as exc:
        raise SettingsError(f"priority_matrix: {exc}") from exc
    return Settings(**values)
