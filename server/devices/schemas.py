"""Request and response types for devices and enrollment tokens (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from server.users.schemas import Cursor, Limit, Strict
from shared.protocol import LOGIN_PATTERN


class EnrollmentToken(Struct, kw_only=True):
    """An enrollment token as listed (the secret is shown only on creation)."""

    id: int
    prefix: str
    note: str
    group_id: int | None
    max_uses: int | None
    uses: int
    expires_at: dt.datetime
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    state: str


class EnrollmentTokenCreate(Strict):
    """A new enrollment token."""

    expires_in_hours: Annotated[int, Meta(ge=1, le=24 * 365)] = 24 * 7
    max_uses: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    group_id: int | None = None
    note: Annotated[str, Meta(max_length=200)] = ""


class EnrollmentTokenCreated(Struct, kw_only=True):
    """The new token, its secret, and the command that enrolls a machine with it."""

    token: str
    install_command: str
    info: EnrollmentToken


class EnrollmentTokenList(Struct, kw_only=True):
    """All enrollment tokens, newest first."""

    items: list[EnrollmentToken]


class EnrollRequest(Strict):
    """What a machine sends to enroll."""

    token: Annotated[str, Meta(min_length=1, max_length=200)]
    public_key: Annotated[str, Meta(min_length=40, max_length=60,
                                    description="raw Ed25519 public key, base64url")]
    hostname: Annotated[str, Meta(min_length=1, max_length=255)]
    os_name: Annotated[str, Meta(max_length=200)] = ""
    os_version: Annotated[str, Meta(max_length=200)] = ""
    agent_version: Annotated[str, Meta(max_length=64)] = ""


class EnrollResponse(Struct, kw_only=True):
    """The enrolled device's id and where it connects."""

    device_id: str
    websocket_path: str
    protocol: int


class LiveMetrics(Struct, kw_only=True):
    """The newest health sample of a device."""

    cpu_percent: float
    memory_percent: float
    disk_percent: float
    at: dt.datetime


class Device(Struct, kw_only=True):
    """A device as listed."""

    id: int
    uid: str
    hostname: str
    os_name: str
    os_version: str
    serial: str
    logged_in_users: list[str]
    agent_version: str
    group_id: int | None
    online: bool
    last_seen_at: dt.datetime | None
    enrolled_at: dt.datetime
    revoked_at: dt.datetime | None
    metrics: LiveMetrics | None
    # Connected now and its agent offers remote sessions (an X11 desktop, not --no-remote).
    remote_available: bool = False
    # How its agent serves remote sessions (x11, gnome-wayland), or why it cannot (a code
    # such as login_screen or wayland_not_gnome); both None when offline or not said.
    remote_backend: str | None = None
    remote_unavailable: str | None = None
    # Connected now, and the tool kinds its agent serves (docs/toolbox.md): "terminal".
    tools_available: list[str] = []


class DevicePage(Struct, kw_only=True):
    """One page of devices."""

    items: list[Device]
    next_cursor: str | None


class DeviceQuery(Strict):
    """Filters for the device list."""

    q: Annotated[str, Meta(max_length=200,
                           description="host name, serial or logged-in user")] | None = None
    os: Annotated[str, Meta(max_length=200)] | None = None
    software: Annotated[str, Meta(max_length=255)] | None = None
    software_version: Annotated[str, Meta(max_length=255)] | None = None
    serial: Annotated[str, Meta(max_length=200)] | None = None
    user: Annotated[str, Meta(max_length=200)] | None = None
    online: bool | None = None
    group_id: int | None = None
    revoked: bool | None = False
    health: Annotated[Literal["failing", "warning", "critical"], Meta(
        description="only devices with a check in this state (failing: warning or "
                    "critical)")] | None = None
    limit: Limit | None = None
    cursor: Cursor | None = None


class DeviceDetailQuery(Strict):
    """What to include with a device."""

    inventory: bool = True


class DeviceDetail(Struct, kw_only=True):
    """A device with its whole inventory."""

    device: Device
    inventory: dict[str, Any]
    inventory_updated_at: dict[str, dt.datetime]


class InventoryChange(Struct, kw_only=True):
    """One change of one inventory section."""

    id: int
    at: dt.datetime
    section: str
    change: dict[str, Any]


class ChangePage(Struct, kw_only=True):
    """A device's inventory history, newest first."""

    items: list[InventoryChange]
    next_cursor: str | None


class MetricsPoint(Struct, kw_only=True):
    """One stored sample."""

    at: dt.datetime
    cpu_percent: float
    memory_percent: float
    disk_percent: float


class MetricsSeries(Struct, kw_only=True):
    """Samples of a device, oldest first."""

    items: list[MetricsPoint]


class MetricsQuery(Strict):
    """The time span of a metrics series."""

    hours: Annotated[int, Meta(ge=1, le=24 * 31)] = 24


class DeviceUpdate(Strict):
    """Changes an admin makes to a device."""

    group_id: int | UnsetType | None = UNSET


Login = Annotated[str, Meta(min_length=1, max_length=64, pattern=LOGIN_PATTERN,
                            description="an OS login as the device reports it (exact)")]


class BoundUser(Struct, kw_only=True):
    """The requester a login is bound to."""

    id: int
    username: str
    display_name: str


class DeviceBinding(Struct, kw_only=True):
    """A login on a device and the requester it is: tickets the device raises for this
    login are that requester's."""

    login: Login
    user: BoundUser
    source: Annotated[Literal["staff", "rule"], Meta(
        description="staff: confirmed by staff; rule: made by the binding rule of the "
                    "device's group (the first login seen, to its directory account)")]
    created_at: dt.datetime


class DeviceBindingList(Struct, kw_only=True):
    """A device's bindings, by login."""

    items: list[DeviceBinding]


class DeviceBindingSet(Strict):
    """Bind a login on the device to a requester (an active requester-role user)."""

    user_id: Annotated[int, Meta(ge=1, le=2**53)]
