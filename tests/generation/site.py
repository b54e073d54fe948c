"""The fixture site of the generation tests: Acme, with something for every rule.

Navigation, headings, a contact form posting to itself (labels, required fields,
email, number, select, checkbox, textarea, a hidden token and a honeypot), a GET
search form, a sign-in form, a page logging a console error, a page whose title
and heading carry the time, a redirect, a link name used twice, a link opening a
new tab, an external link, a download, a JSON document and a broken link.

``app[BREAKAGES]`` holds the ways the site is broken (see ``BREAKAGE_NAMES``);
the tests change it between runs of one server.
"""

from __future__ import annotations

import datetime
from html import escape

from aiohttp import web

from tests.sites import page

BREAKAGES = web.AppKey("breakages", set[str])
BREAKAGE_NAMES = ("page gone", "title changed", "heading changed", "link removed", "js error")
"""One per kind of breakage a generated suite must notice."""

_NAV = (
    '<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/blog">Blog</a>'
    '{contact} <a href="/search">Search</a> <a href="/old">Latest news</a></nav>'
)
_HOME = """
<p><a href="/blog/first">Read more</a> <a href="/blog/second">Read more</a></p>
<p><a href="/manual" target="_blank">Manual</a>
<a href="https://example.com/acme">Acme elsewhere</a>
<a href="/prices.csv" download>Price list</a> <a href="mailto:info@example.com">Mail us</a>
<a href="/status">Status</a> <a href="/widget">Widget</a> <a href="/data.json">Data</a>
<a href="/missing">Old page</a> <a href="/login">Sign in</a></p>
"""
_CONTACT = """
<form id="contact" method="post" action="/contact">
  <input type="hidden" name="token" value="t0k3n">
  <label for="name">Name <span aria-hidden="true">*</span></label>
  <input id="name" name="name" required>
  <label for="email">Email</label> <input id="email" type="email" name="email" required>
  <label for="age">Age</label> <input id="age" type="number" name="age" min="18" max="120">
  <label for="topic">Topic</label>
  <select id="topic" name="topic" required>
    <option value="">Choose one</option><option value="sales">Sales</option>
    <option value="support">Support</option>
  </select>
  <label><input type="checkbox" name="newsletter" value="yes"> Send me the newsletter</label>
  <label for="message">Message</label>
  <textarea id="message" name="message" required minlength="30"></textarea>
  <input name="website" style="display:none">
  <button type="submit">Send message</button>
</form>
"""
_SEARCH = """
<form role="search" action="/search">
  <input type="search" name="q" placeholder="Search the site">
  <button>Search</button>
</form>
<p id="results">{results}</p>
"""
_LOGIN = """
<form method="post" action="/login">
  <label for="user">Username</label> <input id="user" name="user">
  <label for="password">Password</label> <input id="password" type="password" name="password">
  <button type="submit">Sign in</button>
</form>
"""


def acme_site() -> web.Application:
    """Acme, intact until ``app[BREAKAGES]`` names breakages."""
    app = web.Application()
    app[BREAKAGES] = set()

    def broken(request: web.Request, breakage: str) -> bool:
        return breakage in request.app[BREAKAGES]

    def html(request: web.Request, title: str, body: str = "", **options: str) -> web.Response:
        contact = "" if broken(request, "link removed") else ' <a href="/contact">Contact</a>'
        text = page(title, _NAV.format(contact=contact) + body, **options)
        return web.Response(text=text, content_type="text/html")

    async def home(request: web.Request) -> web.Response:
        return html(request, "Acme Widgets", _HOME, heading="Welcome to Acme")

    async def about(request: web.Request) -> web.Response:
        if broken(request, "page gone"):
            raise web.HTTPNotFound()
        return html(request, "About Acme", heading="About us")

    async def blog(request: web.Request) -> web.Response:
        title = "Our blog" if broken(request, "title changed") else "Blog"
        posts = '<a href="/blog/first">First post</a> <a href="/blog/second">Second post</a>'
        return html(request, title, posts, heading="Blog")

    async def post(request: web.Request) -> web.Response:
        title = {"first": "First post", "second": "Second post"}[request.match_info["name"]]
        return html(request, title)

    async def news(request: web.Request) -> web.Response:
        heading = "News" if broken(request, "heading changed") else "Company news"
        return html(request, "News", heading=heading)

    async def contact(request: web.Request) -> web.Response:
        return html(request, "Contact us", _CONTACT, heading="Contact")

    async def contact_post(request: web.Request) -> web.Response:
        data = await request.post()
        valid = data.get("token") == "t0k3n" and "@" in str(data.get("email", ""))
        if not valid or data.get("website") or len(str(data.get("message", ""))) < 30:
            return html(request, "Invalid", heading="Please check the form")
        raise web.HTTPSeeOther("/contact/thanks")

    async def thanks(request: web.Request) -> web.Response:
        return html(request, "Thank you", heading="Message sent")

    async def search(request: web.Request) -> web.Response:
        results = f"Results for {escape(request.query['q'])}" if "q" in request.query else ""
        script = 'throw new Error("search index missing")' if broken(request, "js error") else ""
        return html(request, "Search", _SEARCH.format(results=results), script=script)

    async def status(request: web.Request) -> web.Response:
        now = datetime.datetime.now(datetime.UTC)
        return html(request, f"Status at {now:%H:%M:%S}", heading=f"Checked {now:%Y-%m-%d}")

    async def widget(request: web.Request) -> web.Response:
        return html(request, "Widget", script='console.error("widget failed to load")')

    async def login(request: web.Request) -> web.Response:
        return html(request, "Sign in", _LOGIN)

    async def data(_request: web.Request) -> web.Response:
        return web.json_response({"widgets": 3})

    async def prices(_request: web.Request) -> web.Response:
        return web.Response(text="widget,1\n", content_type="text/csv")

    async def favicon(_request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def old(_request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/news")

    async def manual(request: web.Request) -> web.Response:
        return html(request, "Manual")

    pages = {
        "/": home, "/about": about, "/blog": blog, "/blog/{name:first|second}": post,
        "/old": old, "/news": news, "/contact": contact, "/contact/thanks": thanks,
        "/search": search, "/status": status, "/widget": widget, "/login": login,
        "/manual": manual, "/data.json": data, "/prices.csv": prices, "/favicon.ico": favicon,
    }  # fmt: skip
    for path, handler in pages.items():
        app.router.add_get(path, handler)
    app.router.add_post("/contact", contact_post)
    return app
