"""Routes about the daemon itself: health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from aegisd import __version__
from aegisd.routing import Router
from aegisd.state import DB, OPENAPI

router = Router()


class Health(BaseModel):
    status: str
    version: str
    schema_version: int


@router.get("/healthz", public=True, prefixed=False)
async def healthz(request: web.Request) -> Health:
    """Liveness: answers when the daemon and its database are up."""
    version = await request.app[DB].schema_version()
    return Health(status="ok", version=__version__, schema_version=version)


@router.get("/openapi.json", public=True, envelope=False)
async def openapi(request: web.Request) -> dict[str, Any]:
    """This API's OpenAPI 3.1 document."""
    return request.app[OPENAPI]
