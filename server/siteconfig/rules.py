"""What an admin may set in the console and the checks on it (pure).

Console values override the static settings of the same name (server/settings.py) one by
one; only the names here are ever stored. The mail checks follow the static settings'
(``server/settings.py``), so the console cannot configure what the config file may not:
plaintext SMTP only to this machine unless ``smtp_allow_plaintext``; TLS always verified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAIL_NAMES = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password",
              "mail_from")
BRANDING_NAMES = ("product_name", "accent_color", "welcome_text", "logo")
SIGN_IN_NAMES = ("local_login_admins_only",)  # the Single sign-on page (server/oidc)
NAMES = frozenset(MAIL_NAMES + BRANDING_NAMES + SIGN_IN_NAMES)

DEFAULT_PRODUCT = "Deskmate"
DEFAULT_ACCENT = "#2563eb"
MIN_CONTRAST = 4.5  # WCAG 2.x SC 1.4.3, normal text
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$(?!\n)")
# RFC 1123 host names and IP literals: letters, digits, dots, hyphens, colons for IPv6.
HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
                  r"|[0-9a-fA-F:]+)$(?!\n)")
LOGO_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
LOGO_MAX_BYTES = 512 * 1024


class SettingProblem(ValueError):
    """A console setting cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MailValues:
    """The outgoing mail configuration in effect (static settings under console values)."""

    host: str
    port: int
    security: str
    username: str
    password: str
    mail_from: str

    @property
    def enabled(self) -> bool:
        """Tell whether mail is on (a host is set)."""
        return bool(self.host)


def effective_mail(static: Mapping[str, object], stored: Mapping[str, str]) -> MailValues:
    """Return the mail values in effect: each stored console value over the static one."""
    def pick(name: str) -> str:
        return stored[name] if name in stored else str(static[name] or "")

    return MailValues(host=pick("smtp_host").strip(), port=int(pick("smtp_port") or 0),
                      security=pick("smtp_security"), username=pick("smtp_username"),
                      password=pick("smtp_password"), mail_from=pick("mail_from").strip())


def _channel(hex_color: str) -> list[float]:
    out = []
    for i in (1, 3, 5):
        c = int(hex_color[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def luminance(hex_color: str) -> float:
    """Return the relative luminance of ``#rrggbb`` (WCAG 2.x definition)."""
    r, g, b = _channel(hex_color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def soft(hex_color: str, share: float = 0.08) -> str:
    """Return ``hex_color`` mixed into white at ``share`` (the console's pale accent)."""
    parts = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - p) * share):02x}" for p in parts)


def check_accent(value: str) -> str:
    """Return the accent colour lower-cased, or raise when unusable.

    The console writes white text on the accent (buttons) and accent text on white and on
    the pale accent (links, tabs): each pair must reach :data:`MIN_CONTRAST`.

    Raises:
        SettingProblem: not ``#rrggbb``, or too light for readable text.
    """
    if not HEX_COLOR.match(value):
        raise SettingProblem("accent_color", f"write a colour as #rrggbb, e.g. #1d4ed8; "
                                             f"got {value[:20]!r}")
    color = value.lower()
    worst = min(contrast(color, "#ffffff"), contrast(color, soft(color)))
    if worst < MIN_CONTRAST:
        raise SettingProblem("accent_color", f"{color} is too light: text on it reaches a "
                                             f"contrast of {worst:.1f}, at least "
                                             f"{MIN_CONTRAST} is needed; pick a darker colour")
    return color


def check_product_name(value: str) -> str:
    """Return the product name trimmed, or raise when blank or too long."""
    name = " ".join(value.split())
    if not name:
        raise SettingProblem("product_name", "the product name must not be blank")
    if len(name) > 60:
        raise SettingProblem("product_name", "the product name may have at most 60 characters")
    return name


def check_mail(values: MailValues, *, allow_plaintext: bool) -> None:
    """Refuse a mail configuration that cannot work or would travel in clear.

    Raises:
        SettingProblem: naming the field.
    """
    if not values.host:
        return
    if not HOST.match(values.host):
        raise SettingProblem("smtp_host", f"{values.host[:80]!r} is not a host name or address")
    if not 1 <= values.port <= 65535:
        raise SettingProblem("smtp_port", f"the port must be 1 to 65535, got {values.port}")
    if values.security not in ("starttls", "tls", "none"):
        raise SettingProblem("smtp_security", "choose starttls, tls or none")
    if not values.mail_from or not valid_from(values.mail_from):
        raise SettingProblem("mail_from", "give the sender address, e.g. "
                                          "Service desk <desk@example.org>")
    local = values.host.strip("[]").lower() in ("localhost", "127.0.0.1", "::1")
    if values.security == "none" and not local and not allow_plaintext:
        raise SettingProblem("smtp_security", f"none would send mail and the password "
                                              f"unencrypted to {values.host!r}; use starttls "
                                              f"or tls (plain text is allowed only to this "
                                              f"machine unless smtp_allow_plaintext is set)")


def valid_from(text: str) -> bool:
    """Tell whether ``text`` is an address or ``Name <address>`` without header tricks."""
    if any(c in text for c in "\r\n\0") or len(text) > 300:
        return False
    match = re.fullmatch(r"(?:[^<>@]*<([^<>\s]+)>|([^<>\s]+))", text.strip())
    if not match:
        return False
    addr = match.group(1) or match.group(2) or ""
    local, at, domain = addr.rpartition("@")
    return bool(at and local and domain and "." in domain)


def sniff_logo(data: bytes) -> str | None:
    """Return the logo's type from its content (png, jpeg or svg), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = data[:4096].decode("utf-8").lstrip("\ufeff \t\r\n")
    except UnicodeDecodeError:
        return None
    # An SVG document: optional XML declaration, comments or doctype, then <svg.
    text = re.sub(r"^(<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s)+", "", text, flags=re.S)
    return "image/svg+xml" if re.match(r"<svg[\s>]", text) else None
