"""Hostile pages do not hang or crash a crawl; cancel, the time cap and a dead browser stop it
cleanly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import pytest

from crawler.analysis import LIMITS
from crawler.engine import crawl
from crawler.errors import BrowserFailed
from crawler.models import CrawlOptions, CrawlResult, PageResult
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.crawler.sites import (
    CrawlSite,
    Route,
    anchors,
    crawl_routes,
    endless,
    linking,
    paths,
    redirect,
    respond,
    stalled,
)
from tests.sites import page
from tests.test_faults import _kill_browser_processes

TIMEOUT_S = 2.0


async def _bounded_crawl(
    browsers: Browsers,
    serve: ServeApp,
    routes: Mapping[str, Route],
    *,
    timeout_s: float = TIMEOUT_S,
    **options: Any,
) -> tuple[CrawlResult, CrawlSite, str]:
    began = time.monotonic()
    crawled = await crawl_routes(browsers, serve, routes, page_timeout_s=timeout_s, **options)
    # A hostile page costs at most the load timeout plus as long again for analysis.
    assert time.monotonic() - began < 4 * timeout_s + 6
    return crawled


async def test_redirect_loop(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/a"),
        "/a": redirect("/b"),
        "/b": redirect("/a"),
    }
    result, _, base = await _bounded_crawl(browsers, serve, routes)
    loop = result.pages[1]
    assert (loop.url, loop.status) == (base + "/a", None)
    assert loop.error is not None and "ERR_TOO_MANY_REDIRECTS" in loop.error


async def test_pages_that_never_finish_loading(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/endless", "/stuck-image", "/silent", "/after"),
        "/endless": endless("<title>Endless</title><h1>Still coming</h1><a href='/deep'>D</a>"),
        "/stuck-image": page("Stuck", '<img src="/never.png"> <a href="/deep">Deep</a>'),
        "/never.png": stalled(),
        "/silent": stalled(),
        "/after": page("After"),
        "/deep": page("Deep"),
    }
    result, _, base = await _bounded_crawl(browsers, serve, routes)
    found = {p.url.removeprefix(base): p for p in result.pages}
    assert list(found) == ["/", "/endless", "/stuck-image", "/silent", "/after", "/deep"]
    for path, title in [("/endless", "Endless"), ("/stuck-image", "Stuck")]:
        slow = found[path]
        assert (slow.status, slow.title) == (200, title)
        assert slow.error is not None and "did not finish loading" in slow.error
        assert slow.load_time >= TIMEOUT_S * 1000
    assert found["/endless"].heading == "Still coming"
    assert found["/endless"].links[0].url == base + "/deep"
    assert found["/silent"].status is None
    assert [b.url.removeprefix(base) for b in result.broken_links] == ["/silent"]


async def test_busy_script_does_not_stall_the_crawl(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/busy", "/next"),
        "/busy": page("Busy", script="setTimeout(() => { for (;;) {} }, 0);"),
        "/next": page("Next"),
    }
    result, _, _ = await _bounded_crawl(browsers, serve, routes)
    assert [p.title for p in result.pages] == ["Home", "", "Next"]
    assert result.pages[1].status == 200
    assert result.pages[1].error is not None


async def test_dialogs_are_dismissed(browsers: Browsers, serve: ServeApp) -> None:
    script = (
        "alert('hi'); window.answer = confirm('sure?'); window.reply = prompt('name?');"
        "window.onbeforeunload = (e) => { e.preventDefault(); e.returnValue = 'stay'; };"
        "document.querySelector('h1').textContent = `${answer}/${reply}`;"
    )
    routes: dict[str, Route] = {
        "/": linking("Home", "/nag"),
        "/nag": page("Nag", anchors("/after"), script=script),
        "/after": page("After"),
    }
    result, _, _ = await _bounded_crawl(browsers, serve, routes)
    assert [p.title for p in result.pages] == ["Home", "Nag", "After"]
    assert result.pages[1].heading == "false/null"


async def test_popups_are_closed_not_crawled(browsers: Browsers, serve: ServeApp) -> None:
    script = "window.open('/popup'); window.open('/popup?again'); window.open('about:blank');"
    routes: dict[str, Route] = {
        "/": page("Home", anchors("/next"), script=script),
        "/next": page("Next"),
        "/popup": page("Popup", anchors("/from-popup")),
    }
    result, site, base = await _bounded_crawl(browsers, serve, routes)
    assert [path for path, _ in paths(result, base)] == ["/", "/next"]
    assert "/from-popup" not in site.hits


async def test_huge_page_is_capped(browsers: Browsers, serve: ServeApp) -> None:
    # Ten targets: each is link-checked once, however many links lead there.
    links = "".join(f'<a href="/n/{i % 10}">Link {i}</a>' for i in range(LIMITS["links"] + 500))
    forms = '<form><input name="q"></form>' * (LIMITS["forms"] + 5)
    filler = "<p>" + "lorem ipsum " * 200_000 + "</p>"
    # Caps, not timeouts, are under test here: give a loaded machine time to render.
    result, site, _ = await _bounded_crawl(
        browsers,
        serve,
        {"/": page("Huge", links + forms + filler)},
        depth=0,
        timeout_s=10,
    )
    huge = result.pages[0]
    assert huge.truncated and huge.title == "Huge"
    assert (len(huge.links), len(huge.forms)) == (LIMITS["links"], LIMITS["forms"])
    assert not any(hit.startswith("/n/") for hit in site.hits)
    assert len(site.checked) == result.links_checked == 10


async def test_downloads_are_recorded_not_rendered(browsers: Browsers, serve: ServeApp) -> None:
    attachment = {"Content-Disposition": 'attachment; filename="data.csv"'}
    routes: dict[str, Route] = {
        "/": linking("Home", "/export", "/archive.zip", "/after"),
        "/export": respond("a,b\n1,2\n", "text/csv", headers=attachment),
        "/archive.zip": respond(b"PK\x03\x04" + bytes(64), "application/octet-stream"),
        "/after": page("After"),
    }
    result, _, base = await _bounded_crawl(browsers, serve, routes)
    assert [
        (p.url.removeprefix(base), p.status, p.content_type, p.download) for p in result.pages
    ] == [
        ("/", 200, "text/html", False),
        ("/export", 200, "text/csv", True),
        ("/archive.zip", 200, "application/octet-stream", True),
        ("/after", 200, "text/html", False),
    ]
    assert all(p.error is None for p in result.pages)


def _calendar() -> dict[str, Route]:
    async def month(request: Any) -> Any:
        number = int(request.query.get("month", "0"))
        html = page(f"Month {number}", anchors(f"?month={number - 1}", f"?month={number + 1}"))
        return await respond(html)(request)

    return {"/": linking("Home", "/calendar?month=0"), "/calendar": month}


async def test_endless_calendar_is_bounded(browsers: Browsers, serve: ServeApp) -> None:
    by_pages, _, base = await _bounded_crawl(
        browsers, serve, _calendar(), depth=100, max_pages=9, max_query_variants=50
    )
    assert len(by_pages.pages) == 9
    assert by_pages.stopped_reason == "max_pages"

    by_variants, site, _ = await _bounded_crawl(browsers, serve, _calendar(), depth=100)
    months = [p.title for p in by_variants.pages[1:]]
    assert months == ["Month 0", "Month -1", "Month 1", "Month -2", "Month 2"]
    assert by_variants.stopped_reason == "completed"
    assert site.checked == ["/calendar?month=-3", "/calendar?month=3"]

    by_depth, _, _ = await _bounded_crawl(browsers, serve, _calendar(), depth=3)
    assert paths(by_depth, base.rsplit(":", 1)[0])[0][1] == 0
    assert [p.title for p in by_depth.pages] == [
        "Home",
        "Month 0",
        "Month -1",
        "Month 1",
        "Month -2",
        "Month 2",
    ]
    assert by_depth.stopped_reason == "completed"


async def test_max_duration_stops_the_crawl(browsers: Browsers, serve: ServeApp) -> None:
    many = [f"/p{i}" for i in range(30)]
    routes: dict[str, Route] = {"/": linking("Home", *many)}
    routes.update({path: respond(page(path), delay_s=1.0) for path in many})
    began = time.monotonic()
    result, _, base = await crawl_routes(
        browsers, serve, routes, max_duration_s=2.5, concurrency=2, page_timeout_s=TIMEOUT_S
    )
    assert time.monotonic() - began < 2.5 + 3
    assert result.stopped_reason == "max_duration"
    crawled = [path for path, _ in paths(result, base)]
    assert crawled == ["/", *many][: len(crawled)]
    assert len(crawled) < 10


async def test_cancel_closes_the_context(browsers: Browsers, serve: ServeApp) -> None:
    site = CrawlSite(
        {"/": linking("Home", "/slow1", "/slow2"), "/slow1": stalled(), "/slow2": stalled()}
    )
    base = await serve(site.app())
    browser = await browsers.get("chromium")
    contexts_before = len(browser.contexts)
    options = CrawlOptions(start_url=base + "/", page_timeout_s=30)
    task = asyncio.create_task(crawl(browsers, options))
    async with asyncio.timeout(15):
        await site.requested("/slow2")
    assert len(browser.contexts) == contexts_before + 1
    began = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - began < 5
    assert len(browser.contexts) == contexts_before


async def test_killed_browser_fails_the_crawl_promptly(browsers: Browsers, serve: ServeApp) -> None:
    many = [f"/p{i}" for i in range(20)]
    routes: dict[str, Route] = {"/": linking("Home", *many)}
    routes.update({path: respond(page(path), delay_s=0.4) for path in many})
    site = CrawlSite(routes)
    base = await serve(site.app())
    committed: list[PageResult] = []

    async def on_page(result: PageResult) -> None:
        committed.append(result)

    options = CrawlOptions(start_url=base + "/", page_timeout_s=3)
    task = asyncio.create_task(crawl(browsers, options, on_page=on_page))
    # Kill with home committed, tabs loading and more about to open: a tab being opened as
    # the browser died is what left crawls hanging.
    async with asyncio.timeout(30):
        await site.requested("/p3")
    assert _kill_browser_processes() > 0
    async with asyncio.timeout(3 * options.page_timeout_s):
        with pytest.raises(BrowserFailed, match=r"^the browser (closed|could not open a tab)"):
            await task
    assert committed[0].url == base + "/"
    assert all(p.status == 200 and p.error is None for p in committed)

    # The browser comes back for the next crawl.
    again, _, again_base = await crawl_routes(browsers, serve, routes, max_pages=5)
    assert [path for path, _ in paths(again, again_base)] == ["/", *many[:4]]
    assert all(p.status == 200 and p.error is None for p in again.pages)
