"""What the crawl records per page: errors, failed requests, forms, links, headings, types."""

from __future__ import annotations

import socket

from crawler.models import FailedRequest, FieldOption, PageResult
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.crawler.sites import Route, crawl_routes, linking, respond
from tests.sites import page


async def _only_page(browsers: Browsers, serve: ServeApp, html: str) -> PageResult:
    result, _, _ = await crawl_routes(browsers, serve, {"/": html}, depth=0)
    assert len(result.pages) == 1
    return result.pages[0]


async def test_console_errors_and_uncaught_exceptions(browsers: Browsers, serve: ServeApp) -> None:
    script = (
        "console.log('fine'); console.warn('careful'); console.error('boom', 42);"
        "setTimeout(() => { throw new TypeError('bad thing'); }, 0);"
        "Promise.reject(new RangeError('rejected'));"
    )
    found = await _only_page(browsers, serve, page("Errors", script=script))
    assert found.console_errors == [
        "RangeError: rejected",
        "TypeError: bad thing",
        "boom 42",
    ]


async def test_failed_requests_of_resources(browsers: Browsers, serve: ServeApp) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    html = page(
        "Resources",
        f'<img src="/missing.png"><script src="/broken.js"></script><img src="{closed}/x.png">'
        '<img src="/fine.svg">',
    )
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    result, _, base = await crawl_routes(
        browsers,
        serve,
        {
            "/": html,
            "/broken.js": respond("oops", "text/javascript", status=500),
            "/fine.svg": respond(svg, "image/svg+xml"),
        },
    )
    refused = FailedRequest(
        url=closed + "/x.png",
        resource_type="image",
        status=None,
        error="net::ERR_CONNECTION_REFUSED",
    )
    same_origin = [
        FailedRequest(url=base + "/broken.js", resource_type="script", status=500, error=None),
        FailedRequest(url=base + "/missing.png", resource_type="image", status=404, error=None),
    ]
    # Reported in URL order, and the closed port may sort before or after the site's.
    expected = [*same_origin, refused] if base < closed else [refused, *same_origin]
    assert result.pages[0].failed_requests == expected
    assert result.pages[0].status == 200
    assert result.broken_links == []


SIGNUP = """
<form id="signup" action="/join" method="POST" data-testid="signup-form">
  <label for="email">Email address</label>
  <input id="email" name="email" type="email" required placeholder="you@example.com">
  <label>Password <input name="password" type="password" minlength="8" value="secret"></label>
  <span id="age-label">Age</span><input name="age" type="number" min="18" max="120"
    aria-labelledby="age-label">
  <input name="code" aria-label="Invite code" pattern="[A-Z]{4}" maxlength="4">
  <input name="nick" placeholder="Nickname">
  <select name="plan" data-testid="plan"><option value="free">Free</option>
    <option value="pro" selected>Pro</option></select>
  <textarea name="bio" readonly></textarea>
  <label><input type="checkbox" name="terms" value="yes" required> I agree</label>
  <label><input type="radio" name="size" value="s"> Small</label>
  <label><input type="radio" name="size" value="l"> Large</label>
  <input type="hidden" name="token" value="abc">
  <input name="old" disabled style="display:none">
  <button type="button">Help</button>
  <button type="submit">Create account</button>
</form>
<form><input name="q" type="search" aria-label="Search"><input type="submit"></form>
"""


