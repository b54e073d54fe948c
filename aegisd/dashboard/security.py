"""Settings → Security → API keys: list, generate (the key shown this once) and revoke.

Managing keys takes an admin key, as over the API; other keys see which key they
are signed in with.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aegisd.api import keys, projects
from aegisd.dashboard.forms import Form, FormField
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.envelope import PageQuery
from aegisd.errors import ValidationFailed
from aegisd.state import PRINCIPAL

pages = PageRouter()

FORM = Form((FormField("name"), FormField("scope"), FormField("project_id")))
KEYS_PER_PAGE = 50


async def _security_page(
    request: web.Request,
    *,
    created: Any = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "created": created,
        "values": values or {"name": "", "scope": "read", "project_id": ""},
        "errors": errors or {},
        "keys": [],
        "pagination": None,
        "projects": [],
        "names": {},
    }
    if request[PRINCIPAL].allows("admin"):
        query = PageQuery(page=page_number(request), limit=KEYS_PER_PAGE)
        listed = await call(request, keys.list_keys, query=query)
        project_page = await call(request, projects.list_projects, query=PageQuery(limit=100))
        names = {project.id: project.name for project in project_page.items}
        context.update(
            keys=listed.items, pagination=listed, projects=project_page.items, names=names
        )
    return await render(request, "settings/security.html", context, status=status, nav="settings")


@pages.get("/settings/security")
async def security_page(request: web.Request) -> web.StreamResponse:
    return await _security_page(request)


@pages.post("/settings/security/keys")
async def generate_key(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        body = FORM.validate(keys.KeyCreate, posted)
        created = await call(request, keys.create_api_key, body=body)
    except ValidationFailed as failed:
        return await _security_page(
            request, values=FORM.values(posted), errors=FORM.errors(failed), status=400
        )
    # The key is on this answer only: it is never shown again.
    return await _security_page(request, created=created)


@pages.post("/settings/security/keys/{key_id}/revoke")
async def revoke_key(request: web.Request) -> web.StreamResponse:
    key_id = request.match_info["key_id"]
    await call(request, keys.revoke_api_key, key_id=key_id)
    # Revoking the key this session signed in with ends the session with it.
    return redirect("/login" if key_id == request[PRINCIPAL].key_id else "/settings/security")
