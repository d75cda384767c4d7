"""API shapes of logins seen, binding rules, binding history and a person's devices."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from msgspec import Struct

from server.devices.schemas import BoundUser, DeviceBinding
from server.users.schemas import Strict


class LoginSeen(Struct, kw_only=True):
    """An OS login a device reported (inventory or ticket), as reported, and who it is."""

    login: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    binding: DeviceBinding | None  # None: tickets for it go to the device's unknown user
    suggested: BoundUser | None  # an active requester whose user name is this login


class LoginSeenList(Struct, kw_only=True):
    """The logins seen on a device, most recently seen first."""

    items: list[LoginSeen]


class BindingEvent(Struct, kw_only=True):
    """One audit entry of a device's bindings."""

    id: int
    at: dt.datetime
    action: Literal["device.bind", "device.unbind"]
    login: str
    source: Literal["staff", "rule"]
    actor_name: str | None  # None: made by a rule
    user: BoundUser | None  # who the login was bound to (or unbound from), while they exist
    detail: dict[str, Any]


class BindingHistory(Struct, kw_only=True):
    """A device's binding audit entries, newest first (at most 50)."""

    items: list[BindingEvent]


class BindingRule(Struct, kw_only=True):
    """Whether a device group binds the first login seen on its devices."""

    group_id: int
    bind_first_login: bool
    bound: int = 0  # devices the rule bound when it was turned on (PUT only)


class BindingRuleSet(Strict):
    """Turn a device group's binding rule on or off."""

    bind_first_login: bool


class PersonDevice(Struct, kw_only=True):
    """A device a person is bound to: what the portal's "My devices" shows."""

    id: int
    hostname: str
    os_name: str
    os_version: str
    last_seen_at: dt.datetime | None
    online: bool
    logins: list[str]  # the person's logins bound on it


class PersonDeviceList(Struct, kw_only=True):
    """A person's devices, by name."""

    items: list[PersonDevice]
