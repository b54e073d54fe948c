"""API keys over HTTP, for admin keys (DESIGN §3.2)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.projects import load_project
from aegisd.auth import Scope, create_key
from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound
from aegisd.routing import Router
from aegisd.state import DB, PRINCIPAL

router = Router()


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("api key", min_length=1, max_length=200)
    scope: Scope = "read"
    project_id: str | None = None


class ApiKey(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    scope: Scope
    project_id: str | None
    created_at: str
    revoked_at: str | None


class CreatedApiKey(ApiKey):
    key: str = Field(description="The key itself; shown this once and never again.")


@router.get("/api-keys", scope="admin")
async def list_keys(request: web.Request, query: PageQuery) -> Page[ApiKey]:
    """List API keys (never the keys themselves), newest first."""
    rows, total = await request.app[DB].list_keys(
        query.size, query.offset, request[PRINCIPAL].project_id
    )
    return Page([ApiKey.model_validate(row) for row in rows], total, query)


@router.post("/api-keys", scope="admin", status=201)
async def create_api_key(request: web.Request, body: KeyCreate) -> CreatedApiKey:
    """Create an API key; the answer holds the key, shown once."""
    request[PRINCIPAL].check_project(body.project_id)
    if body.project_id is not None:
        await load_project(request, body.project_id)
    secret, row = await create_key(request.app[DB], body.name, body.scope, body.project_id)
    return CreatedApiKey.model_validate({**row, "key": secret})


@router.delete("/api-keys/{key_id}", scope="admin")
async def revoke_api_key(request: web.Request, key_id: str) -> ApiKey:
    """Revoke an API key; requests with it answer 401 from now on."""
    db = request.app[DB]
    row = await db.get_key(key_id)
    if row is None:
        raise NotFound(f"api key {key_id} not found")
    request[PRINCIPAL].check_project(row["project_id"])
    return ApiKey.model_validate(await db.revoke_key(key_id))
