"""Fixture web sites for the runner tests, and the suite written against the shop site.

``shop_site()`` is a small shop with navigation, a contact form and a search box.
Setting ``app[BROKEN] = True`` breaks it in the four ways a suite must notice: a
page removed (``/team``), a title changed (``/about``), a navigation link deleted
(``Contact``) and a JavaScript error added (on ``/``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from runner.steps import Case

BROKEN = web.AppKey("broken", bool)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{title}</title></head>
<body>{body}</body></html>"""

_HOME = """
<nav><a href="/about">About us</a> {contact} <a href="/team">Team</a></nav>
<main id="main">
  <h1>Welcome</h1>
  <p data-testid="hero">Fast &amp; friendly, since 1999</p>
  <form action="/search" role="search">
    <input name="q" placeholder="Search products" aria-label="Search">
  </form>
</main>
{script}"""

_CONTACT = """
<h1>Contact</h1>
<form action="/contact/thanks" method="get">
  <label>Email <input type="email" name="email"></label>
  <label for="topic">Topic</label>
  <select id="topic" name="topic">
    <option value="">Choose one</option>
    <option value="sales">Sales</option>
    <option value="support">Support</option>
  </select>
  <label><input type="checkbox" name="subscribe"> Subscribe</label>
  <textarea name="message" placeholder="Your message"></textarea>
  <button type="submit">Send</button>
</form>"""


def html_page(title: str, body: str) -> web.Response:
    """An HTML response with ``title`` (escaped) and ``body`` (as is)."""
    return web.Response(text=_PAGE.format(title=escape(title), body=body), content_type="text/html")


def pages_app(pages: dict[str, tuple[str, str]]) -> web.Application:
    """An app serving ``{path: (title, body)}`` as static HTML pages."""
    app = web.Application()
    for path, (title, body) in pages.items():

        async def handler(_request: web.Request, title: str = title, body: str = body) -> Any:
            return html_page(title, body)

        app.router.add_get(path, handler)
    return app


def shop_site() -> web.Application:
    """The shop, intact until ``app[BROKEN]`` is set."""
    app = web.Application()
    app[BROKEN] = False

    async def home(request: web.Request) -> web.Response:
        broken = request.app[BROKEN]
        body = _HOME.format(
            contact="" if broken else '<a href="/contact">Contact</a>',
            script='<script>throw new Error("boom")</script>' if broken else "",
        )
        return html_page('Tom\'s "Best" Shop', body)

    async def about(request: web.Request) -> web.Response:
        title = "About" if request.app[BROKEN] else "About us"
        return html_page(title, '<h1>About us</h1><p class="intro">We sell café ✓ things.</p>')

    async def team(request: web.Request) -> web.Response:
        if request.app[BROKEN]:
            raise web.HTTPNotFound(text="gone")
        return html_page("Team", "<h1>Team</h1>")

    async def contact(_request: web.Request) -> web.Response:
        return html_page("Contact", _CONTACT)

    async def thanks(request: web.Request) -> web.Response:
        email, topic = request.query.get("email", ""), request.query.get("topic", "")
        text = f"Thanks, {escape(email)}! Topic: {escape(topic)}"
        return html_page("Thanks", f'<p data-testid="confirmation">{text}</p>')

    async def search(request: web.Request) -> web.Response:
        query = escape(request.query.get("q", ""))
        return html_page("Search", f'<div id="results">Results for {query}</div>')

    app.router.add_get("/", home)
    app.router.add_get("/about", about)
    app.router.add_get("/team", team)
    app.router.add_get("/contact", contact)
    app.router.add_get("/contact/thanks", thanks)
    app.router.add_get("/search", search)
    return app


def _target(**target: Any) -> dict[str, Any]:
    return target


def _fill(value: str, **target: Any) -> dict[str, Any]:
    return {"action": "fill", "target": target, "value": value}


