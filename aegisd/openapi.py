"""``/v1/openapi.json``, generated from the route table and its pydantic models."""

from __future__ import annotations

import types
import typing
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from aegisd.envelope import Envelope, ErrorEnvelope, Page, PageEnvelope, PlainError
from aegisd.routing import Endpoint

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed request or invalid values",
    "401": "Missing, unknown or revoked key",
    "403": "Key scope or project does not allow this",
    "404": "Unknown id or route",
    "413": "Body larger than 1 MiB",
    "429": "Rate limit exceeded",
}


def _is_stream(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, web.StreamResponse)


def _response_type(endpoint: Endpoint) -> Any:
    returns = endpoint.returns
    if isinstance(returns, types.UnionType):  # `Model | web.Response`: the JSON answer
        [returns] = [arg for arg in typing.get_args(returns) if not _is_stream(arg)]
    if typing.get_origin(returns) is Page:
        return PageEnvelope[typing.get_args(returns)[0]]  # type: ignore[misc]
    if _is_stream(returns):
        return None
    return Envelope[returns] if endpoint.envelope else returns  # type: ignore[valid-type]


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        schemas, found = models_json_schema([(tp, "serialization")], ref_template=_REF)
        defs.update(found.get("$defs", {}))
        return schemas[(tp, "serialization")]
    schema = TypeAdapter(tp).json_schema(ref_template=_REF, mode="serialization")
    defs.update(schema.pop("$defs", {}))
    return schema


def _parameters(endpoint: Endpoint, defs: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in endpoint.path_params
    ]
    if endpoint.query is not None:
        query_schema = _schema(endpoint.query, defs)
        ref = query_schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = defs.get(ref, query_schema).get("properties", {})
        for name, prop in properties.items():
            parameters.append({"name": name, "in": "query", "required": False, "schema": prop})
    return parameters


def _operation(endpoint: Endpoint, defs: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.func.__name__,
        "summary": endpoint.summary,
        "parameters": _parameters(endpoint, defs),
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": not endpoint.body_optional,
            "content": {"application/json": {"schema": _schema(endpoint.body, defs)}},
        }
    response_type = _response_type(endpoint)
    content: dict[str, Any]
    if response_type is None:
        content = {endpoint.content_type or "application/octet-stream": {"schema": {}}}
    else:
        content = {"application/json": {"schema": _schema(response_type, defs)}}
    responses: dict[str, Any] = {str(endpoint.status): {"description": "OK", "content": content}}
    error_model = ErrorEnvelope if endpoint.envelope else PlainError
    error_content = {"application/json": {"schema": _schema(error_model, defs)}}
    for status, description in _ERRORS.items():
        if endpoint.scope is None and status in ("401", "403", "429"):
            continue
        responses[status] = {"description": description, "content": error_content}
    operation["responses"] = responses
    if endpoint.scope is not None:
        operation["security"] = [{"bearer": []}]
        operation["x-aegis-scope"] = endpoint.scope
    return operation


def build_openapi(endpoints: list[Endpoint], prefix: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``endpoints`` mounted under ``prefix``."""
    defs: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path = prefix + endpoint.path if endpoint.prefixed else endpoint.path
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint, defs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "aegisd", "version": version},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
