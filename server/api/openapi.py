"""The OpenAPI 3.1 document, generated from the declared endpoints and their msgspec types."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from server import __version__
from server.api.routing import PUBLIC, ApiRequest, Endpoint, Router, json_response
from server.keys import ENDPOINTS

router = Router("system")

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "stable, English, for programs"},
            "message": {"type": "string", "description": (
                "for people, in the caller's language: the user's own choice, else "
                "Accept-Language, else the server's default_language")},
            "field": {"type": "string", "description": (
                "the request field at fault, when one is (e.g. display_name, "
                "fields[0].label, q, query.limit)")},
        },
    }},
}


def _error_responses(endpoint: Endpoint) -> dict[str, Any]:
    ref = {"$ref": "#/components/responses/Error"}
    out: dict[str, Any] = {}
    if endpoint.body is not None or endpoint.query is not None:
        out["400"] = ref
        out["422"] = ref
    if endpoint.body is not None:
        out["413"] = ref
        out["415"] = ref
    if endpoint.roles:
        out["401"] = ref
        out["403"] = ref
    if endpoint.int_params:
        out["404"] = ref
    if endpoint.limited:
        out["429"] = {"$ref": "#/components/responses/RateLimited"}
    # Any other refusal (409 conflict, 429 rate limited, a rule of the endpoint's own)
    # has the same shape.
    out["4XX"] = ref
    return out


def _query_parameters(kind: type, components: dict[str, Any]) -> list[dict[str, Any]]:
    (schema,), _ = msgspec.json.schema_components(
        [kind], ref_template="#/components/schemas/{name}")
    name = schema["$ref"].rsplit("/", 1)[1]
    struct_schema = components[name]
    required = set(struct_schema.get("required", []))
    return [
        {"name": prop, "in": "query", "required": prop in required, "schema": sub}
        for prop, sub in struct_schema.get("properties", {}).items()
    ]


def build(endpoints: list[Endpoint]) -> dict[str, Any]:
    """Return the OpenAPI document for ``endpoints``."""
    types: list[Any] = []
    for e in endpoints:
        types.extend(t for t in (e.body, e.query, e.response) if t is not None)
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}")
    schema_of = dict(zip(map(id, types), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.handler.__name__,
            "tags": [e.tag],
            "parameters": [
                {"name": p, "in": "path", "required": True,
                 "schema": {"type": "integer"} if p in e.int_params else {"type": "string"}}
                for p in e.path_params
            ],
            "responses": _error_responses(e),
        }
        if e.query is not None:
            op["parameters"].extend(_query_parameters(e.query, components))
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": schema_of[id(e.body)]}}}
        elif e.upload:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "internal": {"type": "string", "enum": ["true", "false"]}}}}}}
            op["responses"]["413"] = op["responses"]["415"] = {
                "$ref": "#/components/responses/Error"}
        elif e.raw_body:
            op["requestBody"] = {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}
            op["responses"]["413"] = {"$ref": "#/components/responses/Error"}
        if e.response is not None:
            op["responses"][str(e.status)] = {
                "description": e.summary,
                "content": {e.produces: {"schema": schema_of[id(e.response)]}},
            }
        elif e.status == 204:
            op["responses"]["204"] = {"description": "done; no content"}
        else:
            kind = "object" if e.produces == "application/json" else "string"
            op["responses"][str(e.status)] = {
                "description": e.summary,
                "content": {media: {"schema": {"type": kind}}
                            for media in e.produces.split(", ")},
            }
        if e.roles:
            op["security"] = [{"session": []}, {"bearer": []}]
            op["x-roles"] = sorted(e.roles)
        else:
            op["security"] = []
        paths.setdefault(e.openapi_path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Deskmate API",
            "version": __version__,
            "description": (
                "Errors are always {\"error\": {\"code\", \"message\"}} (and \"field\" when "
                "one field is at fault); the message follows the user's language or "
                "Accept-Language. Console sessions "
                "send the X-CSRF-Token header on unsafe methods; API tokens do not need it."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"Error": {
                "description": "error",
                "content": {"application/json": {"schema": _ERROR_SCHEMA}},
            }, "RateLimited": {
                "description": "rate_limited: too many attempts, or the server is busy "
                               "checking passwords; retry after the given seconds",
                "headers": {"Retry-After": {"description": "seconds to wait",
                                            "schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/json": {"schema": _ERROR_SCHEMA}},
            }},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "deskmate_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@router.route("GET", "/api/v1/openapi.json", roles=PUBLIC,
              summary="Get the OpenAPI document")
async def openapi(req: ApiRequest) -> web.Response:
    return json_response(build(req.app[ENDPOINTS]))
