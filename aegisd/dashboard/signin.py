"""Signing in with an API key at ``/login``, and out with ``POST /logout``."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from aegisd.auth import principal_of_key
from aegisd.dashboard.pages import SESSION, PageRouter, redirect, render
from aegisd.dashboard.sessions import (
    current_session,
    end_session,
    login_form_token,
    login_token_ok,
    set_login_nonce,
    start_session,
)
from aegisd.errors import Unauthorized
from aegisd.state import DB

pages = PageRouter()

WRONG_KEY = "That API key is not valid."
STALE_FORM = "The sign-in form had expired. Please sign in again."


def safe_next(value: object) -> str:
    """Where to go after signing in: a path on this dashboard, never another site."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return value


async def _form(
    request: web.Request, next_page: str, error: str | None = None, status: int = 200
) -> web.Response:
    token, nonce = login_form_token(request)
    context = {"next_page": next_page, "error": error, "login_token": token}
    response = await render(request, "login.html", context, status=status)
    if nonce is not None:
        set_login_nonce(request, response, nonce)
    return response


@pages.get("/login", public=True)
async def login_page(request: web.Request) -> web.StreamResponse:
    next_page = safe_next(request.query.get("next"))
    if await current_session(request) is not None:
        return redirect(next_page)
    return await _form(request, next_page)


@pages.post("/login", public=True)
async def log_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    next_page = safe_next(form.get("next"))
    if not login_token_ok(request, form.get("csrf")):
        return await _form(request, next_page, STALE_FORM, status=403)
    secret = form.get("key")
    try:
        if not isinstance(secret, str) or not secret.strip():
            raise Unauthorized(WRONG_KEY)
        principal = await principal_of_key(request.app[DB], secret.strip())
    except Unauthorized:
        # Unknown, malformed or revoked: the same answer, so it tells nothing more.
        return await _form(request, next_page, WRONG_KEY, status=401)
    response = redirect(next_page)
    await start_session(request, response, principal.key_id)
    return response


@pages.post("/logout")
async def log_out(request: web.Request) -> web.StreamResponse:
    response = redirect("/login")
    await end_session(request, response, request[SESSION])
    return response
