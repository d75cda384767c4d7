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
