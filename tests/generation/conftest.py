"""Fixtures and builders of the generation tests.

One Acme server and one crawl of it serve the whole session; the builders write
crawl results by hand, to test generation rules one at a time. What the crawl
verifies in the live page is given as it would come out when everything is found:
links by role and name, labelled fields by label, other fields by CSS, buttons by
role and name, the heading by role and name; a GET form's submission landed on
its action.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from crawler.engine import crawl
from crawler.generate import generate_suite
from crawler.models import (
    CrawlOptions,
    FormButton,
    FormField,
    FormSubmission,
    PageForm,
    PageLink,
    PageResult,
)
from runner.browsers import Browsers
from runner.steps import Case, Target
from tests.generation.site import BREAKAGES, acme_site


@dataclass(frozen=True)
class Acme:
    """The running Acme site."""

    app: web.Application
    base_url: str

    @contextmanager
    def broken(self, *breakages: str) -> Iterator[None]:
        """Break the site in these ways for the duration of the block."""
        self.app[BREAKAGES].update(breakages)
        try:
            yield
        finally:
            self.app[BREAKAGES].clear()


async def crawl_pages(browsers: Browsers, base_url: str) -> list[PageResult]:
    """Crawl the site at ``base_url`` the way the daemon does by default."""
    result = await crawl(browsers, CrawlOptions(start_url=base_url + "/", max_pages=50))
    return result.pages


@pytest.fixture(scope="session")
async def acme() -> AsyncIterator[Acme]:
    """Acme on a free 127.0.0.1 port."""
    app = acme_site()
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield Acme(app, f"http://{host}:{port}")
    await runner.cleanup()


@pytest.fixture(scope="session")
async def acme_pages(acme: Acme, browsers: Browsers) -> list[PageResult]:
    """The pages of one crawl of the intact Acme."""
    return await crawl_pages(browsers, acme.base_url)


@pytest.fixture(scope="session")
def acme_suite(acme: Acme, acme_pages: list[PageResult]) -> list[Case]:
    """The suite generated from that crawl."""
    return generate_suite(acme_pages, acme.base_url)


BASE = "http://site.test"


def link(path: str, name: str, **fields: Any) -> PageLink:
    """A visible internal page link to ``BASE + path`` (``path`` may be a full URL)."""
    url = path if "://" in path else BASE + path
    target = Target(role="link", name=name, exact=True) if name else None
    return PageLink.model_validate(
        {"url": url, "name": name, "internal": True, "kind": "page", "visible": True,
         "new_tab": False, "target": target, **fields}
    )  # fmt: skip


def field(css: str, **fields: Any) -> FormField:
    """A visible, optional text box found by ``css`` and nothing else."""
    return FormField.model_validate(
        {"tag": "input", "type": "text", "name": None, "id": None, "label": None,
         "accessible_name": "", "role": "textbox", "placeholder": None, "test_id": None,
         "css": css, "required": False, "disabled": False, "readonly": False, "visible": True,
         "value": "", "target": Target(css=css), **fields}
    )  # fmt: skip


def labelled(label: str, **fields: Any) -> FormField:
    """A field whose label (and so accessible name) is ``label``, found by it."""
    fields.setdefault("target", Target(label=label))
    return field(f"#{label.lower()}", label=label, accessible_name=label, **fields)


def landed(path: str = "/results?q=Test", **fields: Any) -> FormSubmission:
    """The crawl's submission of a GET form, landing on ``BASE + path``."""
    return FormSubmission.model_validate(
        {"outcome": "navigated", "url": BASE + path, "status": 200, **fields}
    )


def form(*fields: FormField, submit: str | None = "Send", **attributes: Any) -> PageForm:
    """A GET form submitting to ``BASE + "/results"`` with a submit button named ``submit``;
    the crawl's submission of it (when GET) landed there."""
    button = None
    if submit is not None:
        target = Target(role="button", name=submit, exact=True)
        button = FormButton(name=submit, css="form button", test_id=None, target=target)
    if attributes.get("method", "get") == "get":
        attributes.setdefault("submission", landed())
    return PageForm.model_validate(
        {"id": None, "name": None, "action": BASE + "/results", "method": "get", "css": "form",
         "test_id": None, "fields": list(fields), "submit": button, **attributes}
    )  # fmt: skip


def page(path: str, title: str | None = None, **fields: Any) -> PageResult:
    """A page at ``BASE + path`` that loaded fine, titled and headed ``title`` (or its path)."""
    title = f"Page {path}" if title is None else title
    heading = Target(role="heading", name=title, exact=True) if title else None
    return PageResult.model_validate(
        {"url": BASE + path, "redirected_from": None, "status": 200, "content_type": "text/html",
         "title": title, "heading": title, "heading_target": heading, "depth": 0,
         "referrer": None, "load_time": 5, "links": [], "forms": [], "console_errors": [],
         "failed_requests": [], "download": False, "truncated": False, "error": None, **fields}
    )  # fmt: skip
