"""A device group's toolbox policy beyond the terminal: tools allowed, consent, root.

The terminal's options (``terminal_root``, ``record_terminal``) stay in
``toolbox_policies`` (server/toolbox/store.py); this module adds, per group, which tools
are turned off, how the user is asked (``consent``) and whether the process and
services tools may act as root. Consent ``inherit`` (the default) follows the group's
remote-access policy: ask the user, or unattended where the group allows it. The rules
that combine them (:func:`decide`) are pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.db.schema import UTCDateTime, metadata
from server.errors import Forbidden
from server.i18n.messages import N_
from server.toolbox.schemas import ToolboxPolicy
from shared import toolbox as tb

Consent = Literal["inherit", "ask", "notify", "unattended"]
CONSENTS: tuple[str, ...] = ("inherit", "ask", "notify", "unattended")
ROOT_KINDS = {"terminal": "terminal_root"}  # other kinds use system_root
# An agent that understands tool_request.notify lists this capability; an older one is
# asked to ask its user instead (never less consent than the policy wants).
NOTIFY_CAPABILITY = "tool_notify"

# Migration 0030_procs creates it.
toolbox_tool_policies = sa.Table(
    "toolbox_tool_policies", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("disabled_tools", sa.JSON, nullable=False, default=list),
    sa.Column("consent", sa.String(16), nullable=False, default="inherit"),
    sa.Column("system_root", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class ToolPolicy:
    """What a group allows of the toolbox."""

    terminal_root: bool = False
    record_terminal: bool = False
    disabled_tools: tuple[str, ...] = ()
    consent: str = "inherit"
    system_root: bool = False

    def allowed_tools(self) -> list[str]:
        """Return the tool kinds allowed, in the protocol's order."""
        return [k for k in tb.KINDS if k not in self.disabled_tools]


@dataclass(frozen=True)
class Decision:
    """How a tool is asked of the agent."""

    consent: bool  # the user is asked
    notify: bool  # the user is told, not asked
    record: bool  # a transcript is kept (terminals)


def decide(policy: ToolPolicy, *, kind: str, as_root: bool, unattended_group: bool,
           agent_notifies: bool) -> Decision:
    """Return how a tool opens under ``policy``.

    Raises:
        Forbidden: ``tool_disabled`` (the group turned the tool off) or
            ``root_not_allowed`` (root asked, the policy does not allow it).
    """
    if kind in policy.disabled_tools:
        raise Forbidden(N_("the policy of the device's group does not allow the {kind} tool"),
                        code="tool_disabled", kind=kind)
    # Files as root reach the whole file system: the terminal's root rule, not the
    # process and service tools'.
    root_ok = policy.terminal_root if kind in ("terminal", "files") else policy.system_root
    if as_root and not root_ok:
        raise Forbidden(N_("the policy of the device's group does not allow the {kind} tool "
                           "as root"), code="root_not_allowed", kind=kind, field="as_root")
    mode = policy.consent
    if mode == "inherit":
        mode = "unattended" if unattended_group else "ask"
    if mode == "notify" and not agent_notifies:
        mode = "ask"
    return Decision(consent=mode == "ask", notify=mode == "notify",
                    record=kind == "terminal" and policy.record_terminal)


def to_api(group_id: int, policy: ToolPolicy) -> ToolboxPolicy:
    """Return the API's view of a group's policy."""

    return ToolboxPolicy(group_id=group_id, terminal_root=policy.terminal_root,
                         record_terminal=policy.record_terminal,
                         allowed_tools=policy.allowed_tools(),
                         consent=policy.consent,  # type: ignore[arg-type]
                         system_root=policy.system_root)


def device_policy(conn: Connection, group_id: int | None) -> ToolPolicy:
    """Return the policy of a device's group (the defaults when it has none or it is gone)."""
    from server.errors import NotFound

    try:
        return read(conn, group_id)
    except NotFound:
        return ToolPolicy()


def read(conn: Connection, group_id: int | None) -> ToolPolicy:
    """Return a group's whole toolbox policy (defaults for no group).

    Raises:
        NotFound: no such group.
    """
    from server.toolbox import store

    if group_id is None:
        return ToolPolicy()
    root, record = store.policy_values(conn, group_id)
    row = conn.execute(sa.select(toolbox_tool_policies)
                       .where(toolbox_tool_policies.c.group_id == group_id)).first()
    if row is None:
        return ToolPolicy(terminal_root=root, record_terminal=record)
    disabled = tuple(k for k in (row.disabled_tools or []) if isinstance(k, str))
    return ToolPolicy(terminal_root=root, record_terminal=record, disabled_tools=disabled,
                      consent=row.consent if row.consent in CONSENTS else "inherit",
                      system_root=bool(row.system_root))


def write(conn: Connection, group_id: int, *, allowed_tools: list[str] | None,
          consent: str | None, system_root: bool | None, now: dt.datetime) -> None:
    """Store the options this module keeps; None keeps what is stored."""
    current = read(conn, group_id)
    values: dict[str, Any] = {
        "disabled_tools": (list(current.disabled_tools) if allowed_tools is None
                           else [k for k in tb.KINDS if k not in allowed_tools]),
        "consent": current.consent if consent is None else consent,
        "system_root": current.system_root if system_root is None else system_root,
        "updated_at": now}
    conn.execute(toolbox_tool_policies.delete()
                 .where(toolbox_tool_policies.c.group_id == group_id))
    conn.execute(toolbox_tool_policies.insert().values(group_id=group_id, **values))
