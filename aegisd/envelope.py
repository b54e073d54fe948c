"""The response envelope of DESIGN §3.1 and the pagination of §3.3, in one place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 10_000_000  # keeps page * limit inside SQLite's integers


class PageQuery(BaseModel):
    """``page`` and ``limit`` (alias ``pageSize``) of every list; list queries extend it."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT, description="Items per page (1-100).")
    pageSize: int | None = Field(None, ge=1, le=MAX_LIMIT, description="Alias of limit.")

    @model_validator(mode="after")
    def _one_limit(self) -> PageQuery:
        if self.limit is None:
            self.limit = self.pageSize or DEFAULT_LIMIT
        return self

    @property
    def size(self) -> int:
        return self.limit or DEFAULT_LIMIT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass
class Page(Generic[T]):
    """One page of a list, as a handler returns it: models, or JSON-ready dicts of
    exactly their shape where a list is hot enough to skip building models."""

    items: Sequence[T] | Sequence[dict[str, Any]]
    total: int
    query: PageQuery


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    pages: int


def pagination(total: int, query: PageQuery) -> Pagination:
    return Pagination(
        page=query.page, limit=query.size, total=total, pages=math.ceil(total / query.size)
    )


class Envelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: T


class PageEnvelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: list[T]
    pagination: Pagination


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(BaseModel):
    success: Literal[False] = False
    error: ErrorInfo


class PlainError(BaseModel):
    """The error body of the routes that answer without the envelope (the CI surface)."""

    error: str


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """``body`` (plain JSON data) as an ``application/json`` response."""
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def to_json(value: Any) -> Any:
    """Plain JSON data from models, lists of models and dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value
