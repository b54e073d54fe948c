"""The fixture site of the audit tests: one known problem per page, nothing else wrong.

Every page has a language, a unique title and meta description, a canonical link,
one ``<h1>``, readable text, labelled fields and images with alt text, and comes
with a CSP, ``X-Content-Type-Options``, ``X-Frame-Options`` and a
``Referrer-Policy`` — except for the one problem its page is about (``PROBLEMS``).
``app[CHANGES]`` holds the ways the site is changed (``CHANGE_NAMES``) for the
generated-suite tests. Pages no link leads to try the re-measuring of time budgets:
``/hiccup`` blocks its main thread on a context's first load only, ``/stalled`` waits on a
slow stylesheet the browser may cache, and ``/order``'s form posts to a page that blocks
its main thread; ``app[LOADS]`` counts their loads.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from html import escape

from aiohttp import web

CHANGES = web.AppKey("changes", set[str])
LOADS = web.AppKey("loads", Counter[str])
"""Requests of ``/hiccup`` (``/hiccup again`` with its cookie), of ``/stalled``'s
stylesheet and of ``POST /order``."""
CHANGE_NAMES = ("new violation", "slowdown")
"""``new violation``: an image without alt text on ``/``; ``slowdown``: ``/busy`` answers
and blocks the main thread three times as long."""
LABELLED = "labelled"
"""A change outside ``CHANGE_NAMES``: ``/contact``'s field has a label (its problem fixed)."""

PROBLEMS: dict[str, dict[str, set[str]]] = {
    "/": {},
    "/gallery": {"accessibility": {"image-alt"}, "seo": {"image-alt-missing"}},
    "/contact": {"accessibility": {"label"}},
    "/faded": {"accessibility": {"color-contrast"}},
    "/nolang": {"accessibility": {"html-has-lang"}, "seo": {"html-lang-missing"}},
    "/noheading": {"seo": {"h1-count"}},
    "/account": {"security": {"cookie-httponly-missing"}},
    "/open": {"security": {"csp-missing"}},
    "/busy": {"performance": {"total-blocking-time"}},
    "/shifty": {"performance": {"cumulative-layout-shift"}},
}
"""Per page, the rules it fails, by category: exactly what its audits must find."""

LOAD_TIMES = {"server-response-time", "first-contentful-paint", "largest-contentful-paint"}
"""Findings that measure the machine as much as the page: on a shared two-core machine at a
load average of 30, a trivial local page can take two seconds to its first paint. The
fixture's performance problems (blocking time, layout shift) are the page's own."""

BUSY_DELAY_S = 0.4
BUSY_SPIN_MS = 500
"""``/busy`` answers after this long, then its script keeps the main thread busy for this
long as soon as the first contentful paint is known."""

HICCUP_SPIN_MS = 1000
"""How long ``/hiccup``'s script blocks the main thread after the first contentful paint,
when the context has not loaded the page before; the page ``POST /order`` answers, always."""

STALLED_CSS_S = 1.0
"""How late ``/stalled``'s stylesheet arrives (cacheable for an hour): it holds the first
paint back."""

SLOW_IMAGE_S = 1.5
"""``/busy``'s image arrives this late, holding its load event back: the blocked time falls
between FCP and the load event however slow a loaded machine makes the page's own timing
(time to interactive is searched from the load event on)."""

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
_CSS = """
body { font-family: sans-serif; color: #111; background: #fff; margin: 2em; }
nav a { display: inline-block; padding: 8px; }
.faded { color: #bbb; }
#banner { height: 400px; background: #eee; }
.moving { height: 300px; background: #f5f5f5; }
"""
_CSS_ETAG = '"site-css-1"'
_REVALIDATE = {"Cache-Control": "no-cache", "ETag": _CSS_ETAG}
_SPIN = "function spin(ms) { const t = performance.now(); while (performance.now() - t < ms) {} }"
# Once the first contentful paint is known, so that all the blocked time comes after it.
_AFTER_FCP = (
    "new PerformanceObserver((list, observer) => {{"
    " if (!list.getEntriesByName('first-contentful-paint').length) return;"
    " observer.disconnect(); setTimeout(() => {{ {} }}, 0);"
    " }}).observe({{ type: 'paint', buffered: true }});"
)
# After the first paint, so that the shift moves what was painted.
_AFTER_PAINT = "requestAnimationFrame(() => setTimeout(() => {{ {} }}, {}));"
_SHIFT = (
    "const banner = document.createElement('div'); banner.id = 'banner'; "
    "banner.textContent = 'Sale'; document.body.prepend(banner);"
)

