"""Declaring endpoints: the route table every handler, the auth check and OpenAPI share.

A handler is ``async def f(request, <path params>, query: QueryModel, body: BodyModel)
-> ReturnType`` (``body: BodyModel | None`` when the body may be left out). The
router reads the signature: path parameters, the query model and the body model
are parsed and validated before the call; the return value is
wrapped in the envelope (a :class:`Page` adds ``pagination``; a ``web.StreamResponse``
is sent as it is). The same declarations generate ``/v1/openapi.json``.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from aegisd.auth import Principal, Scope, authenticate
from aegisd.envelope import Page, json_response, pagination, to_json
from aegisd.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    InternalError,
    PayloadTooLarge,
    RateLimitExceeded,
    ValidationFailed,
)
from aegisd.links import TOKEN_PARAM
from aegisd.state import ANSWERS, DB, LINKS, PRINCIPAL, RATE_LIMITER

log = logging.getLogger(__name__)

HandlerFunc = Callable[..., Awaitable[Any]]
MAX_BODY_BYTES = 1024 * 1024
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Endpoint:
    """One route: what it takes, what it answers and who may call it."""

    method: str
    path: str
    func: HandlerFunc
    summary: str
    status: int
    scope: Scope | None
    envelope: bool
    content_type: str | None
    prefixed: bool
    shareable: bool
    cached_on: str | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    body_optional: bool
    returns: Any

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    def error_response(self, error: ApiError) -> web.Response:
        body = error.body() if self.envelope else {"error": error.message}
        return json_response(body, status=error.status, headers=error.headers)

    def response(self, result: Any) -> web.StreamResponse:
        if isinstance(result, web.StreamResponse):
            return result
        if isinstance(result, Page):
            body: Any = {
                "success": True,
                "data": to_json(result.items),
                "pagination": pagination(result.total, result.query).model_dump(),
            }
        elif self.envelope:
            body = {"success": True, "data": to_json(result)}
        else:
            body = to_json(result)
        return json_response(body, status=self.status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        quota_headers: dict[str, str] = {}
        try:
            if self.scope is not None:
                quota_headers = await self._authorize(request, self.scope)
            if self.cached_on is None:
                response = await self._answer(request)
            else:
                response = await self._reused_answer(request, self.cached_on)
        except ApiError as error:
            response = self.error_response(error)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unhandled error in %s %s", self.method, self.path)
            response = self.error_response(InternalError("internal error; see the daemon log"))
        response.headers.update(quota_headers)
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        return self.response(await self.func(request, **await self._arguments(request)))

    async def _reused_answer(self, request: web.Request, table: str) -> web.StreamResponse:
        """The answer kept in :class:`~aegisd.answers.Answers` while ``table`` is unchanged."""
        # Counted before the handler reads: a write meanwhile makes the kept body stale at once.
        changes = await request.app[DB].table_changes(table)
        principal = request.get(PRINCIPAL)
        key = (request.path_qs, principal.project_id if principal else None)
        body = request.app[ANSWERS].get(key, changes)
        if body is not None:
            return web.Response(body=body, status=self.status, content_type="application/json")
        response = await self._answer(request)
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            request.app[ANSWERS].put(key, changes, response.body)
        return response

    async def _authorize(self, request: web.Request, scope: Scope) -> dict[str, str]:
        token = request.query.get(TOKEN_PARAM)
        if self.shareable and token and request.app[LINKS].verify(request.path, token):
            request[PRINCIPAL] = Principal(key_id="link", scope="read", project_id=None)
            return {}
        principal = await authenticate(request.app[DB], request.headers.get("Authorization"))
        quota = request.app[RATE_LIMITER].hit(principal.key_id)
        headers = quota.headers() if quota else {}
        if quota is not None and not quota.allowed:
            limited = RateLimitExceeded(f"rate limit of {quota.limit} requests per minute exceeded")
            limited.headers = {**headers, "Retry-After": str(quota.retry_after)}
            raise limited
        if not principal.allows(scope):
            forbidden = Forbidden(f"this key has scope {principal.scope!r}; {scope!r} is needed")
            forbidden.headers = headers
            raise forbidden
        request[PRINCIPAL] = principal
        return headers

    async def _arguments(self, request: web.Request) -> dict[str, Any]:
        arguments: dict[str, Any] = {name: request.match_info[name] for name in self.path_params}
        if self.query is not None:
            try:
                arguments["query"] = self.query.model_validate(dict(request.query))
            except ValidationError as exc:
                raise ValidationFailed.from_pydantic(exc) from None
        if self.body is not None:
            arguments["body"] = await read_body(request, self.body, required=not self.body_optional)
        return arguments


async def read_body(
    request: web.Request, model: type[BaseModel], *, required: bool = True
) -> BaseModel | None:
    """The request's JSON body validated by ``model`` (None when there is none and it
    is not ``required``); 400/413 errors otherwise."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes") from None
    if not raw and not required:
        return None
    if not raw:
        raise BadRequest("request body is required: send a JSON object")
    if request.content_type != "application/json":
        raise BadRequest(f"expected Content-Type application/json, got {request.content_type}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None


class Router:
    """Collects endpoints declared with ``@router.get(path)`` and friends."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        scope: Scope | None = None,
        public: bool = False,
        envelope: bool = True,
        content_type: str | None = None,
        prefixed: bool = True,
        shareable: bool = False,
        cached_on: str | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Declare a handler; ``scope`` defaults to read for GET and write otherwise.

        ``prefixed=False`` mounts it at the root instead of under ``/v1`` and ``/api/v1``;
        ``shareable=True`` also opens it to a signed link (:mod:`aegisd.links`) without a key;
        ``cached_on=table`` reuses answers while ``table`` is unchanged (:mod:`aegisd.answers`).
        """

        def declare(func: HandlerFunc) -> HandlerFunc:
            hints = typing.get_type_hints(func)
            parameters = inspect.signature(func).parameters
            body = hints.get("body") if "body" in parameters else None
            body_types = [part for part in typing.get_args(body) if part is not type(None)]
            body_optional = len(body_types) == 1  # ``Model | None``
            needed: Scope = scope or ("read" if method == "GET" else "write")
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    func=func,
                    summary=(inspect.getdoc(func) or func.__name__).splitlines()[0],
                    status=status,
                    scope=None if public else needed,
                    envelope=envelope,
                    content_type=content_type,
                    prefixed=prefixed,
                    shareable=shareable,
                    cached_on=cached_on,
                    query=hints["query"] if "query" in parameters else None,
                    body=body_types[0] if body_optional else body,
                    body_optional=body_optional,
                    returns=hints.get("return"),
                )
            )
            return func

        return declare

    def get(self, path: str, **options: Any) -> Callable[[HandlerFunc], HandlerFunc]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[HandlerFunc], HandlerFunc]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[HandlerFunc], HandlerFunc]:
        return self.route("PUT", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[HandlerFunc], HandlerFunc]:
        return self.route("DELETE", path, **options)
