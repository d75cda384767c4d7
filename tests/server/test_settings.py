"""Settings: one table, every entry documented, environment and TOML both work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from server.settings import ENV_PREFIX, SETTINGS, Settings, SettingsError, load

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_table_and_settings_class_agree() -> None:
    """Every setting in the table is a field of Settings, and the other way round."""
    assert {f.name for f in dataclasses.fields(Settings)} == {s.name for s in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_every_setting_is_documented(setting: object) -> None:
    """docs/configuration.md names each setting and its environment variable."""
    text = DOCS.read_text()
    name = setting.name  # type: ignore[attr-defined]
    assert f"`{name}`" in text, f"{name} missing from {DOCS}"
    assert f"`{ENV_PREFIX}{name.upper()}`" in text


def test_environment_overrides_toml_overrides_default(tmp_path: Path) -> None:
    """Precedence is default < TOML file < environment < explicit override."""
    config = tmp_path / "deskmate.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\ntls_hostnames = ["a.example"]\n')
    settings = load(config_file=config, environ={"DESKMATE_PORT": "9100"})
    assert (settings.port, settings.host, settings.tls_hostnames) == (
        9100, "0.0.0.0", ["a.example"])
    assert load(config_file=config, environ={}, overrides={"port": 1}).port == 1
    assert load(environ={}).port == 8443


def test_environment_values_are_typed() -> None:
    """Booleans, integers and lists parse from environment text."""
    settings = load(environ={"DESKMATE_BEHIND_PROXY": "yes", "DESKMATE_DB_READERS": "2",
                             "DESKMATE_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"})
    assert settings.behind_proxy is True
    assert settings.db_readers == 2
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.0.2"]


@pytest.mark.parametrize(("env", "fragment"), [
    ({"DESKMATE_PORT": "eighty"}, "port"),
    ({"DESKMATE_PORT": "70000"}, "port"),
    ({"DESKMATE_BEHIND_PROXY": "maybe"}, "behind_proxy"),
    ({"DESKMATE_SQLITE_SYNCHRONOUS": "OFF"}, "sqlite_synchronous"),
    ({"DESKMATE_TLS_CERT": "/x.pem"}, "tls_key"),
    ({"DESKMATE_MAX_BODY_BYTES": "0"}, "max_body_bytes"),
])
def test_bad_values_name_the_setting(env: dict[str, str], fragment: str) -> None:
    """A bad value is refused with a message naming the setting."""
    with pytest.raises(SettingsError, match=fragment):
        load(environ=env)


def test_unknown_key_in_toml_is_an_error(tmp_path: Path) -> None:
    """A misspelt setting in the config file is reported, not ignored."""
    config = tmp_path / "deskmate.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load(config_file=config, environ={})


def test_secret_settings_are_marked() -> None:
    """Settings that may hold secrets are flagged so they are never printed."""
    secret = {s.name for s in SETTINGS if s.secret}
    assert {"admin_password", "database_url"} <= secret


SMTP = {"DESKMATE_SMTP_HOST": "smtp.example.org", "DESKMATE_MAIL_FROM": "desk@example.org"}


def test_mail_is_off_by_default_and_starttls_is_the_default() -> None:
    """No SMTP host means no mail; a configured one gets STARTTLS on port 587."""
    assert load(environ={}).smtp_host == ""
    settings = load(environ=SMTP)
    assert (settings.smtp_security, settings.smtp_port) == ("starttls", 587)


@pytest.mark.parametrize(("env", "fragment"), [
    ({**SMTP, "DESKMATE_SMTP_SECURITY": "ssl"}, "smtp_security"),
    ({**SMTP, "DESKMATE_SMTP_SECURITY": "none"}, "unencrypted"),
    ({**SMTP, "DESKMATE_SMTP_PORT": "0"}, "smtp_port"),
    ({"DESKMATE_SMTP_HOST": "smtp.example.org"}, "mail_from"),
    ({**SMTP, "DESKMATE_MAIL_FROM": "nobody"}, "mail_from"),
    ({**SMTP, "DESKMATE_MAIL_MAX_ATTEMPTS": "0"}, "mail_max_attempts"),
    ({**SMTP, "DESKMATE_SMTP_PASSWORD": "x", "DESKMATE_SMTP_PASSWORD_FILE": "/x"},
     "smtp_password"),
    ({**SMTP, "DESKMATE_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "smtp_password_file"),
    ({**SMTP, "DESKMATE_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "smtp_ca_file"),
])
def test_bad_mail_settings_are_refused(env: dict[str, str], fragment: str) -> None:
    """Unknown security, plaintext to a remote host, or a missing sender stop the server."""
    with pytest.raises(SettingsError, match=fragment):
        load(environ=env)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_plaintext_smtp_is_allowed_to_this_machine(host: str) -> None:
    """smtp_security = none works for a local relay without any extra switch."""
    settings = load(environ={**SMTP, "DESKMATE_SMTP_HOST": host,
                             "DESKMATE_SMTP_SECURITY": "NONE"})
    assert settings.smtp_security == "none"


def test_plaintext_smtp_to_another_host_needs_the_explicit_switch() -> None:
    """smtp_allow_plaintext is the one way to send unencrypted mail over the network."""
    settings = load(environ={**SMTP, "DESKMATE_SMTP_SECURITY": "none",
                             "DESKMATE_SMTP_ALLOW_PLAINTEXT": "yes"})
    assert settings.smtp_allow_plaintext is True


def test_smtp_password_comes_from_a_file_and_is_a_secret(tmp_path: Path) -> None:
    """The password file is read at load; the password setting is marked secret."""
    secret_file = tmp_path / "smtp.pw"
    secret_file.write_text("s3cret-pw\n")
    settings = load(environ={**SMTP, "DESKMATE_SMTP_PASSWORD_FILE": str(secret_file)})
    assert settings.smtp_password == "s3cret-pw"
    assert {s.name for s in SETTINGS if s.secret} >= {"smtp_password"}