SHOP_CASES = [
    Case.model_validate(case)
    for case in [
        {
            "name": "Home page loads",
            "type": "smoke",
            "steps": [
                {"action": "goto", "url": "/"},
                {"action": "expect_status", "status": 200},
                {"action": "expect_title", "value": 'Tom\'s "Best" Shop'},
                {"action": "expect_visible", "target": _target(role="heading", name="Welcome")},
                {
                    "action": "expect_visible",
                    "target": _target(role="heading", name="Welcome", exact=True, level=1),
                },
                {"action": "expect_no_console_errors"},
            ],
        },
        {
            "name": "Home page hero",
            "type": "content",
            "steps": [
                {"action": "goto", "url": "/"},
                {"action": "expect_visible", "target": _target(test_id="hero")},
                {"action": "expect_text", "target": _target(test_id="hero"), "value": "Fast &"},
                {"action": "expect_visible", "target": _target(text="since 1999")},
            ],
        },
        {
            "name": "About page title",
            "type": "smoke",
            "steps": [
                {"action": "goto", "url": "/about"},
                {"action": "expect_status", "status": 200},
                {"action": "expect_title", "value": "About us"},
                {"action": "expect_text", "target": _target(css="p.intro"), "value": "café ✓"},
            ],
        },
        {
            "name": "Team page loads",
            "type": "smoke",
            "steps": [
                {"action": "goto", "url": "/team"},
                {"action": "expect_status", "status": 200},
                {"action": "expect_visible", "target": _target(role="heading", name="Team")},
            ],
        },
        {
            "name": 'Navigate to "About us"',
            "type": "navigation",
            "steps": [
                {"action": "goto", "url": "/"},
                {"action": "click", "target": _target(role="link", name="About us", exact=True)},
                {"action": "expect_url", "value": "/about"},
                {"action": "expect_visible", "target": _target(role="heading", name="About us")},
            ],
        },
        {
            "name": "Navigate to contact",
            "type": "navigation",
            "steps": [
                {"action": "goto", "url": "/"},
                {"action": "click", "target": _target(role="link", name="Contact")},
                {"action": "expect_url", "value": "/contact"},
            ],
        },
        {
            "name": "Contact form submits",
            "type": "form",
            "tags": ["forms"],
            "steps": [
                {"action": "goto", "url": "/contact"},
                {
                    "action": "fill",
                    "target": _target(label="Email"),
                    "value": "o'brien@example.com",
                },
                {"action": "select", "target": _target(label="Topic"), "value": "Support"},
                {"action": "check", "target": _target(label="Subscribe")},
                _fill('Hi "there",\nsee you\\soon', placeholder="Your message"),
                {"action": "click", "target": _target(role="button", name="Send")},
                {
                    "action": "expect_url",
                    "match": "regex",
                    "value": r"^/contact/thanks\?email=[^&/]+&topic=support",
                },
                {
                    "action": "expect_text",
                    "target": _target(test_id="confirmation"),
                    "value": "Topic: support",
                },
                {"action": "expect_no_console_errors"},
            ],
        },
        {
            "name": "Search with Enter",
            "type": "form",
            "steps": [
                {"action": "goto", "url": "/"},
                {
                    "action": "fill",
                    "target": _target(placeholder="Search products"),
                    "value": "red",
                },
                {
                    "action": "press",
                    "target": _target(placeholder="Search products"),
                    "key": "Enter",
                },
                {"action": "expect_url", "value": "/search?q=red"},
                {"action": "expect_text", "target": _target(css="#results"), "value": "for red"},
            ],
        },
        {
            "name": "Old checkout (disabled)",
            "enabled": False,
            "steps": [
                {"action": "goto", "url": "/checkout"},
                {"action": "expect_status", "status": 200},
            ],
        },
    ]
]
"""Every action and every target kind, against ``shop_site()``."""

BROKEN_CASES = {"Home page loads", "About page title", "Team page loads", "Navigate to contact"}
"""The cases the broken shop must fail: one breakage each."""
