"""Table definitions (SQLAlchemy Core). Migrations in server/migrations create them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from server.db.names import folded

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; use an aware UTC time")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


def unique_under(table: str, parent: str) -> tuple[sa.Index, sa.Index]:
    """Return indexes making ``name_key`` unique among rows with the same ``parent``.

    NULL parents (top level) are distinct to a plain unique index on both databases, so
    the top level gets its own partial one.
    """
    top = sa.text(f"{parent} IS NULL")
    return (sa.Index(f"uq_{table}_{parent}_name_key", parent, "name_key", unique=True),
            sa.Index(f"uq_{table}_top_name_key", "name_key", unique=True,
                     sqlite_where=top, postgresql_where=top))


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # The IANA zone the console shows times in (None: the browser's); migration 0022_self_service.
    sa.Column("time_zone", sa.String(64), nullable=True),
    # the language of the user's texts (server/locales); NULL: the browser's
    sa.Column("language", sa.String(16), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'technician', 'requester')", name="role"),
)

groups = sa.Table(
    "groups", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    sa.Column("description", sa.String(1000), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Tickets given to the group without an assignee go to a member: "none",
    # "round_robin" or "least_loaded" (fewest open tickets).
    sa.Column("auto_assign", sa.String(16), nullable=False, server_default="none"),
    sa.Column("last_assigned_id", sa.Integer, nullable=True),
    # Approves service requests whose catalog item asks for "the group's manager".
    sa.Column("manager_id", sa.Integer, nullable=True),
    sa.Index("uq_groups_name_key", "name_key", unique=True),
)

group_members = sa.Table(
    "group_members", metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)

auth_sessions = sa.Table(
    "auth_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
)

audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target_id", sa.Integer, nullable=True),
    sa.Column("detail", sa.JSON, nullable=False, default=dict),
)

enrollment_tokens = sa.Table(
    "enrollment_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("note", sa.String(200), nullable=False, default=""),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("max_uses", sa.Integer, nullable=True),
    sa.Column("uses", sa.Integer, nullable=False, default=0),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(36), nullable=False, unique=True),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("os_name", sa.String(200), nullable=False, default=""),
    sa.Column("os_version", sa.String(200), nullable=False, default=""),
    sa.Column("serial", sa.String(200), nullable=False, default=""),
    sa.Column("logged_in_users", sa.String(1000), nullable=False, default=""),
    sa.Column("agent_version", sa.String(64), nullable=False, default=""),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("enrollment_token_id", sa.Integer,
              sa.ForeignKey("enrollment_tokens.id", ondelete="SET NULL"), nullable=True),
    sa.Column("enrolled_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=True),
    sa.Column("last_address", sa.String(64), nullable=False, default=""),
    sa.Column("metrics", sa.JSON, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

# Who a login on a device is: made by staff or by an admin's rule, never by the device
# alone (docs/identity.md).
device_bindings = sa.Table(
    "device_bindings", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # staff (confirmed on the device page) or rule (a group's binding rule; 0026_bind)
    sa.Column("source", sa.String(8), nullable=False, default="staff",
              server_default="staff"),
)

device_inventory = sa.Table(
    "device_inventory", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("section", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

inventory_changes = sa.Table(
    "inventory_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("section", sa.String(64), nullable=False),
    sa.Column("change", sa.JSON, nullable=False),
    sa.Index("ix_inventory_changes_device_id_id", "device_id", "id"),
)

device_software = sa.Table(
    "device_software", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.String(255), primary_key=True),
    sa.Index("ix_device_software_name", "name"),
)

device_metrics = sa.Table(
    "device_metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("cpu_percent", sa.Float, nullable=False),
    sa.Column("memory_percent", sa.Float, nullable=False),
    sa.Column("disk_percent", sa.Float, nullable=False),
    sa.Index("ix_device_metrics_device_id_at", "device_id", "at"),
)

agent_reports = sa.Table(
    "agent_reports", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
)

categories = sa.Table(
    "categories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="CASCADE"),
              nullable=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    # Retired categories keep their tickets but are not offered for new ones.
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.UniqueConstraint("parent_id", "name", name="uq_categories_parent_id_name"),
    *unique_under("categories", "parent_id"),
)

ticket_counters = sa.Table(
    "ticket_counters", metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

OPEN_STATUSES_SQL = "status IN ('assigned', 'in_progress', 'new', 'pending')"

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(16), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("impact", sa.Integer, nullable=False),
    sa.Column("urgency", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("requester_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("assignee_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("problem_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("merged_into_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("catalog_item_id", sa.Integer, nullable=True),
    sa.Column("form", sa.JSON, nullable=True),
    # not_required, requested, approved or rejected
    sa.Column("approval", sa.String(16), nullable=False, server_default="not_required"),
    sa.Column("approver_id", sa.Integer, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("resolution_code", sa.String(64), nullable=True),
    sa.Column("resolution_note", sa.Text, nullable=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    # Earliest due time of the ticket's open SLA clocks (server.sla keeps it), for sorting.
    sa.Column("sla_due_at", UTCDateTime, nullable=True),
    # A ticket raised on a device: the device and the OS login it reported, as reported
    # (the requester is whoever that login is bound to; see server/devices/bindings.py).
    sa.Column("reported_device_id", sa.Integer, nullable=True),
    sa.Column("reported_login", sa.String(64), nullable=True),
    # A problem record's analysis (server/problems): what causes it, how to live with it,
    # whether it is a known error, and the KB article its workaround was published as.
    sa.Column("root_cause", sa.Text, nullable=True),
    sa.Column("workaround", sa.Text, nullable=True),
    sa.Column("known_error", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("workaround_article_id", sa.Integer, nullable=True),
    # A low satisfaction score waiting for the group manager (server/satisfaction).
    sa.Column("satisfaction_flagged_at", UTCDateTime, nullable=True),
    sa.Index("ix_tickets_status_priority_id", "status", "priority", "id"),
    sa.Index("ix_tickets_sla_due_at_id", "sla_due_at", "id"),
    sa.Index("ix_tickets_requester_id_id", "requester_id", "id"),
    sa.Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
    sa.Index("ix_tickets_group_id_status", "group_id", "status"),
    sa.Index("ix_tickets_updated_at_id", "updated_at", "id"),
    # The queue's "open tickets by priority", in index order: the IN list must be written
    # exactly so (sorted) in queries for SQLite to use it.
    sa.Index("ix_tickets_open_priority_id", "priority", "id",
             sqlite_where=sa.text(OPEN_STATUSES_SQL), postgresql_where=sa.text(OPEN_STATUSES_SQL)),
)

ticket_events = sa.Table(
    "ticket_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),
    # Ratings (type "rating") and other kinds of event by ticket (migration 0024).
    sa.Index("ix_ticket_events_type_ticket_id", "type", "ticket_id"),
)

ticket_devices = sa.Table(
    "ticket_devices", metadata,
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)

ticket_tags = sa.Table(
    "ticket_tags", metadata,
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("tag", sa.String(50), primary_key=True, index=True),
)

attachments = sa.Table(
    "attachments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("ticket_events.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("uploader_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

agent_tickets = sa.Table(
    "agent_tickets", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              nullable=False),
)

ticket_links = sa.Table(
    "ticket_links", metadata,
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("related_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
              primary_key=True),
)

canned_responses = sa.Table(
    "canned_responses", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=True),  # None: shared with the whole desk
    sa.Column("created_at", UTCDateTime, nullable=False),
)

catalog_items = sa.Table(
    "catalog_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("name_key", sa.Text, nullable=False, default=folded("name")),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    # none, approver (approver_id) or group_manager (the fulfilling group's manager)
    sa.Column("approval", sa.String(16), nullable=False),
    sa.Column("approver_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The portal lists request types by position (then name); "everyone" or "staff".
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("visibility", sa.String(16), nullable=False, default="everyone"),
    # No foreign key: categories are retired, never deleted (see server/category_tree.py).
    sa.Column("category_id", sa.Integer, nullable=True),
    sa.Index("uq_catalog_items_name_key", "name_key", unique=True),
)
