"""Fixtures of the audit tests: one audit fixture server and one audited crawl of it for
the whole session, the suite generated from that crawl, and a daemon holding two audited
crawls of it (for the API and the dashboard)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from crawler.audits.audit import finish_audits
from crawler.audits.models import AUDIT_CATEGORIES
from crawler.engine import crawl
from crawler.generate import generate_suite
from crawler.models import CrawlOptions, PageResult
from runner.browsers import Browsers
from runner.steps import Case
from tests.apiclient import Daemon, make_config, running
from tests.audits.site import CHANGES, LABELLED, audit_site

JOB_WITHIN_S = 240
"""For a crawl through the daemon to finish on a loaded machine."""


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


async def daemon_crawl(daemon: Daemon, project_id: str, **fields: Any) -> dict[str, Any]:
    """Crawl the project through the daemon's API; the completed crawl."""
    answer = await daemon.call("POST", "/crawls", json={"project_id": project_id, **fields})
    assert answer.status == 201, answer.body
    crawl: dict[str, Any] = await daemon.finished(f"/crawls/{answer.data['id']}", JOB_WITHIN_S)
    assert crawl["status"] == "completed", crawl
    return crawl


@dataclass(frozen=True)
class AuditedDaemon:
    """A daemon with a project whose crawls audited the site twice, and another project."""

    daemon: Daemon
    project: dict[str, Any]
    previous: dict[str, Any]
    """The first crawl: three pages (``/``, ``/gallery``, ``/contact``) of the site changed
    by ``new violation`` (an image without alt on ``/``) and ``labelled`` (``/contact``'s
    field labelled)."""

    current: dict[str, Any]
    """The second crawl, of the whole unchanged site: ``/``'s image findings are fixed,
    ``/contact``'s ``label`` is new."""

    other_project: dict[str, Any]


@pytest.fixture(scope="session")
async def audited_daemon(
    tmp_path_factory: pytest.TempPathFactory, browsers: Browsers, audit_site_server: AuditSite
) -> AsyncIterator[AuditedDaemon]:
    config = make_config(tmp_path_factory.mktemp("audited-daemon"))
    async with running(config, browsers) as daemon:
        base = audit_site_server.base_url
        project = await daemon.project(
            "Audited", base + "/", settings={"audits": list(AUDIT_CATEGORIES)}
        )
        with audit_site_server.changed("new violation", LABELLED):
            previous = await daemon_crawl(daemon, project["id"], max_pages=3, generate_suite=False)
        current = await daemon_crawl(daemon, project["id"], generate_suite=False)
        other = await daemon.project("Other", base + "/")
        yield AuditedDaemon(daemon, project, previous, current, other)