_PAGE = """<!doctype html>
<html{lang}><head><meta charset="utf-8"><title>{title}</title>
<meta name="description" content="{title}: a page of the audit fixture site">
<link rel="canonical" href="{path}"><link rel="stylesheet" href="{stylesheet}">
</head><body>{nav}<main>{heading}{body}</main>{script}</body></html>"""

_NAV = (
    "<nav>"
    + " ".join(
        f'<a href="{path}">{path.strip("/").capitalize() or "Home"}</a>' for path in PROBLEMS
    )
    + "</nav>"
)


def _page(
    path: str,
    title: str,
    body: str = "",
    *,
    lang: bool = True,
    h1: bool = True,
    script: str = "",
    stylesheet: str = "/static/site.css",
) -> str:
    return _PAGE.format(
        stylesheet=stylesheet,
        lang=' lang="en"' if lang else "",
        title=escape(title),
        path=path,
        nav=_NAV if path == "/" else '<nav><a href="/">Home</a></nav>',
        heading=f"<h1>{escape(title)}</h1>" if h1 else "",
        body=body,
        script=f'<script src="{script}"></script>' if script else "",
    )


def audit_site() -> web.Application:
    """The site, unchanged until ``app[CHANGES]`` names changes."""
    app = web.Application()
    app[CHANGES] = set()
    app[LOADS] = Counter()

    def changed(request: web.Request, change: str) -> bool:
        return change in request.app[CHANGES]

    def html(text: str, *, csp: bool = True) -> web.Response:
        headers = {k: v for k, v in HEADERS.items() if csp or k != "Content-Security-Policy"}
        return web.Response(text=text, content_type="text/html", headers=headers)

    async def home(request: web.Request) -> web.Response:
        extra = '<img src="/static/photo.png">' if changed(request, "new violation") else ""
        return html(_page("/", "Audit fixture", f"<p>Welcome. {extra}</p>"))

    async def gallery(_request: web.Request) -> web.Response:
        images = '<img src="/static/photo.png" alt="A dot"> <img src="/static/photo.png">'
        return html(_page("/gallery", "Gallery", f"<p>{images}</p>"))

    async def contact(request: web.Request) -> web.Response:
        label = '<label for="q">Question</label> ' if changed(request, LABELLED) else ""
        field = f'{label}<input id="q" name="q"> <button type="submit">Send</button>'
        return html(_page("/contact", "Contact", f'<form action="/contact">{field}</form>'))

    async def faded(_request: web.Request) -> web.Response:
        return html(_page("/faded", "Faded", '<p class="faded">Hard to read</p>'))

    async def nolang(_request: web.Request) -> web.Response:
        return html(_page("/nolang", "No language", "<p>Which language?</p>", lang=False))

    async def noheading(_request: web.Request) -> web.Response:
        return html(_page("/noheading", "No heading", "<p>No main heading.</p>", h1=False))

    async def account(_request: web.Request) -> web.Response:
        response = html(_page("/account", "Account", "<p>Your preferences.</p>"))
        response.headers["Set-Cookie"] = "prefs=dark; Path=/; SameSite=Lax"
        return response

    async def open_page(_request: web.Request) -> web.Response:
        return html(_page("/open", "Open", "<p>No content security policy.</p>"), csp=False)

    async def busy(request: web.Request) -> web.Response:
        factor = 3 if changed(request, "slowdown") else 1
        await asyncio.sleep(BUSY_DELAY_S * factor)
        text = '<p>Busy page. <img src="/static/slow.png" alt="A dot"></p>'
        return html(_page("/busy", "Busy", text, script="/static/busy.js"))

    async def busy_js(request: web.Request) -> web.Response:
        factor = 3 if changed(request, "slowdown") else 1
        script = _SPIN + "\n" + _AFTER_FCP.format(f"spin({BUSY_SPIN_MS * factor});")
        return web.Response(text=script, content_type="text/javascript", headers=_NO_STORE)

    async def hiccup(request: web.Request) -> web.Response:
        again = "hiccup" in request.cookies
        request.app[LOADS]["/hiccup again" if again else "/hiccup"] += 1
        text = (
            "<p>Busy once.</p>"
            if again
            else '<p>Busy once. <img src="/static/slow.png" alt="A dot"></p>'
        )
        response = html(
            _page("/hiccup", "Hiccup", text, script="" if again else "/static/hiccup.js")
        )
        response.set_cookie("hiccup", "1", httponly=True, samesite="Lax")
        return response

    async def hiccup_js(_request: web.Request) -> web.Response:
        script = _SPIN + "\n" + _AFTER_FCP.format(f"spin({HICCUP_SPIN_MS});")
        return web.Response(text=script, content_type="text/javascript", headers=_NO_STORE)

    async def order_form(_request: web.Request) -> web.Response:
        form = '<form method="post" action="/order"><button type="submit">Order</button></form>'
        return html(_page("/order", "Order", form))

    async def order(request: web.Request) -> web.Response:
        request.app[LOADS]["POST /order"] += 1
        text = '<p>Ordered. <img src="/static/slow.png" alt="A dot"></p>'
        return html(_page("/order", "Ordered", text, script="/static/hiccup.js"))

    async def stalled(_request: web.Request) -> web.Response:
        text = "<p>Waits on its stylesheet.</p>"
        return html(_page("/stalled", "Stalled", text, stylesheet="/static/stalled.css"))

    async def stalled_css(request: web.Request) -> web.Response:
        request.app[LOADS]["/static/stalled.css"] += 1
        await asyncio.sleep(STALLED_CSS_S)
        headers = {"Cache-Control": "max-age=3600"}
        return web.Response(text=_CSS, content_type="text/css", headers=headers)

    async def shifty(_request: web.Request) -> web.Response:
        return html(
            _page(
                "/shifty",
                "Shifty",
                '<p class="moving">This text moves.</p>',
                script="/static/shift.js",
            )
        )

    async def shift_js(_request: web.Request) -> web.Response:
        return web.Response(text=_AFTER_PAINT.format(_SHIFT, 200), content_type="text/javascript")

    async def css(request: web.Request) -> web.Response:
        # Revalidated on every use, as many servers' static files are.
        if request.headers.get("If-None-Match") == _CSS_ETAG:
            return web.Response(status=304, headers=_REVALIDATE)
        return web.Response(text=_CSS, content_type="text/css", headers=_REVALIDATE)

    async def png(_request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def slow_png(_request: web.Request) -> web.Response:
        await asyncio.sleep(SLOW_IMAGE_S)
        return web.Response(body=PNG, content_type="image/png", headers=_NO_STORE)

    routes = {
        "/": home, "/gallery": gallery, "/contact": contact, "/faded": faded, "/nolang": nolang,
        "/noheading": noheading, "/account": account, "/open": open_page, "/busy": busy,
        "/shifty": shifty, "/static/busy.js": busy_js, "/static/shift.js": shift_js,
        "/static/site.css": css, "/static/photo.png": png, "/static/slow.png": slow_png,
        "/favicon.ico": png, "/hiccup": hiccup, "/static/hiccup.js": hiccup_js,
        "/stalled": stalled, "/static/stalled.css": stalled_css, "/order": order_form,
    }  # fmt: skip
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    app.router.add_post("/order", order)
    return app


_NO_STORE = {"Cache-Control": "no-store"}
