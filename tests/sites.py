"""Small fixture web sites, served by the tests themselves on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from aiohttp import web


def page(title: str, body: str = "", *, heading: str | None = None, script: str = "") -> str:
    """A complete HTML document."""
    h1 = f"<h1>{heading if heading is not None else title}</h1>"
    js = f"<script>{script}</script>" if script else ""
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><main>{h1}{body}</main>{js}</body></html>"
    )


class Site:
    """A mutable set of pages: change ``pages`` between crawls to change the site."""

    def __init__(
        self,
        pages: Mapping[str, str],
        delay_s: float = 0.0,
        statuses: Mapping[str, int] | None = None,
    ) -> None:
        self.pages = dict(pages)
        self.delay_s = delay_s
        self.statuses = dict(statuses or {})
        self.hits: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        body = self.pages.get(request.path_qs) or self.pages.get(request.path)
        if body is None:
            return web.Response(status=404, text=page("Not found"), content_type="text/html")
        status = self.statuses.get(request.path, 200)
        return web.Response(status=status, text=body, content_type="text/html")


def linked_site() -> dict[str, str]:
    """Home links to /about and /blog; /blog links to /blog/post; /about links to a 404."""
    nav = '<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/blog">Blog</a></nav>'
    return {
        "/": page("Home", nav),
        "/about": page("About us", nav + '<a href="/missing">Old page</a>'),
        "/blog": page("Blog", nav + '<a href="/blog/post">First post</a>'),
        "/blog/post": page("First post", nav),
    }


class LoginSite:
    """A site behind a cookie session, for the login tests.

    ``/login`` has a form (labelled Email and Password, a "Sign in" button);
    posting the right ones (``EMAIL``, ``PASSWORD``) starts a session and lands
    on ``/account``, wrong ones show the form again with an error. Every other
    page (``PROTECTED``) redirects to ``/login`` without a live session and links
    to the others, to ``/logout`` and to ``/session/end`` ("Sign out"), which
    both end the session on the server.
    ``hits`` records every request's path.
    """

    EMAIL = "ada@example.com"
    PASSWORD = "correct horse"
    PROTECTED: ClassVar[dict[str, str]] = {
        "/": "Dashboard",
        "/account": "Account",
        "/orders": "Orders",
    }
    FORM = (
        '<form method="post" action="/login">'
        '<label for="email">Email</label><input id="email" name="email" type="email">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password">'
        '<button type="submit">Sign in</button></form>'
    )

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.hits: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/login", self._login_form)
        app.router.add_post("/login", self._log_in)
        app.router.add_get("/logout", self._log_out)
        app.router.add_get("/session/end", self._log_out)
        app.router.add_get("/{path:.*}", self._protected)
        return app

    def _html(self, title: str, body: str) -> web.Response:
        return web.Response(text=page(title, body), content_type="text/html")

    async def _login_form(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return self._html("Sign in", self.FORM)

    async def _log_in(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        form = await request.post()
        if form.get("email") != self.EMAIL or form.get("password") != self.PASSWORD:
            return self._html("Sign in", "<p role=alert>Wrong email or password</p>" + self.FORM)
        token = f"session-{len(self.sessions) + 1}"
        self.sessions.add(token)
        answer = web.HTTPSeeOther("/account")
        answer.set_cookie("session", token, httponly=True)
        raise answer

    async def _log_out(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        self.sessions.discard(request.cookies.get("session", ""))
        answer = web.HTTPFound("/login")
        answer.del_cookie("session")
        raise answer

    async def _protected(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        title = self.PROTECTED.get(request.path)
        if request.cookies.get("session") not in self.sessions:
            raise web.HTTPFound("/login")
        if title is None:
            raise web.HTTPNotFound()
        links = [f'<a href="{path}">{name}</a>' for path, name in self.PROTECTED.items()]
        links += ['<a href="/logout">Log out</a>', '<a href="/session/end">Sign out</a>']
        nav = "<nav>" + " ".join(links) + "</nav>"
        return self._html(title, nav)


def login_steps(password: str = LoginSite.PASSWORD) -> dict[str, Any]:
    """``settings.login`` for ``LoginSite``: sign in with ``password`` and expect /account."""
    return {
        "steps": [
            {"action": "goto", "url": "/login"},
            {"action": "fill", "target": {"label": "Email"}, "value": LoginSite.EMAIL},
            {"action": "fill", "target": {"label": "Password"}, "value": password},
            {"action": "click", "target": {"role": "button", "name": "Sign in"}},
            {"action": "expect_url", "value": "/account"},
        ]
    }
