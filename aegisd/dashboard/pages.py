"""How a dashboard page is served: session, CSRF, scope, rate limit, errors, templates.

A page handler is ``async def page(request) -> web.StreamResponse``, declared with
``@pages.get(path)`` or ``@pages.post(path)``. Before it runs, the request's session
is checked (none: a GET goes to ``/login?next=<the page>``, a POST to ``/login``) and
its key's principal is set where the API's access checks (:mod:`aegisd.api.access`)
read it, so the API's own ``load_*`` helpers and handler functions serve the
dashboard unchanged; :func:`call` calls one of those functions with the scope its
route declares. A POST must carry the session's CSRF token and counts against the
key's per-minute API quota; page views and event streams do not. An API error a
handler does not catch becomes an error page with the API's status and message.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from aegisd.api import ci, crawls, keys, projects, runs, schedules, suites, webhooks
from aegisd.auth import Scope
from aegisd.dashboard.sessions import Session, current_session
from aegisd.envelope import MAX_PAGE
from aegisd.errors import ApiError, Forbidden, RateLimitExceeded
from aegisd.routing import HandlerFunc
from aegisd.state import DB, PRINCIPAL, RATE_LIMITER

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("dashboard_session", Session)
CSRF_FIELD = "csrf"

# Private pages: never cached, never framed, no script or style from elsewhere.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_SCOPES: dict[HandlerFunc, Scope] = {
    endpoint.func: endpoint.scope
    for module in (projects, keys, crawls, suites, runs, ci, schedules, webhooks)
    for endpoint in module.router.endpoints
    if endpoint.scope is not None
}


@dataclass(frozen=True)
class PageRoute:
    method: str
    path: str
    handle: PageHandler


class PageRouter:
    """Collects the dashboard's pages; ``public=True`` serves one without a session."""

    def __init__(self) -> None:
        self.routes: list[PageRoute] = []

    def route(
        self, method: str, path: str, *, public: bool = False, stream: bool = False
    ) -> Callable[[PageHandler], PageHandler]:
        """Declare a page; ``stream=True`` marks an event stream (401 without a session)."""

        def declare(handler: PageHandler) -> PageHandler:
            async def handle(request: web.Request) -> web.StreamResponse:
                return await _serve(request, handler, public=public, stream=stream)

            self.routes.append(PageRoute(method, path, handle))
            return handler

        return declare

    def get(self, path: str, **options: Any) -> Callable[[PageHandler], PageHandler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[PageHandler], PageHandler]:
        return self.route("POST", path, **options)


async def _serve(
    request: web.Request, handler: PageHandler, *, public: bool, stream: bool
) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        if not public:
            session = await current_session(request)
            if session is None:
                return _signed_out(request, stream)
            request[SESSION] = session
            request[PRINCIPAL] = session.principal
            if request.method == "POST":
                await _check_post(request, session)
        response = await handler(request)
    except ApiError as error:
        response = await error_page(request, error)
    if not response.prepared:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
    return response


def _signed_out(request: web.Request, stream: bool) -> web.StreamResponse:
    if stream:
        return web.Response(status=401, text="sign in at /login first")
    if request.method != "GET":
        return redirect("/login")
    return redirect("/login?next=" + quote(request.path_qs, safe="/"))


async def _check_post(request: web.Request, session: Session) -> None:
    """Refuse a POST without this session's CSRF token; count it against the key's quota."""
    form = await request.post()
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
        raise Forbidden(
            "this form was not sent from a page of this session (its CSRF token is "
            "missing or wrong); nothing was changed: reload the page and try again"
        )
    quota = request.app[RATE_LIMITER].hit(session.principal.key_id)
    if quota is not None and not quota.allowed:
        limited = RateLimitExceeded(
            f"this key has used its {quota.limit} requests of this minute; nothing was "
            f"changed: try again in {quota.retry_after} s"
        )
        limited.headers = {**quota.headers(), "Retry-After": str(quota.retry_after)}
        raise limited


async def call(request: web.Request, func: HandlerFunc, **arguments: Any) -> Any:
    """Call the API handler ``func`` for the signed-in key, with the scope its route
    declares (403 otherwise): the API's rules and checks, not a second set."""
    check_scope(request, func)
    return await func(request, **arguments)


def check_scope(request: web.Request, func: HandlerFunc) -> None:
    """403 unless the signed-in key has the scope the API handler ``func`` needs: for a
    form that may end up calling it no time at all."""
    needed = _SCOPES[func]
    principal = request[PRINCIPAL]
    if not principal.allows(needed):
        raise Forbidden(f"this key has scope {principal.scope!r}; {needed!r} is needed")


def page_number(request: web.Request) -> int:
    """The ``page`` a list is asked for (1 when missing or not a number)."""
    try:
        return max(1, min(int(request.query.get("page", "1")), MAX_PAGE))
    except ValueError:
        return 1


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST, the browser GETs ``location``."""
    return web.Response(status=303, headers={"Location": location})


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    nav: str | None = None,
) -> web.Response:
    """``template`` rendered with ``context`` and what every page shows (the signed-in
    key, the CSRF token, the navigation)."""
    session = request.get(SESSION)
    key = await request.app[DB].get_live_key(session.principal.key_id) if session else None
    base = {
        "session": session,
        "principal": session.principal if session else None,
        "key": key,
        "csrf": session.csrf if session else "",
        "nav": nav,
        "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


async def error_page(request: web.Request, error: ApiError) -> web.Response:
    """An API error as a page: its status, code and message."""
    response = await render(request, "error.html", {"error": error}, status=error.status)
    response.headers.update(error.headers)
    return response
