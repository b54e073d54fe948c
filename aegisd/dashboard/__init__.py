"""The web dashboard (DESIGN §11): server-rendered pages on the daemon's own port.

Jinja2 templates (through aiohttp-jinja2), one stylesheet and one small script of
our own, all shipped in this package: nothing comes from a CDN, and every page
reads without JavaScript. :func:`aegisd.dashboard.setup.setup_dashboard` mounts it;
each module of pages (``projects``, ``crawls``, ...) reads through the API's own
handler functions, storage methods and access checks.
"""
