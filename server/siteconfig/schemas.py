"""Request and response types for the console's mail and branding settings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.users.schemas import Email, Strict

Source = Literal["console", "config"]


class MailSettings(Struct, kw_only=True):
    """Outgoing mail as it is in effect; the password is never shown, only whether it is set."""

    enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    password_set: bool
    mail_from: str
    # Where each value comes from: the console (stored) or the static configuration.
    sources: dict[str, Source]
    allow_plaintext: bool
    updated_at: dt.datetime | None
    updated_by: int | None


class MailSettingsUpdate(Strict):
    """Console values over the static mail settings; null goes back to the static value."""

    smtp_host: Annotated[str, Meta(max_length=253)] | UnsetType | None = UNSET
    smtp_port: Annotated[int, Meta(ge=1, le=65535)] | UnsetType | None = UNSET
    smtp_security: Literal["starttls", "tls", "none"] | UnsetType | None = UNSET
    smtp_username: Annotated[str, Meta(max_length=254)] | UnsetType | None = UNSET
    # Write-only: a new password, "" for none, null for the static one.
    smtp_password: Annotated[str, Meta(max_length=1024)] | UnsetType | None = UNSET
    mail_from: Annotated[str, Meta(max_length=300)] | UnsetType | None = UNSET


class MailTest(Strict):
    """Where to send a test mail."""

    to: Email


class MailTestResult(Struct, kw_only=True):
    """Whether the SMTP server took the test mail, and if not, why (in words)."""

    sent: bool
    message: str


class Branding(Struct, kw_only=True):
    """What users see of the product: name, logo, accent colour, the portal's welcome."""

    product_name: str
    accent_color: str
    welcome_text: str
    logo_url: str | None


class BrandingUpdate(Strict):
    """Changes to the branding; null goes back to the default."""

    product_name: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    accent_color: Annotated[str, Meta(max_length=20)] | UnsetType | None = UNSET
    welcome_text: Annotated[str, Meta(max_length=2000)] | UnsetType | None = UNSET
