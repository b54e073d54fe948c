"""robots.txt rules and sitemap parsing, against files served by the test."""

from __future__ import annotations

import gzip

import pytest

from crawler.sitefiles import ROBOTS_AGENT, fetch_robots, parse_sitemap, robots_agent
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.crawler.sites import CrawlSite, Route, respond

URLSET = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> http://h/a </loc><lastmod>2024-01-01</lastmod></url>
  <url><loc>http://h/b</loc><image:image><image:loc>http://h/i.png</image:loc></image:image></url>
  <url><loc></loc></url>
</urlset>"""

INDEX = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://h/s1.xml</loc></sitemap><sitemap><loc>http://h/s2.xml.gz</loc></sitemap>
</sitemapindex>"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (URLSET, ("urlset", ["http://h/a", "http://h/b"])),
        (gzip.compress(URLSET), ("urlset", ["http://h/a", "http://h/b"])),
        (INDEX, ("sitemapindex", ["http://h/s1.xml", "http://h/s2.xml.gz"])),
        (b"<html><body>not a sitemap", ("", [])),
        (b"\x1f\x8bbroken gzip", ("", [])),
        (b"", ("", [])),
    ],
)
def test_parse_sitemap(body: bytes, expected: tuple[str, list[str]]) -> None:
    assert parse_sitemap(body) == expected


def test_robots_agent() -> None:
    assert robots_agent(None) == ROBOTS_AGENT == "aegisd"
    assert (
        robots_agent("ShopBot/3.1 (+https://example.com)") == "ShopBot/3.1 (+https://example.com)"
    )


ROBOTS = """# comment
User-agent: ShopBot
Disallow: /

User-agent: *
Allow: /admin/public
Disallow: /admin
Sitemap: http://h/sitemap-news.xml
"""


@pytest.mark.parametrize(
    ("route", "agent", "allowed", "denied"),
    [
        (respond(ROBOTS, "text/plain"), "aegisd", ["/", "/admin/public/x"], ["/admin/", "/adminx"]),
        (respond(ROBOTS, "text/plain"), "ShopBot/3.1", [], ["/", "/page"]),
        (respond("nope", "text/plain", status=404), "aegisd", ["/", "/admin/"], []),
        (respond("down", "text/plain", status=503), "aegisd", [], ["/", "/page"]),
    ],
)
async def test_robots_rules(
    browsers: Browsers,
    serve: ServeApp,
    route: Route,
    agent: str,
    allowed: list[str],
    denied: list[str],
) -> None:
    base = await serve(CrawlSite({"/robots.txt": route}).app())
    async with browsers.context() as context:
        rules = await fetch_robots(context.request, base, agent=agent, timeout_s=5)
    assert [path for path in allowed + denied if rules.allows(base + path)] == allowed


async def test_robots_lists_sitemaps(browsers: Browsers, serve: ServeApp) -> None:
    base = await serve(CrawlSite({"/robots.txt": respond(ROBOTS, "text/plain")}).app())
    async with browsers.context() as context:
        rules = await fetch_robots(context.request, base, agent="aegisd", timeout_s=5)
    assert rules.sitemaps == ["http://h/sitemap-news.xml"]
