"""One tab serves URL after URL: nothing one page does shows up in the next page's data."""

from __future__ import annotations

import pytest

from crawler.models import FailedRequest
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.crawler.sites import Route, crawl_routes, linking, respond, stalled
from tests.sites import page

# Each tab has its own sessionStorage: the count tells which visit of its tab a page was.
_COUNT_VISITS = (
    "const n = Number(sessionStorage.getItem('n') || 0) + 1; sessionStorage.setItem('n', n);"
    "document.querySelector('h1').textContent = `visit ${n}`;"
)
TIMEOUT_S = 2.0


def _counted(title: str, body: str = "", script: str = "") -> str:
    return page(title, body, script=_COUNT_VISITS + script)


async def test_one_tab_serves_page_after_page(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {"/": linking("Home", "/a", "/b", "/c")}
    routes.update({path: _counted(path) for path in ("/a", "/b", "/c")})
    result, _, _ = await crawl_routes(browsers, serve, routes, concurrency=1)
    assert [p.heading for p in result.pages[1:]] == ["visit 1", "visit 2", "visit 3"]


async def test_what_a_page_does_stays_with_it(browsers: Browsers, serve: ServeApp) -> None:
    noisy = (
        "setInterval(() => console.error('still here'), 5);"
        "setTimeout(() => { window.open('/popup'); fetch('/gone'); }, 0);"
        "window.onbeforeunload = (e) => { e.preventDefault(); e.returnValue = 'stay'; };"
        "alert('hi');"
    )
    routes: dict[str, Route] = {
        "/": linking("Home", "/noisy", "/quiet"),
        "/noisy": _counted("Noisy", '<img src="/missing.png">', noisy),
        "/quiet": _counted("Quiet"),
        "/popup": page("Popup"),
    }
    result, _, base = await crawl_routes(browsers, serve, routes, concurrency=1)
    noisy_page, quiet = result.pages[1:]
    assert "still here" in noisy_page.console_errors
    assert (
        FailedRequest(url=base + "/missing.png", resource_type="image", status=404, error=None)
        in noisy_page.failed_requests
    )
    assert (quiet.title, quiet.heading) == ("Quiet", "visit 2")
    assert (quiet.console_errors, quiet.failed_requests) == ([], [])


@pytest.mark.parametrize(
    "trouble",
    [
        "setTimeout(() => { for (;;) {} }, 0);",  # a page that never answers the crawl again
        "",  # a page that is fine, before a URL that never answers
    ],
)
async def test_a_tab_that_went_wrong_is_replaced(
    browsers: Browsers, serve: ServeApp, trouble: str
) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/trouble", "/silent", "/after"),
        "/trouble": _counted("Trouble", script=trouble),
        "/silent": stalled(),
        "/after": _counted("After"),
    }
    result, _, base = await crawl_routes(
        browsers, serve, routes, concurrency=1, page_timeout_s=TIMEOUT_S
    )
    found = {p.url.removeprefix(base): p for p in result.pages}
    # The stalled URL is not mistaken for the page the tab still shows.
    silent = found["/silent"]
    assert (silent.status, silent.title, silent.links) == (None, "", [])
    assert silent.error is not None and "did not finish loading" in silent.error
    # A new tab serves the next URL.
    assert (found["/after"].title, found["/after"].heading) == ("After", "visit 1")


async def test_a_download_leaves_the_tab_to_the_next_page(
    browsers: Browsers, serve: ServeApp
) -> None:
    attachment = {"Content-Disposition": 'attachment; filename="data.csv"'}
    routes: dict[str, Route] = {
        "/": linking("Home", "/a", "/export", "/b"),
        "/a": _counted("A"),
        "/export": respond("a,b\n1,2\n", "text/csv", headers=attachment),
        "/b": _counted("B"),
    }
    result, _, base = await crawl_routes(browsers, serve, routes, concurrency=1)
    export, after = result.pages[2:]
    assert (export.url, export.status, export.content_type, export.download, export.title) == (
        base + "/export",
        200,
        "text/csv",
        True,
        "",
    )
    assert (after.title, after.heading) == ("B", "visit 2"), after
