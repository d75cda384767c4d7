"""The OpenAPI document is valid and describes every route the server declares."""

from __future__ import annotations

from openapi_spec_validator import validate

from server.keys import ENDPOINTS
from tests.support.server import RunningServer


async def test_openapi_document_is_valid_and_complete(server: RunningServer) -> None:
    """openapi-spec-validator accepts the document, and it lists every declared route."""
    resp = await server.client().get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = resp.json
    validate(doc)
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    declared = {(e.method, e.openapi_path) for e in server.app[ENDPOINTS]}
    assert documented == declared


async def test_request_schema_is_the_validating_schema(server: RunningServer) -> None:
    """The user-creation schema forbids unknown fields, as the server does."""
    doc = (await server.client().get("/api/v1/openapi.json")).json
    body = doc["paths"]["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][name]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"username", "display_name", "role"}
    assert set(schema["properties"]["role"]["enum"]) == {"admin", "technician", "requester"}


async def test_protected_routes_declare_security_and_roles(server: RunningServer) -> None:
    """Every protected operation names its security schemes and allowed roles."""
    doc = (await server.client().get("/api/v1/openapi.json")).json
    admin_only = doc["paths"]["/api/v1/users"]["post"]
    assert admin_only["x-roles"] == ["admin"]
    assert {"bearer": []} in admin_only["security"]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
