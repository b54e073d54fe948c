"""Studio: a small site whose stylesheet can change in the ways visual checks must see.

Every page shares ``/style.css``. ``app[CHANGES]`` holds the changes in effect:
``colour`` turns the heading of ``/about`` red, ``margin`` pushes the card of
``/team`` down (shifting everything under it), ``image`` hides the photo of
``/gallery``. The home page always moves: a spinner turns (a CSS animation), a
clock ticks every 100 ms and a canvas redraws noise on every frame; the clock
and the canvas are what generation must mask, the spinner what Playwright stops.
"""

from __future__ import annotations

from aiohttp import web

CHANGES = web.AppKey("changes", set[str])
CHANGE_NAMES = ("colour", "margin", "image")
CHANGED_PAGES = {"colour": "/about", "margin": "/team", "image": "/gallery"}
"""The page each change shows on."""

_STYLE = """
body { font: 18px/1.5 sans-serif; margin: 0; color: #222; }
nav { background: #234; padding: 12px 24px; }
nav a { color: #fff; margin-right: 16px; }
main { padding: 24px; }
h1 { font-size: 56px; margin: 0 0 16px; color: #235; }
.spinner { width: 48px; height: 48px; background: #c63; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.card { margin-top: 16px; padding: 24px; background: #eef3f8; border: 2px solid #9ab; }
.tall { height: 900px; background: linear-gradient(#fff, #dde); }
"""
_CHANGED_STYLE = {
    "colour": "body.about h1 { color: #d22; }",
    "margin": "body.team .card { margin-top: 120px; }",
    "image": "body.gallery .photo { visibility: hidden; }",
}
_PHOTO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="260">'
    '<rect width="400" height="260" fill="#5a8"/><circle cx="120" cy="110" r="70" fill="#fd6"/>'
    '<rect x="220" y="60" width="140" height="150" fill="#357"/></svg>'
)
_NAV = '<nav><a href="/about">About</a><a href="/team">Team</a><a href="/gallery">Gallery</a></nav>'
_PAGES = {
    "/": (
        "home",
        "Studio",
        """<h1>Studio</h1><p>We design quiet, careful things.</p>
<div class="spinner"></div>
<p>Local time: <span id="clock"></span></p>
<canvas id="noise" width="200" height="60"></canvas>
<script>
  const clock = document.getElementById("clock");
  const tick = () => { clock.textContent = new Date().toTimeString().slice(0, 8); };
  tick(); setInterval(tick, 100);
  const canvas = document.getElementById("noise").getContext("2d");
  const draw = () => {
    for (let i = 0; i < 40; i++) {
      canvas.fillStyle = `hsl(${Math.random() * 360}, 70%, 50%)`;
      canvas.fillRect(Math.random() * 200, Math.random() * 60, 12, 12);
    }
    requestAnimationFrame(draw);
  };
  draw();
</script>""",
    ),
    "/about": ("about", "About us", "<h1>About our studio</h1><p>Founded by two friends.</p>"),
    "/team": (
        "team",
        "Team",
        '<h1>Our team</h1><div class="card"><p>Ada, Grace and Linus.</p></div>'
        '<div class="tall"></div>',
    ),
    "/gallery": (
        "gallery",
        "Gallery",
        '<h1>Gallery</h1><img class="photo" src="/photo.svg" alt="A still life" '
        'width="400" height="260">',
    ),
}


def studio_site() -> web.Application:
    """Studio with no changes until ``app[CHANGES]`` gets some."""
    app = web.Application()
    app[CHANGES] = set()

    async def style(request: web.Request) -> web.Response:
        extra = [_CHANGED_STYLE[name] for name in CHANGE_NAMES if name in request.app[CHANGES]]
        return web.Response(text="\n".join([_STYLE, *extra]), content_type="text/css")

    async def photo(_request: web.Request) -> web.Response:
        return web.Response(text=_PHOTO, content_type="image/svg+xml")

    app.router.add_get("/style.css", style)
    app.router.add_get("/photo.svg", photo)
    for path, (kind, title, body) in _PAGES.items():

        async def page(
            _request: web.Request, kind: str = kind, title: str = title, body: str = body
        ) -> web.Response:
            html = (
                f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
                '<link rel="icon" href="data:,"><link rel="stylesheet" href="/style.css"></head>'
                f'<body class="{kind}">{_NAV}<main>{body}</main></body></html>'
            )
            return web.Response(text=html, content_type="text/html")

        app.router.add_get(path, page)
    return app
