"""Fixtures of the audit tests: one audit fixture server and one audited crawl of it for
the whole session, and the suite generated from that crawl."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from aiohttp import web

from crawler.audits.audit import finish_audits
from crawler.audits.models import AUDIT_CATEGORIES
from crawler.engine import crawl
from crawler.generate import generate_suite
from crawler.models import CrawlOptions, PageResult
from runner.browsers import Browsers
from runner.steps import Case
from tests.audits.site import CHANGES, audit_site


@dataclass(frozen=True)
class AuditSite:
    """The running audit fixture site."""

    app: web.Application
    base_url: str

    @contextmanager
    def changed(self, *changes: str) -> Iterator[None]:
        """Change the site in these ways for the duration of the block."""
        self.app[CHANGES].update(changes)
        try:
            yield
        finally:
            self.app[CHANGES].clear()


async def audited_crawl(browsers: Browsers, base_url: str) -> list[PageResult]:
    """Crawl the site with every audit, as the daemon does by default."""
    options = CrawlOptions(start_url=base_url + "/", audits=list(AUDIT_CATEGORIES))
    pages = (await crawl(browsers, options)).pages
    finish_audits(pages)
    return pages


@pytest.fixture(scope="session")
async def audit_site_server() -> AsyncIterator[AuditSite]:
    """The audit site on a free 127.0.0.1 port."""
    app = audit_site()
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield AuditSite(app, f"http://{host}:{port}")
    await runner.cleanup()


@pytest.fixture(scope="session")
async def audited_pages(audit_site_server: AuditSite, browsers: Browsers) -> list[PageResult]:
    """The pages of one audited crawl of the unchanged site."""
    return await audited_crawl(browsers, audit_site_server.base_url)


@pytest.fixture(scope="session")
def audit_suite(audit_site_server: AuditSite, audited_pages: list[PageResult]) -> list[Case]:
    """The suite generated from that crawl."""
    return generate_suite(audited_pages, audit_site_server.base_url)
