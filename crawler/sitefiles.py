"""robots.txt and sitemap.xml: the files a site publishes for crawlers.

robots.txt is parsed by ``urllib.robotparser``: the group for the crawler's
agent applies, else the ``*`` group. The agent is the configured
``user_agent`` (robotparser matches on its part before the first ``/``), or
``aegisd`` when Chromium's own user agent is kept. robotparser's matching is
simpler than RFC 9309's: within a group the first rule whose path is a prefix
of the URL's wins (not the longest), and ``*``/``$`` inside paths are not
understood. As RFC 9309 asks, a
robots.txt that answers 4xx (or not at all) allows everything, and one that
answers 5xx disallows everything.

Sitemaps: ``/sitemap.xml`` and the ``Sitemap:`` lines of robots.txt (relative
ones resolved against the site), gzipped
or not; a sitemap index is followed to the sitemaps it lists (at most
``MAX_SITEMAPS`` files). Only same-origin URLs are kept, in document order.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

from playwright.async_api import APIRequestContext
from playwright.async_api import Error as PlaywrightError

from crawler.urls import normalise_url, same_origin

ROBOTS_AGENT = "aegisd"
MAX_SITEMAPS = 20
MAX_SITEMAP_URLS = 50_000
_MAX_ROBOTS_BYTES = 512 * 1024
_MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_MAX_REDIRECTS = 5
_DISALLOW_ALL = ["User-agent: *", "Disallow: /"]


@dataclass(frozen=True)
class RobotsRules:
    """What a site's robots.txt allows one user agent to fetch."""

    parser: RobotFileParser
    agent: str

    def allows(self, url: str) -> bool:
        """Whether the agent may fetch ``url``."""
        return self.parser.can_fetch(self.agent, url)

    @property
    def sitemaps(self) -> list[str]:
        """The ``Sitemap:`` URLs the file lists."""
        return list(self.parser.site_maps() or [])


@dataclass(frozen=True)
class SitemapUrl:
    """A page URL found in a sitemap."""

    url: str
    sitemap: str
    """The sitemap file that lists it."""


def robots_agent(user_agent: str | None) -> str:
    """The name robots.txt groups are matched against for a crawl with ``user_agent``."""
    return user_agent or ROBOTS_AGENT


async def fetch_robots(
    request: APIRequestContext, origin: str, *, agent: str, timeout_s: float
) -> RobotsRules:
    """Fetch and parse ``origin``'s robots.txt."""
    url = f"{origin}/robots.txt"
    status, body = await _fetch(request, url, timeout_s, _MAX_ROBOTS_BYTES)
    if status is not None and 200 <= status < 300:
        lines = body.decode("utf-8-sig", errors="replace").splitlines()
    elif status is not None and status >= 500:
        lines = _DISALLOW_ALL
    else:
        lines = []
    parser = RobotFileParser(url)
    parser.parse(lines)
    return RobotsRules(parser=parser, agent=agent)


async def fetch_sitemap_urls(
    request: APIRequestContext, origin: str, listed: Sequence[str], *, timeout_s: float
) -> list[SitemapUrl]:
    """Page URLs on ``origin`` from ``/sitemap.xml`` and the ``listed`` sitemaps, in order."""
    candidates = (normalise_url(u, f"{origin}/") for u in ["/sitemap.xml", *listed])
    queue = deque(dict.fromkeys(u for u in candidates if u and same_origin(u, origin)))
    seen = set(queue)
    found: dict[str, SitemapUrl] = {}
    for _ in range(MAX_SITEMAPS):
        if not queue or len(found) >= MAX_SITEMAP_URLS:
            break
        sitemap = queue.popleft()
        status, body = await _fetch(request, sitemap, timeout_s, _MAX_SITEMAP_BYTES)
        if status is None or not 200 <= status < 300:
            continue
        kind, locations = parse_sitemap(body)
        for location in locations:
            url = normalise_url(location)
            if url is None or not same_origin(url, origin):
                continue
            if kind == "sitemapindex" and url not in seen:
                seen.add(url)
                queue.append(url)
            elif kind == "urlset" and url not in found:
                found[url] = SitemapUrl(url=url, sitemap=sitemap)
    return list(found.values())[:MAX_SITEMAP_URLS]


def parse_sitemap(body: bytes) -> tuple[str, list[str]]:
    """The root element's name (``urlset`` or ``sitemapindex``) and the ``<loc>`` texts."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, _MAX_SITEMAP_BYTES)
        except zlib.error:
            return "", []
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "", []
    locations = [
        child.text.strip()
        for entry in root
        for child in entry
        if _local_name(child.tag) == "loc" and child.text and child.text.strip()
    ]
    return _local_name(root.tag), locations


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


async def _fetch(
    request: APIRequestContext, url: str, timeout_s: float, limit: int
) -> tuple[int | None, bytes]:
    """Status and (for 2xx) body of a GET; ``None`` status when no response came."""
    try:
        response = await asyncio.wait_for(
            request.get(url, timeout=timeout_s * 1000, max_redirects=_MAX_REDIRECTS),
            timeout_s,
        )
    except (PlaywrightError, TimeoutError):
        return None, b""
    try:
        body = await response.body() if response.ok else b""
    except PlaywrightError:
        body = b""
    finally:
        with suppress(PlaywrightError):
            await response.dispose()
    return response.status, body[:limit]
