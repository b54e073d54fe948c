"""The crawl's walk: page sets, depths, limits, sitemap, robots, patterns, dedupe, order."""

from __future__ import annotations

import gc
import random
import socket
from types import FrameType

import pytest
from aiohttp import web

from crawler.engine import crawl
from crawler.errors import StartPageUnreachable, StartUrlDisallowed
from crawler.models import CrawlOptions, PageResult
from crawler.visit import PageVisit
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.crawler.sites import (
    CrawlSite,
    Route,
    crawl_routes,
    linking,
    paths,
    redirect,
    respond,
)
from tests.sites import page

# / -> /a, /b; /a -> /c, /b; /b -> /d; /c -> /e; /d -> /; /e -> /f
TREE = {
    "/": linking("Home", "/a", "/b"),
    "/a": linking("A", "/c", "/b"),
    "/b": linking("B", "/d"),
    "/c": linking("C", "/e"),
    "/d": linking("D", "/"),
    "/e": linking("E", "/f"),
    "/f": linking("F"),
}


async def test_breadth_first_pages_depths_and_referrers(
    browsers: Browsers, serve: ServeApp
) -> None:
    result, site, base = await crawl_routes(browsers, serve, TREE, depth=3)
    assert paths(result, base) == [("/", 0), ("/a", 1), ("/b", 1), ("/c", 2), ("/d", 2), ("/e", 3)]
    referrers = {p.url.removeprefix(base): p.referrer for p in result.pages}
    assert referrers == {
        "/": None,
        "/a": base + "/",
        "/b": base + "/",
        "/c": base + "/a",
        "/d": base + "/b",
        "/e": base + "/c",
    }
    assert result.stopped_reason == "completed"
    assert "/f" not in site.hits
    assert site.checked == ["/f"]  # beyond the depth: checked with one request, not visited
    assert result.links_checked == 1
    assert all(p.status == 200 and p.error is None for p in result.pages)


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(0, ["/"]), (1, ["/", "/a", "/b"]), (2, ["/", "/a", "/b", "/c", "/d"])],
)
async def test_depth_cut_off(
    browsers: Browsers, serve: ServeApp, depth: int, expected: list[str]
) -> None:
    result, _, base = await crawl_routes(browsers, serve, TREE, depth=depth)
    assert [path for path, _ in paths(result, base)] == expected


async def test_max_pages_is_exact(browsers: Browsers, serve: ServeApp) -> None:
    result, site, base = await crawl_routes(browsers, serve, TREE, depth=10, max_pages=4)
    assert [path for path, _ in paths(result, base)] == ["/", "/a", "/b", "/c"]
    assert result.stopped_reason == "max_pages"
    assert "/e" not in site.hits

    everything, _, _ = await crawl_routes(browsers, serve, TREE, depth=10, max_pages=7)
    assert len(everything.pages) == 7
    assert everything.stopped_reason == "completed"


async def test_external_and_special_links_are_recorded_not_followed(
    browsers: Browsers, serve: ServeApp
) -> None:
    elsewhere = CrawlSite({"/": page("Elsewhere")})
    other = await serve(elsewhere.app())
    home = page(
        "Home",
        f'<a href="{other}/">Partner</a> <a href="mailto:team@example.com">Mail us</a> '
        '<a href="tel:+15550100">Call</a> <a href="javascript:void(0)">Menu</a> '
        '<a href="/report.pdf" download>Report</a> <a href="/next">Next</a>',
    )
    result, site, base = await crawl_routes(browsers, serve, {"/": home, "/next": page("Next")})
    assert [path for path, _ in paths(result, base)] == ["/", "/next"]
    kinds = [(link.name, link.kind, link.internal) for link in result.pages[0].links]
    assert kinds == [
        ("Partner", "page", False),
        ("Mail us", "mailto", False),
        ("Call", "tel", False),
        ("Menu", "javascript", False),
        ("Report", "download", True),
        ("Next", "page", True),
    ]
    assert result.pages[0].links[1].url == "mailto:team@example.com"
    assert elsewhere.hits == []
    assert "/report.pdf" not in site.hits


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>{base}/a</loc></url>
  <url><loc>{base}/hidden</loc><image:image><image:loc>{base}/img.png</image:loc></image:image></url>
  <url><loc>http://other.invalid/page</loc></url>
</urlset>"""

SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{base}/sitemaps/deep.xml</loc></sitemap>
</sitemapindex>"""