async def test_forms_and_fields(browsers: Browsers, serve: ServeApp) -> None:
    found = await _only_page(browsers, serve, page("Sign up", SIGNUP))
    signup, search = found.forms
    assert (signup.id, signup.method, signup.action) == ("signup", "post", found.url + "join")
    assert (signup.css, signup.test_id) == ("#signup", "signup-form")
    assert signup.submit is not None and signup.submit.name == "Create account"
    handles = [
        (f.name, f.type, f.role, f.label, f.accessible_name, f.required, f.visible)
        for f in signup.fields
    ]
    assert handles == [
        ("email", "email", "textbox", "Email address", "Email address", True, True),
        ("password", "password", "textbox", "Password", "Password", False, True),
        ("age", "number", "spinbutton", "Age", "Age", False, True),
        ("code", "text", "textbox", "Invite code", "Invite code", False, True),
        ("nick", "text", "textbox", None, "Nickname", False, True),
        ("plan", "select-one", "combobox", None, "", False, True),
        ("bio", "textarea", "textbox", None, "", False, True),
        ("terms", "checkbox", "checkbox", "I agree", "I agree", True, True),
        ("size", "radio", "radio", "Small", "Small", False, True),
        ("size", "radio", "radio", "Large", "Large", False, True),
        ("token", "hidden", None, None, "", False, False),
        ("old", "text", "textbox", None, "", False, False),
    ]
    email, password, age, code, nick, plan, bio, terms, small, _, token, old = signup.fields
    assert (email.css, email.placeholder, email.id) == ("#email", "you@example.com", "email")
    assert password.value is None and password.min_length == 8
    assert (age.min, age.max) == ("18", "120")
    assert (code.pattern, code.max_length) == ("[A-Z]{4}", 4)
    assert nick.placeholder == "Nickname"
    assert plan.test_id == "plan" and plan.value == "pro"
    assert plan.options == [
        FieldOption(value="free", label="Free", selected=False),
        FieldOption(value="pro", label="Pro", selected=True),
    ]
    assert bio.readonly and bio.tag == "textarea"
    assert (terms.value, small.css) == ("yes", 'input[name="size"][value="s"]')
    assert token.value == "abc" and old.disabled
    assert (search.method, search.action, search.id) == ("get", found.url, None)
    assert search.fields[0].role == "searchbox"
    assert search.submit is not None and search.submit.name == "Submit"


async def test_links_headings_and_names(browsers: Browsers, serve: ServeApp) -> None:
    body = """
    <h1 style="display:none">Hidden title</h1>
    <nav><a href="/a" aria-label="Go to A">A</a> <a href="/b"><img src="data:," alt="Bee"></a>
    <a href="/c" title="See">   </a> <a href="/d">Dee <span aria-hidden="true">&rarr;</span></a>
    <a href="/e" style="display:none">Hidden</a> <a href="/f" target="_blank">New tab</a>
    <span id="lbl">Labelled</span><a href="/g" aria-labelledby="lbl">x</a>
    <a href="/h">Spl<b>it</b> <em>word</em></a></nav>
    <main><h1>Main <small>title</small></h1></main>"""
    html = f"<!doctype html><title>  Links \n page </title><body>{body}</body>"
    found = await _only_page(browsers, serve, html)
    assert found.title == "Links page"
    assert found.heading == "Main title"
    names = [(link.url.removeprefix(found.url), link.name, link.visible) for link in found.links]
    assert names == [
        ("a", "Go to A", True),
        ("b", "Bee", True),
        ("c", "See", False),
        ("d", "Dee", True),
        ("e", "Hidden", False),
        ("f", "New tab", True),
        ("g", "Labelled", True),
        ("h", "Split word", True),
    ]
    assert [link.new_tab for link in found.links] == [False] * 5 + [True, False, False]


async def test_non_html_documents_are_recorded_not_read(
    browsers: Browsers, serve: ServeApp
) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/data.json", "/doc.pdf", "/pic.png", "/notes.txt"),
        "/data.json": respond('{"links": "<a href=/secret>x</a>"}', "application/json"),
        "/doc.pdf": respond(b"%PDF-1.4\n%%EOF\n", "application/pdf"),
        "/pic.png": respond(b"\x89PNG\r\n\x1a\n", "image/png"),
        "/notes.txt": respond("<a href='/secret'>x</a>", "text/plain"),
    }
    result, site, base = await crawl_routes(browsers, serve, routes)
    types = [(p.url.removeprefix(base), p.status, p.content_type, p.links) for p in result.pages]
    assert types == [
        ("/", 200, "text/html", types[0][3]),
        ("/data.json", 200, "application/json", []),
        ("/doc.pdf", 200, "application/pdf", []),
        ("/pic.png", 200, "image/png", []),
        ("/notes.txt", 200, "text/plain", []),
    ]
    assert all(p.console_errors == [] and p.error is None for p in result.pages)
    assert "/secret" not in site.hits
