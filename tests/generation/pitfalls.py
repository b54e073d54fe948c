"""The Pitfalls site: every pattern that made generated suites fail on unchanged real apps.

Behind a login (``LOGIN``: a cookie session), each page holds one pattern:

- ``/search``: a field whose ``<label>`` holds only an ``<img alt="Search">`` (the
  crawl's accessible name says "Search", ``getByLabel('Search')`` finds nothing); its
  GET form lands on ``/search/results``, whose script fetches ``/api/related``, which
  fails every other time (the first time included);
- ``/reports``: an ``<h1>`` and an ``<h2>`` of the same name;
- every page: a collapsed menu (``transform: scale(0)``) repeating the nav's "Reports"
  link, hidden to the eye, not to ``getByRole``;
- ``/export``: a GET form whose submit downloads a CSV file;
- ``/people``: a list with 5 sortable columns and 2 filters, whose links multiply into
  dozens of query-string variants, a search form carrying the sort order in a hidden
  input, and people pages; ``/people/ada`` links to a missing page (at depth 2, the
  depth the tests crawl to);
- ``/items/new``: a POST form creating an item (a second submit of the same name is
  "already exists", 409); ``/account``: a POST form ending the session ("Switch user"),
  and a "Log out" link.

``app[BREAKAGES]`` holds the ways the site is broken (``PITFALL_BREAKAGES``); ``app[STATE]``
counts what the tests look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from aiohttp import web

from runner.login import Login
from tests.generation.site import BREAKAGES
from tests.sites import page

PITFALL_BREAKAGES = ("page gone", "heading changed", "link removed", "js error")
"""One per kind of breakage a generated suite must notice."""

EMAIL = "qa@example.com"
PASSWORD = "pitfalls"
LOGIN = Login.model_validate(
    {
        "steps": [
            {"action": "goto", "url": "/login"},
            {"action": "fill", "target": {"label": "Email"}, "value": EMAIL},
            {"action": "fill", "target": {"label": "Password"}, "value": PASSWORD},
            {"action": "click", "target": {"role": "button", "name": "Sign in"}},
            {"action": "expect_url", "value": "/"},
        ]
    }
)
COLUMNS = ("Name", "Email", "Team", "Joined", "Role")
PEOPLE = {"ada": "Ada Lovelace", "bob": "Bob Babbage", "cy": "Cy Hopper"}


@dataclass
class State:
    """What happened on the site: sessions alive, items created, calls of the flaky API."""

    sessions: set[str] = field(default_factory=set)
    logins: int = 0
    items: set[str] = field(default_factory=set)
    related_calls: int = 0
    ended_sessions: int = 0


STATE = web.AppKey("pitfalls_state", State)

_MENU = (
    '<nav><a href="/">Home</a> {reports}<a href="/search">Search</a> '
    '<a href="/export">Export</a> <a href="/people">People</a> '
    '<a href="/items/new">New item</a> <a href="/account">Account</a> <a href="/teams">Teams</a>'
    "</nav>"
    # A collapsed dropdown: rendered at size zero, still in the accessibility tree.
    '<div class="dropdown" style="transform: scale(0)"><a href="/reports">Reports</a></div>'
)
_SEARCH = """
<form action="/search/results">
  <label for="q"><img src="/icons/search.svg" alt="Search" width="16" height="16"></label>
  <input id="q" name="q">
  <button>Go</button>
</form>
"""
_RESULTS = """
<p id="results" data-q="QUERY">Results for QUERY</p><ul id="related"></ul>
<script>
fetch("/api/related?q=" + encodeURIComponent(document.getElementById("results").dataset.q))
  .then((response) => response.ok ? response.json() : Promise.reject(response.status))
  .then((items) => { document.getElementById("related").textContent = items.join(", "); })
  .catch(() => {});
