"""Every route against every role: allowed roles get past authorization, others do not."""

from __future__ import annotations

import re

import pytest

from server.keys import ENDPOINTS
from tests.support.server import Client, Response, RunningServer

ANON, REQ, TECH, ADMIN = "anonymous", "requester", "technician", "admin"
EVERYONE = {ANON, REQ, TECH, ADMIN}
USERS = {REQ, TECH, ADMIN}
STAFF = {TECH, ADMIN}

# Written by hand, not derived from the route declarations: this is the policy.
POLICY: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/metrics"): {ADMIN},
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("GET", "/api/v1/languages"): EVERYONE,
    ("POST", "/api/v1/auth/login"): EVERYONE,
    ("POST", "/api/v1/auth/login/second-factor"): EVERYONE,
    ("POST", "/api/v1/auth/password-reset"): EVERYONE,
    ("POST", "/api/v1/auth/password-reset/confirm"): EVERYONE,
    ("GET", "/api/v1/auth/totp"): USERS,
    ("POST", "/api/v1/auth/totp/enrolment"): USERS,
    ("POST", "/api/v1/auth/totp/confirm"): USERS,
    ("POST", "/api/v1/auth/totp/disable"): USERS,
    ("POST", "/api/v1/auth/totp/recovery-codes"): USERS,
    ("DELETE", "/api/v1/users/{user_id}/totp"): {ADMIN},
    ("GET", "/api/v1/directories"): {ADMIN},
    ("POST", "/api/v1/directories"): {ADMIN},
    ("GET", "/api/v1/directories/{directory_id}"): {ADMIN},
    ("PUT", "/api/v1/directories/{directory_id}"): {ADMIN},
    ("DELETE", "/api/v1/directories/{directory_id}"): {ADMIN},
    ("POST", "/api/v1/directories/{directory_id}/test"): {ADMIN},
    ("POST", "/api/v1/directories/{directory_id}/preview"): {ADMIN},
    ("POST", "/api/v1/directories/{directory_id}/sync"): {ADMIN},
    ("GET", "/api/v1/auth/oidc/providers"): EVERYONE,
    ("GET", "/api/v1/auth/oidc/{provider_id}/start"): EVERYONE,
    ("GET", "/api/v1/auth/oidc/callback"): EVERYONE,
    ("GET", "/api/v1/identity-providers"): {ADMIN},
    ("POST", "/api/v1/identity-providers"): {ADMIN},
    ("GET", "/api/v1/identity-providers/settings"): {ADMIN},
    ("PUT", "/api/v1/identity-providers/settings"): {ADMIN},
    ("GET", "/api/v1/identity-providers/{provider_id}"): {ADMIN},
    ("PUT", "/api/v1/identity-providers/{provider_id}"): {ADMIN},
    ("DELETE", "/api/v1/identity-providers/{provider_id}"): {ADMIN},
    ("POST", "/api/v1/identity-providers/{provider_id}/test"): {ADMIN},
    ("GET", "/api/v1/auth/session"): USERS,
    ("POST", "/api/v1/auth/password"): USERS,
    ("GET", "/api/v1/auth/tokens"): USERS,
    ("POST", "/api/v1/auth/tokens"): USERS,
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): USERS,
    ("GET", "/api/v1/users"): STAFF,
    ("POST", "/api/v1/users"): {ADMIN},
    ("GET", "/api/v1/users/{user_id}"): USERS,
    ("PATCH", "/api/v1/users/{user_id}"): USERS,
    ("GET", "/api/v1/groups"): STAFF,
    ("POST", "/api/v1/groups"): {ADMIN},
    ("GET", "/api/v1/groups/{group_id}"): STAFF,
    ("PATCH", "/api/v1/groups/{group_id}"): {ADMIN},
    ("DELETE", "/api/v1/groups/{group_id}"): {ADMIN},
    ("PUT", "/api/v1/groups/{group_id}/members/{user_id}"): {ADMIN},
    ("DELETE", "/api/v1/groups/{group_id}/members/{user_id}"): {ADMIN},
    ("GET", "/api/v1/enrollment-tokens"): {ADMIN},
    ("POST", "/api/v1/enrollment-tokens"): {ADMIN},
    ("DELETE", "/api/v1/enrollment-tokens/{token_id}"): {ADMIN},
    # Agents authenticate inside these (enrollment token, signed challenge).
    ("GET", "/api/v1/agent/ca.pem"): EVERYONE,
    ("POST", "/api/v1/agent/enroll"): EVERYONE,
    ("GET", "/api/v1/agent/ws"): EVERYONE,
    ("GET", "/api/v1/devices"): STAFF,
    ("GET", "/api/v1/devices/{device_id}"): STAFF,
    ("PATCH", "/api/v1/devices/{device_id}"): {ADMIN},
    ("GET", "/api/v1/devices/{device_id}/changes"): STAFF,
    ("GET", "/api/v1/devices/{device_id}/metrics"): STAFF,
    ("POST", "/api/v1/devices/{device_id}/revoke"): {ADMIN},
    ("GET", "/api/v1/devices/{device_id}/health"): STAFF,
    ("GET", "/api/v1/devices/{device_id}/bindings"): STAFF,
    ("GET", "/api/v1/devices/{device_id}/bindings/{login}"): STAFF,
    ("PUT", "/api/v1/devices/{device_id}/bindings/{login}"): STAFF,
    ("DELETE", "/api/v1/devices/{device_id}/bindings/{login}"): STAFF,
    ("GET", "/api/v1/devices/{device_id}/logins"): STAFF,
    ("GET", "/api/v1/devices/{device_id}/binding-history"): STAFF,
    ("GET", "/api/v1/groups/{group_id}/binding-rule"): STAFF,
    ("PUT", "/api/v1/groups/{group_id}/binding-rule"): {ADMIN},
    # Self or, for staff, anyone: others get 404 (like GET /users/{user_id}).
    ("GET", "/api/v1/users/{user_id}/devices"): USERS,
    ("GET", "/api/v1/health-checks"): STAFF,
    ("POST", "/api/v1/health-checks"): {ADMIN},
    ("GET", "/api/v1/health-checks/{check_id}"): STAFF,
    ("PATCH", "/api/v1/health-checks/{check_id}"): {ADMIN},
    ("DELETE", "/api/v1/health-checks/{check_id}"): {ADMIN},
    ("POST", "/api/v1/tickets"): USERS,
    ("GET", "/api/v1/tickets"): USERS,
    ("GET", "/api/v1/tickets/{ticket_id}"): USERS,
    ("PATCH", "/api/v1/tickets/{ticket_id}"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/comments"): USERS,
    ("GET", "/api/v1/tickets/{ticket_id}/events"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/reopen"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/close"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/attachments"): USERS,
    ("GET", "/api/v1/tickets/{ticket_id}/attachments"): USERS,
    ("GET", "/api/v1/attachments/{attachment_id}"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/merge"): STAFF,
    ("POST", "/api/v1/tickets/bulk"): STAFF,
    ("GET", "/api/v1/views"): STAFF,
    ("POST", "/api/v1/views"): STAFF,
    ("GET", "/api/v1/views/{view_id}"): STAFF,
    ("PATCH", "/api/v1/views/{view_id}"): STAFF,
    ("DELETE", "/api/v1/views/{view_id}"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/split"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/links"): STAFF,
    ("DELETE", "/api/v1/tickets/{ticket_id}/links/{related_id}"): STAFF,
    ("GET", "/api/v1/canned-responses"): STAFF,
    ("POST", "/api/v1/canned-responses"): STAFF,
    ("PATCH", "/api/v1/canned-responses/{canned_id}"): STAFF,
    ("DELETE", "/api/v1/canned-responses/{canned_id}"): STAFF,
    ("GET", "/api/v1/catalog"): USERS,
    ("POST", "/api/v1/catalog"): {ADMIN},
    ("GET", "/api/v1/catalog/{item_id}"): USERS,
    ("PATCH", "/api/v1/catalog/{item_id}"): {ADMIN},
    ("DELETE", "/api/v1/catalog/{item_id}"): {ADMIN},
    ("PUT", "/api/v1/catalog/order"): {ADMIN},
    ("POST", "/api/v1/catalog/{item_id}/requests"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/approval"): USERS,
    ("GET", "/api/v1/categories"): USERS,
    ("GET", "/api/v1/stream"): USERS,  # an endless event stream: only its status is read
    ("POST", "/api/v1/categories"): {ADMIN},
    ("PATCH", "/api/v1/categories/{category_id}"): {ADMIN},
    ("GET", "/api/v1/kb/categories"): USERS,
    ("POST", "/api/v1/kb/categories"): STAFF,
    ("PATCH", "/api/v1/kb/categories/{category_id}"): {ADMIN},
    ("POST", "/api/v1/kb/articles"): STAFF,
    ("POST", "/api/v1/kb/preview"): STAFF,
    ("GET", "/api/v1/kb/articles"): USERS,
    ("GET", "/api/v1/kb/articles/{article_id}"): USERS,
    ("PATCH", "/api/v1/kb/articles/{article_id}"): STAFF,
    ("GET", "/api/v1/kb/articles/{article_id}/versions"): STAFF,
    ("GET", "/api/v1/kb/articles/{article_id}/versions/{number}"): STAFF,
    ("GET", "/api/v1/kb/articles/{article_id}/diff"): STAFF,
    ("POST", "/api/v1/kb/articles/{article_id}/versions/{number}/restore"): STAFF,
    ("GET", "/api/v1/kb/search"): USERS,
    ("GET", "/api/v1/kb/suggest"): USERS,
    ("POST", "/api/v1/kb/articles/{article_id}/deflections"): USERS,
    ("PUT", "/api/v1/kb/articles/{article_id}/feedback"): USERS,
    ("GET", "/api/v1/kb/stats"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/kb-links"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/kb-links/{article_id}"): STAFF,
    ("DELETE", "/api/v1/tickets/{ticket_id}/kb-links/{article_id}"): STAFF,
    ("POST", "/api/v1/kb/articles/from-ticket/{ticket_id}"): STAFF,
    ("POST", "/api/v1/kb/articles/{article_id}/send-to-ticket/{ticket_id}"): STAFF,
    ("POST", "/api/v1/kb/articles/{article_id}/required-reading"): STAFF,
    ("DELETE", "/api/v1/kb/articles/{article_id}/required-reading/{group_id}"): STAFF,
    ("POST", "/api/v1/kb/articles/{article_id}/acknowledge"): USERS,
    ("GET", "/api/v1/kb/required-reading"): USERS,
    ("GET", "/api/v1/sla/calendars"): STAFF,
    ("POST", "/api/v1/sla/calendars"): {ADMIN},
    ("GET", "/api/v1/sla/calendars/{calendar_id}"): STAFF,
    ("PATCH", "/api/v1/sla/calendars/{calendar_id}"): {ADMIN},
    ("DELETE", "/api/v1/sla/calendars/{calendar_id}"): {ADMIN},
    ("GET", "/api/v1/sla/policies"): STAFF,
    ("POST", "/api/v1/sla/policies"): {ADMIN},
    ("GET", "/api/v1/sla/policies/{policy_id}"): STAFF,
    ("PATCH", "/api/v1/sla/policies/{policy_id}"): {ADMIN},
    ("DELETE", "/api/v1/sla/policies/{policy_id}"): {ADMIN},
    ("POST", "/api/v1/sla/preview"): {ADMIN},
    ("GET", "/api/v1/settings/mail"): {ADMIN},
    ("PATCH", "/api/v1/settings/mail"): {ADMIN},
    ("POST", "/api/v1/settings/mail/test"): {ADMIN},
    ("GET", "/api/v1/branding"): EVERYONE,
    ("GET", "/api/v1/branding/logo"): EVERYONE,
    ("PATCH", "/api/v1/settings/branding"): {ADMIN},
    ("POST", "/api/v1/settings/branding/logo"): {ADMIN},
    ("DELETE", "/api/v1/settings/branding/logo"): {ADMIN},
    ("GET", "/api/v1/sla/reports/compliance"): STAFF,
    ("GET", "/api/v1/sla/reports/compliance.csv"): STAFF,
    ("GET", "/api/v1/sla/reports/breaches"): STAFF,
    ("GET", "/api/v1/sla/reports/breaches.csv"): STAFF,
    ("GET", "/api/v1/reports/scope"): STAFF,
    **{("GET", f"/api/v1/reports/charts/{name}{ext}"): STAFF
       for name in ("volume", "times", "sla", "quality", "remote", "satisfaction", "deflection")
       for ext in ("", ".csv")},
    ("POST", "/api/v1/reports/suggestions"): USERS,
    ("POST", "/api/v1/tickets/{ticket_id}/remote-sessions"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/remote-sessions"): STAFF,
    ("GET", "/api/v1/remote-sessions/{session_id}"): STAFF,
    ("POST", "/api/v1/remote-sessions/{session_id}/end"): STAFF,
    ("POST", "/api/v1/remote-sessions/{session_id}/mode"): STAFF,
    ("GET", "/api/v1/remote-sessions/{session_id}/ws"): STAFF,
    ("GET", "/api/v1/groups/{group_id}/remote-policy"): {ADMIN},
    ("PUT", "/api/v1/groups/{group_id}/remote-policy"): {ADMIN},
    ("GET", "/api/v1/remote-sessions/{session_id}/recording"): STAFF,
    ("DELETE", "/api/v1/remote-sessions/{session_id}/recording"): {ADMIN},
    ("POST", "/api/v1/tickets/{ticket_id}/tool-sessions"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/tool-sessions"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}"): STAFF,
    ("POST", "/api/v1/tool-sessions/{session_id}/end"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}/ws"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}/transcript"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}/files"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}/files/content"): STAFF,
    ("PUT", "/api/v1/tool-sessions/{session_id}/files/content"): STAFF,
    ("GET", "/api/v1/tool-sessions/{session_id}/files/upload"): STAFF,
    ("POST", "/api/v1/tool-sessions/{session_id}/files/folder"): STAFF,
    ("POST", "/api/v1/tool-sessions/{session_id}/files/rename"): STAFF,
    ("POST", "/api/v1/tool-sessions/{session_id}/files/delete"): STAFF,
    ("GET", "/api/v1/groups/{group_id}/toolbox-policy"): {ADMIN},
    ("PUT", "/api/v1/groups/{group_id}/toolbox-policy"): {ADMIN},
    ("GET", "/api/v1/tool-sessions/{session_id}/snapshot"): STAFF,
    ("POST", "/api/v1/tool-sessions/{session_id}/actions"): STAFF,
    ("GET", "/api/v1/scripts"): STAFF,
    ("POST", "/api/v1/scripts"): STAFF,
    ("GET", "/api/v1/scripts/{script_id}"): STAFF,
    ("PUT", "/api/v1/scripts/{script_id}"): STAFF,
    ("POST", "/api/v1/scripts/{script_id}/versions/{version}/approve"): {ADMIN},
    ("GET", "/api/v1/groups/{group_id}/script-policy"): {ADMIN},
    ("PUT", "/api/v1/groups/{group_id}/script-policy"): {ADMIN},
    ("POST", "/api/v1/tickets/{ticket_id}/script-runs"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/script-runs"): STAFF,
    ("GET", "/api/v1/script-runs/{run_id}"): STAFF,
    ("POST", "/api/v1/script-runs/{run_id}/cancel"): STAFF,
    # Self or, for admins, anyone: others get 404 (like GET /users/{user_id}).
    ("GET", "/api/v1/users/{user_id}/notifications"): USERS,
    ("PUT", "/api/v1/users/{user_id}/notifications"): USERS,
    ("GET", "/api/v1/mailboxes"): {ADMIN},
    ("POST", "/api/v1/mailboxes"): {ADMIN},
    ("GET", "/api/v1/mailboxes/{mailbox_id}"): {ADMIN},
    ("PATCH", "/api/v1/mailboxes/{mailbox_id}"): {ADMIN},
    ("DELETE", "/api/v1/mailboxes/{mailbox_id}"): {ADMIN},
    ("GET", "/api/v1/mail/inbound"): STAFF,
    ("GET", "/api/v1/mail/inbound/{inbound_id}/raw"): STAFF,
    ("POST", "/api/v1/mail/inbound/{inbound_id}/accept"): STAFF,
    ("DELETE", "/api/v1/mail/inbound/{inbound_id}"): STAFF,
    ("GET", "/api/v1/mail/inbound/{inbound_id}"): STAFF,
    ("POST", "/api/v1/mailboxes/{mailbox_id}/test"): {ADMIN},
    ("GET", "/api/v1/mail/templates"): {ADMIN},
    ("PUT", "/api/v1/mail/templates/{kind}/{language}"): {ADMIN},
    ("DELETE", "/api/v1/mail/templates/{kind}/{language}"): {ADMIN},
    ("POST", "/api/v1/mail/templates/{kind}/{language}/preview"): {ADMIN},
    ("POST", "/api/v1/mail/templates/{kind}/{language}/test"): {ADMIN},
    ("GET", "/api/v1/mail/failing-addresses"): STAFF,
    ("DELETE", "/api/v1/mail/failing-addresses/{address}"): {ADMIN},
    ("GET", "/api/v1/account"): USERS,
    ("PATCH", "/api/v1/account"): USERS,
    ("POST", "/api/v1/account/email/confirm"): USERS,
    ("DELETE", "/api/v1/account/email"): USERS,
    ("GET", "/api/v1/tickets/{ticket_id}/rating"): USERS,
    ("PUT", "/api/v1/tickets/{ticket_id}/rating"): USERS,
    ("DELETE", "/api/v1/tickets/{ticket_id}/rating/flag"): STAFF,
    ("POST", "/api/v1/survey/answer"): EVERYONE,
    ("POST", "/api/v1/survey/comment"): EVERYONE,
    ("GET", "/api/v1/satisfaction"): STAFF,
    ("GET", "/api/v1/problems/{problem_id}/incidents"): STAFF,
    ("POST", "/api/v1/problems/{problem_id}/incidents"): STAFF,
    ("POST", "/api/v1/problems/{problem_id}/workaround/publish"): STAFF,
    ("POST", "/api/v1/problems/{problem_id}/resolve"): STAFF,
    ("GET", "/api/v1/problem-suggestions"): STAFF,
    ("POST", "/api/v1/problem-suggestions/refresh"): STAFF,
    ("POST", "/api/v1/problem-suggestions/{suggestion_id}/accept"): STAFF,
    ("POST", "/api/v1/problem-suggestions/{suggestion_id}/dismiss"): STAFF,
    ("POST", "/api/v1/auth/logout"): USERS,  # last: it ends the session
}


def _concrete(path: str) -> str:
    # Ids that do not exist: an allowed caller gets 404, never a change.
    return re.sub(r"\{\w+\}", "999999", path)


async def _status_only(client: Client, path: str) -> Response:
    """Open a streaming endpoint, keep its status and headers, and hang up."""
    headers = {"Authorization": f"Bearer {client.bearer}"} if client.bearer else {}
    async with client.session.get(client.base_url + path, headers=headers) as resp:
        body = b"" if resp.status == 200 else await resp.read()
        return Response(resp.status, resp.headers, body)


def test_policy_covers_every_declared_route(server: RunningServer) -> None:
    """The policy table names exactly the routes the server declares."""
    declared = {(e.method, e.openapi_path) for e in server.app[ENDPOINTS]}
    assert declared == set(POLICY)


@pytest.mark.parametrize("role", sorted(EVERYONE))
async def test_each_role_reaches_exactly_its_routes(
        role: str, clients: dict[str, Client]) -> None:
    """A caller passes authorization on its allowed routes and gets 401/403 elsewhere."""
    client = clients[role]
    for (method, path), allowed in POLICY.items():
        # No body: an allowed caller fails validation (or succeeds harmlessly); a denied
        # one must be refused before validation.
        if path == "/api/v1/stream":
            resp = await _status_only(client, path)
        else:
            resp = await client.request(method, _concrete(path))
        where = f"{role} {method} {path} -> {resp.status} {resp.body[:120]!r}"
        if role in allowed:
            assert resp.status not in (401, 403), where
        else:
            assert resp.status == (401 if role == ANON else 403), where
            assert resp.error_code in ("unauthorized", "forbidden"), where


async def test_console_and_static_files_are_public(server: RunningServer) -> None:
    """The console page and its assets load without a session (login happens there)."""
    client = server.client()
    index = await client.get("/")
    assert index.status == 200
    assert b'src="/static/app.js"' in index.body
    script = await client.get("/static/app.js")
    assert script.status == 200


async def test_requester_sees_only_own_user_record(
        server: RunningServer, clients: dict[str, Client]) -> None:
    """A requester reads its own user record; another user's is not found."""
    requester = clients[REQ]
    own = await requester.get(f"/api/v1/users/{requester.user['id']}")
    assert own.status == 200
    assert own.json["username"] == "rick"
    other = await requester.get(f"/api/v1/users/{clients[ADMIN].user['id']}")
    assert other.status == 404
    assert other.error_code == "not_found"


async def test_tokens_of_others_cannot_be_revoked(clients: dict[str, Client]) -> None:
    """Revoking another user's API token answers not found and leaves it working."""
    created = await clients[TECH].post("/api/v1/auth/tokens", json={"name": "script"})
    assert created.status == 201
    token_id = created.json["info"]["id"]
    resp = await clients[REQ].delete(f"/api/v1/auth/tokens/{token_id}")
    assert resp.status == 404
    listed = await clients[TECH].get("/api/v1/auth/tokens")
    assert [t["id"] for t in listed.json["items"]] == [token_id]