DEEP_SITEMAP = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/deep</loc></url></urlset>"""


async def test_sitemap_seeds_unlinked_pages(browsers: Browsers, serve: ServeApp) -> None:
    site = CrawlSite({})
    base = await serve(site.app())
    site.routes.update(
        {
            "/": linking("Home", "/a"),
            "/a": linking("A", "/b"),
            "/b": page("B"),
            "/hidden": page("Hidden"),
            "/deep": page("Deep"),
            "/robots.txt": respond("Sitemap: /sitemap-index.xml\n", "text/plain"),
            "/sitemap.xml": respond(SITEMAP.format(base=base), "application/xml"),
            "/sitemap-index.xml": respond(SITEMAP_INDEX.format(base=base), "application/xml"),
            "/sitemaps/deep.xml": respond(DEEP_SITEMAP.format(base=base), "application/xml"),
        }
    )
    options = CrawlOptions(start_url=base + "/", page_timeout_s=5)
    result = await crawl(browsers, options)
    assert paths(result, base) == [("/", 0), ("/a", 1), ("/hidden", 1), ("/deep", 1), ("/b", 2)]
    assert result.pages[2].referrer == base + "/sitemap.xml"
    assert result.pages[3].referrer == base + "/sitemaps/deep.xml"
    assert "/img.png" not in site.hits

    quick = await crawl(browsers, CrawlOptions(start_url=base + "/", mode="quick"))
    assert paths(quick, base) == [("/", 0), ("/a", 1)]


async def test_broken_links_name_their_page(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": page(
            "Home",
            '<a href="/gone">Old news</a> <a href="/crash">Shop</a> <a href="/loop">Loop</a> '
            '<a href="/ok">Fine</a> <a href="/moved">Moved</a>',
        ),
        "/ok": page("Fine", '<a href="/gone">Still old</a> <a href="/gone">Twice</a>'),
        "/crash": respond(page("Oops"), status=500),
        "/loop": redirect("/loop"),
        "/moved": redirect("/ok"),
    }
    result, _, base = await crawl_routes(browsers, serve, routes)
    broken = [
        (b.url.removeprefix(base), b.name, b.status, b.found_on.removeprefix(base))
        for b in result.broken_links
    ]
    assert broken == [
        ("/gone", "Old news", 404, "/"),
        ("/crash", "Shop", 500, "/"),
        ("/loop", "Loop", None, "/"),
        ("/gone", "Still old", 404, "/ok"),
    ]
    loop = result.broken_links[2]
    assert loop.error is not None and "REDIRECT" in loop.error
    by_path = {p.url.removeprefix(base): p for p in result.pages}
    assert by_path["/loop"].status is None
    assert by_path["/crash"].status == 500


ROBOTS = "User-agent: aegisd\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n"


async def test_robots_txt_obeyed_or_ignored(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/public", "/private/area"),
        "/public": page("Public"),
        "/private/area": page("Private"),
        "/robots.txt": respond(ROBOTS, "text/plain"),
    }
    obeyed, site, base = await crawl_routes(browsers, serve, routes)
    assert [path for path, _ in paths(obeyed, base)] == ["/", "/public"]
    assert "/private/area" not in site.hits

    ignored, _, _ = await crawl_routes(browsers, serve, routes, respect_robots_txt=False)
    assert len(ignored.pages) == 3

    with pytest.raises(StartUrlDisallowed):
        await crawl_routes(browsers, serve, routes, user_agent="OtherBot/1.0")


async def test_include_and_exclude_patterns(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/blog/1", "/shop/1", "/blog/draft-2", "/blog/3"),
        "/blog/1": page("One"),
        "/blog/3": page("Three"),
        "/shop/1": page("Shop"),
        "/blog/draft-2": page("Draft"),
    }
    result, site, base = await crawl_routes(
        browsers, serve, routes, include_patterns=["/blog/"], exclude_patterns=["draft"]
    )
    assert [path for path, _ in paths(result, base)] == ["/", "/blog/1", "/blog/3"]
    assert "/shop/1" not in site.hits and "/blog/draft-2" not in site.hits


async def test_index_documents_and_redirects_count_once(
    browsers: Browsers, serve: ServeApp
) -> None:
    docs = page("Docs")
    routes: dict[str, Route] = {
        "/": linking("Home", "/docs/", "/docs/index.html", "/guide/", "/guide/index.htm", "/old"),
        "/docs/": docs,
        "/docs/index.html": docs,
        "/guide/": page("Guide"),
        "/guide/index.htm": page("Guide index"),
        "/old": redirect("/docs/", 301),
    }
    result, site, base = await crawl_routes(browsers, serve, routes)
    assert [path for path, _ in paths(result, base)] == [
        "/",
        "/docs/",
        "/guide/",
        "/guide/index.htm",
    ]
    assert "/docs/index.html" in site.hits and "/old" in site.hits


async def test_redirect_gives_final_url(browsers: Browsers, serve: ServeApp) -> None:
    routes: dict[str, Route] = {
        "/": linking("Home", "/moved"),
        "/moved": redirect("/new"),
        "/new": page("New"),
    }
    result, _, base = await crawl_routes(browsers, serve, routes)
    moved = result.pages[1]
    assert (moved.url, moved.redirected_from, moved.title) == (
        base + "/new",
        base + "/moved",
        "New",
    )


async def test_url_spellings_are_one_page(browsers: Browsers, serve: ServeApp) -> None:
    site = CrawlSite({"/a": page("A")})
    base = await serve(site.app())
    upper = base.replace("http://", "HTTP://")
    site.routes["/"] = linking("Home", "/a#top", "/a", "./a#x", "/x/../a", f"{upper}/a", "/a?")
    result = await crawl(browsers, CrawlOptions(start_url=base + "/#intro", page_timeout_s=5))
    assert [p.url for p in result.pages] == [base + "/", base + "/a"]
    assert {link.url for link in result.pages[0].links} == {base + "/a"}
    assert site.hits.count("/a") == 1


def _random_site(seed: int, pages: int) -> dict[str, str]:
    rng = random.Random(seed)
    routes = {}
    for i in range(pages):
        targets = sorted({f"/p{rng.randrange(pages)}" for _ in range(3)})
        routes["/" if i == 0 else f"/p{i}"] = linking(f"Page {i}", *targets)
    return routes


async def test_same_site_same_result_whatever_the_timing(
    browsers: Browsers, serve: ServeApp
) -> None:
    site = CrawlSite(_random_site(7, 40), jitter_s=0.05)
    base = await serve(site.app())
    options = CrawlOptions(start_url=base + "/", depth=4, max_pages=12, page_timeout_s=5)

    def comparable(pages: list[PageResult]) -> list[dict[str, object]]:
        return [p.model_dump(exclude={"load_time"}) for p in pages]

    first = await crawl(browsers, options)
    second = await crawl(browsers, options)
    assert comparable(first.pages) == comparable(second.pages)
    assert len(first.pages) == 12
    depths = [p.depth for p in first.pages]
    assert depths == sorted(depths)


async def test_pages_go_to_on_page_and_are_not_held(browsers: Browsers, serve: ServeApp) -> None:
    seen: list[PageResult] = []
    still_held: list[str] = []
    progress: list[tuple[int, int]] = []

    async def on_page(result_page: PageResult) -> None:
        # The crawl let go of each earlier page: ``seen`` alone holds it, and the visit
        # that made it (which has all the page's data too) is gone.
        urls = {earlier.url for earlier in seen}
        for found in gc.get_objects():
            if isinstance(found, PageVisit) and found.final_url in urls:
                still_held.append(f"visit {found.final_url}")
        for earlier in seen:
            others = [r for r in gc.get_referrers(earlier) if r is not seen]
            if [r for r in others if not isinstance(r, FrameType)]:
                still_held.append(f"page {earlier.url}")
        seen.append(result_page)

    async def on_progress(found: int, crawled: int) -> None:
        progress.append((found, crawled))

    # A broken link found by visiting it (/missing, at depth 2) and one found by a
    # request (/gone, linked from the depth limit): both need the pages' links at the end.
    routes = {**TREE, "/b": linking("B", "/d", "/missing"), "/d": linking("D", "/", "/gone")}
    base = await serve(CrawlSite(routes).app())
    options = CrawlOptions(start_url=base + "/", depth=2, page_timeout_s=5)
    streamed = await crawl(browsers, options, on_page=on_page, on_progress=on_progress)
    held = await crawl(browsers, options)

    assert streamed.pages == [] and still_held == []
    assert streamed.pages_crawled == held.pages_crawled == len(held.pages) == len(seen) == 6

    def comparable(pages: list[PageResult]) -> list[dict[str, object]]:
        return [p.model_dump(exclude={"load_time"}) for p in pages]

    assert comparable(seen) == comparable(held.pages)
    broken = [(b.url.removeprefix(base), b.status, b.found_on.removeprefix(base))
              for b in streamed.broken_links]  # fmt: skip
    assert broken == [("/missing", 404, "/b"), ("/gone", 404, "/d")]
    assert streamed.broken_links == held.broken_links
    assert progress[0] == (1, 0)
    assert progress[-1] == (6, 6)
    assert [c for _, c in progress] == sorted(c for _, c in progress)
    assert all(found >= crawled for found, crawled in progress)


async def test_start_page_redirect_to_another_origin_moves_the_crawl(
    browsers: Browsers, serve: ServeApp
) -> None:
    target = CrawlSite({"/": linking("New home", "/x"), "/x": page("X")})
    new_base = await serve(target.app())
    result, _, base = await crawl_routes(browsers, serve, {"/": redirect(new_base + "/")})
    assert [p.url for p in result.pages] == [new_base + "/", new_base + "/x"]
    assert result.pages[0].redirected_from == base + "/"


async def test_unreachable_start_page_fails_the_crawl(browsers: Browsers) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = CrawlOptions(start_url=f"http://127.0.0.1:{port}/", page_timeout_s=5)
    with pytest.raises(StartPageUnreachable, match="ERR_CONNECTION_REFUSED"):
        await crawl(browsers, options)


async def test_headers_and_user_agent_are_sent(browsers: Browsers, serve: ServeApp) -> None:
    result, site, _ = await crawl_routes(
        browsers,
        serve,
        {"/": linking("Home", "/a"), "/a": page("A")},
        headers={"X-Token": "secret"},
        user_agent="aegis-test/1.0",
    )
    assert len(result.pages) == 2
    assert site.hits[0] == "/robots.txt"
    assert {h.get("X-Token") for h in site.headers} == {"secret"}
    assert {h.get("User-Agent") for h in site.headers} == {"aegis-test/1.0"}


async def test_quick_mode_takes_the_start_page_and_its_links(
    browsers: Browsers, serve: ServeApp
) -> None:
    many = [f"/p{i}" for i in range(22)]
    routes: dict[str, Route] = {"/": linking("Home", *many)}
    routes.update({path: linking(path, "/deeper") for path in many})
    result, site, base = await crawl_routes(browsers, serve, routes, mode="quick", depth=5)
    assert paths(result, base) == [("/", 0)] + [(path, 1) for path in many[:19]]
    assert result.stopped_reason == "max_pages"
    assert "/deeper" not in site.hits


async def test_links_not_visited_are_checked_with_one_request(
    browsers: Browsers, serve: ServeApp
) -> None:
    elsewhere = CrawlSite({"/": page("Partner")})
    other = await serve(elsewhere.app())

    async def no_head(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(status=405)
        return web.Response(status=410)

    routes: dict[str, Route] = {
        "/": page(
            "Home",
            '<a href="/next">Next</a> <a href="/file.zip" download>File</a> '
            f'<a href="{other}/gone">Partner</a> <a href="{other}/">Partner home</a>',
        ),
        "/next": linking("Next", "/deep", "/old-api", "/fine"),
        "/file.zip": respond(b"PK", "application/zip"),
        "/old-api": no_head,
        "/fine": page("Fine"),
    }
    result, site, base = await crawl_routes(
        browsers, serve, routes, depth=1, headers={"X-Token": "secret"}
    )
    broken = [(b.url, b.status, b.found_on, b.internal) for b in result.broken_links]
    assert broken == [(base + "/deep", 404, base + "/next", True),
                      (base + "/old-api", 410, base + "/next", True)]  # fmt: skip
    assert sorted(site.checked) == ["/deep", "/file.zip", "/fine", "/old-api"]
    assert "/old-api" in site.hits  # HEAD refused: asked again with GET
    assert result.links_checked == 4 and elsewhere.hits == elsewhere.checked == []

    external, _, base = await crawl_routes(
        browsers, serve, routes, depth=0, check_external_links=True, headers={"X-Token": "s"}
    )
    assert [(b.url, b.status, b.internal) for b in external.broken_links] == [
        (other + "/gone", 404, False)
    ]
    assert sorted(elsewhere.checked) == ["/", "/gone"]
    assert all("X-Token" not in headers for headers in elsewhere.headers)


async def test_new_kinds_of_pages_come_before_query_variants_and_rows(
    browsers: Browsers, serve: ServeApp
) -> None:
    sorts = [f"/list?o={n}" for n in range(1, 9)]
    routes: dict[str, Route] = {
        "/": linking("Home", "/list", "/about"),
        "/list": linking("List", *sorts, "/list/1", "/list/2", "/list/3", "/list/item"),
        "/list/1": page("Row 1"),
        "/list/2": page("Row 2"),
        "/list/3": page("Row 3"),
        "/list/item": linking("Item", "/list/item/notes"),
        "/list/item/notes": page("Notes"),
        "/about": page("About"),
    }
    routes.update({sort: linking(sort, *sorts) for sort in sorts})

    result, site, base = await crawl_routes(browsers, serve, routes, max_pages=6)

    # One row of the list, then the item and its notes (depth 3) come before the other
    # rows and the sort orders (depth 2).
    assert paths(result, base) == [
        ("/", 0), ("/list", 1), ("/about", 1), ("/list/1", 2), ("/list/item", 2),
        ("/list/item/notes", 3),
    ]  # fmt: skip
    assert result.stopped_reason == "max_pages"
    everything, site, base = await crawl_routes(browsers, serve, routes, max_query_variants=3)
    assert [path for path, _ in paths(everything, base) if "?" in path] == sorts[:3]
    assert sorted(site.checked) == sorted(sorts[3:])
