"""Fixtures of the audit tests, made once for the session: the audit fixture site, a
daemon holding two audited crawls of it (the API and the dashboard read them), the pages
of its crawl of the unchanged site and the suite generated from them.

axe-core costs about a second of CPU per page: the tests share these crawls, and crawl
anew only where they look at something else (settings, a page at a time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from crawler.audits.models import AUDIT_CATEGORIES
from crawler.generate import generate_suite
from crawler.models import PageResult
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


@pytest.fixture(scope="session")
def audited_pages(audited_daemon: AuditedDaemon) -> list[PageResult]:
    """The pages of one audited crawl of the unchanged site (the daemon's second crawl)."""
    return [PageResult.model_validate(page) for page in audited_daemon.current["results"]["pages"]]


@pytest.fixture(scope="session")
def audit_suite(audit_site_server: AuditSite, audited_pages: list[PageResult]) -> list[Case]:
    """The suite generated from that crawl."""
    return generate_suite(audited_pages, audit_site_server.base_url)