</script>
"""
# Like Django's "Add another" links: the page's script opens them in a popup window.
_POPUP = """
<a href="/teams?_popup=1" data-popup="yes" class="add-related">Add another team</a>
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-popup]");
  if (link) { event.preventDefault(); window.open(link.href, "team", "width=400"); }
});
</script>
"""
_EXPORT = """
<form action="/export.csv">
  <label for="format">Columns</label>
  <select id="format" name="columns"><option value="all">All</option>
  <option value="names">Names only</option></select>
  <button>Export CSV</button>
</form>
"""
_NEW_ITEM = """
<form method="post" action="/items/new">
  <input type="hidden" name="csrf" value="c5rf">
  <label for="item">Item name</label> <input id="item" name="name" required>
  <button>Create item</button>
</form>
"""
_ACCOUNT = """
<p>Signed in as {email}</p>
<form method="post" action="/session/end"><button>Switch user</button></form>
<a href="/logout">Log out</a>
"""
_LOGIN_FORM = """
<form method="post" action="/login">
  <label for="email">Email</label> <input id="email" name="email" type="email">
  <label for="password">Password</label> <input id="password" name="password" type="password">
  <button>Sign in</button>
</form>
"""


def pitfalls_site() -> web.Application:
    """The Pitfalls site, intact until ``app[BREAKAGES]`` names breakages."""
    app = web.Application(middlewares=[_session])
    app[BREAKAGES] = set()
    app[STATE] = State()
    routes = {
        "/": _home, "/reports": _reports, "/search": _search, "/search/results": _results,
        "/api/related": _related, "/export": _export, "/export.csv": _csv, "/people": _people,
        "/people/{slug}": _person, "/teams": _teams, "/items": _items, "/items/new": _new_item,
        "/account": _account, "/login": _login_form, "/logout": _log_out,
        "/icons/search.svg": _icon, "/favicon.ico": _favicon,
    }  # fmt: skip
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    app.router.add_post("/login", _log_in)
    app.router.add_post("/items/new", _create_item)
    app.router.add_post("/session/end", _end_session)
    return app


_OPEN = frozenset({"/login", "/favicon.ico", "/icons/search.svg"})


@web.middleware
async def _session(request: web.Request, handler: Any) -> web.StreamResponse:
    signed_in = request.cookies.get("session") in request.app[STATE].sessions
    if request.path not in _OPEN and not signed_in:
        raise web.HTTPFound("/login")
    response: web.StreamResponse = await handler(request)
    return response


def _broken(request: web.Request, breakage: str) -> bool:
    return breakage in request.app[BREAKAGES]


def _html(request: web.Request, title: str, body: str = "", **options: str) -> web.Response:
    reports = "" if _broken(request, "link removed") else '<a href="/reports">Reports</a> '
    text = page(title, _MENU.format(reports=reports) + body, **options)
    return web.Response(text=text, content_type="text/html")


async def _home(request: web.Request) -> web.Response:
    return _html(request, "Pitfalls", heading="Welcome")


async def _reports(request: web.Request) -> web.Response:
    heading = "Monthly reports" if _broken(request, "heading changed") else "Reports"
    return _html(request, "Reports", "<h2>Reports</h2><p>None yet.</p>", heading=heading)


async def _search(request: web.Request) -> web.Response:
    return _html(request, "Search", _SEARCH)


async def _results(request: web.Request) -> web.Response:
    query = request.query.get("q", "")
    body = _RESULTS.replace("QUERY", escape(query))
    return _html(request, "Search results", body)


async def _related(request: web.Request) -> web.Response:
    """Fails on calls 1, 3, 5...: what a sub-request failing under load looks like."""
    state = request.app[STATE]
    state.related_calls += 1
    if state.related_calls % 2:
        return web.json_response({"error": "busy"}, status=503)
    return web.json_response(["widgets", "gadgets"])


async def _export(request: web.Request) -> web.Response:
    return _html(request, "Export", _EXPORT)


async def _csv(request: web.Request) -> web.Response:
    headers = {"Content-Disposition": 'attachment; filename="people.csv"'}
    return web.Response(text="name\nAda\n", content_type="text/csv", headers=headers)


def _query(**params: str) -> str:
    return "?" + "&".join(f"{key}={value}" for key, value in params.items() if value)


async def _people(request: web.Request) -> web.Response:
    order = request.query.get("o", "")
    filters = {key: request.query.get(key, "") for key in ("staff__exact", "active__exact")}
    heads = []
    for number, column in enumerate(COLUMNS, start=1):
        # Like Django's admin: a column's link puts it first, keeping the other orders.
        rest = [part for part in order.split(".") if part and part.lstrip("-") != str(number)]
        first = f"-{number}" if order.split(".")[0] == str(number) else str(number)
        href = _query(**filters, o=".".join([first, *rest]))
        heads.append(f'<th><a href="{href}">{column}</a></th>')
    facets = []
    for key, label in (("staff__exact", "Staff"), ("active__exact", "Active")):
        for value, word in (("1", "Yes"), ("0", "No")):
            href = _query(**{**filters, key: value}, o=order)
            name = f"{label}: {word}"
            facets.append(f'<li><a href="{href}" aria-label="{name}">{label} {word}</a></li>')
    rows = "".join(
        f'<tr><td><a href="/people/{slug}">{name}</a></td></tr>' for slug, name in PEOPLE.items()
    )
    hidden = f'<input type="hidden" name="o" value="{order}">' if order else ""
    search = (
        '<form id="people-search" role="search"><input type="search" name="q" '
        f'aria-label="Search people">{hidden}<button>Search</button></form>'
    )
    script = 'throw new Error("list widget failed")' if _broken(request, "js error") else ""
    body = f"{search}<ul>{''.join(facets)}</ul><table><tr>{''.join(heads)}</tr>{rows}</table>"
    body += _POPUP
    return _html(request, "People", body, script=script)


async def _person(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if slug not in PEOPLE:
        raise web.HTTPNotFound()
    extra = '<a href="/people/ada/old">Old profile</a>' if slug == "ada" else ""
    return _html(request, PEOPLE[slug], extra)


async def _teams(request: web.Request) -> web.Response:
    if _broken(request, "page gone"):
        raise web.HTTPNotFound()
    return _html(request, "Teams")


async def _items(request: web.Request) -> web.Response:
    names = "".join(f"<li>{escape(name)}</li>" for name in sorted(request.app[STATE].items))
    return _html(request, "Items", f"<ul>{names}</ul>")


async def _new_item(request: web.Request) -> web.Response:
    return _html(request, "New item", _NEW_ITEM)


async def _create_item(request: web.Request) -> web.Response:
    name = str((await request.post()).get("name", ""))
    items = request.app[STATE].items
    if name in items:
        text = page("New item", f"<p role=alert>{escape(name)} already exists</p>")
        return web.Response(status=409, text=text, content_type="text/html")
    items.add(name)
    raise web.HTTPSeeOther("/items")


async def _account(request: web.Request) -> web.Response:
    return _html(request, "Account", _ACCOUNT.format(email=EMAIL))


async def _end_session(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.sessions.discard(request.cookies.get("session", ""))
    state.ended_sessions += 1
    raise web.HTTPSeeOther("/login")


async def _log_out(request: web.Request) -> web.Response:
    return await _end_session(request)


async def _login_form(_request: web.Request) -> web.Response:
    return web.Response(text=page("Sign in", _LOGIN_FORM), content_type="text/html")


async def _log_in(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("email") != EMAIL or form.get("password") != PASSWORD:
        return await _login_form(request)
    state = request.app[STATE]
    state.logins += 1
    token = f"session-{state.logins}"
    state.sessions.add(token)
    answer = web.HTTPSeeOther("/")
    answer.set_cookie("session", token, httponly=True)
    raise answer


async def _icon(_request: web.Request) -> web.Response:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><circle r="6"/></svg>'
    return web.Response(text=svg, content_type="image/svg+xml")


async def _favicon(_request: web.Request) -> web.Response:
    return web.Response(status=204)
