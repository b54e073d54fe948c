"""Crawling behind a login: the session carries to every page, logging out is not followed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.engine import crawl
from crawler.models import CrawlOptions, CrawlResult
from runner.browsers import Browsers
from runner.errors import LoginFailed
from runner.login import Login
from tests.conftest import ServeApp
from tests.sites import LoginSite, login_steps


async def _crawl(
    browsers: Browsers, serve: ServeApp, login: dict[str, Any] | None
) -> tuple[LoginSite, CrawlResult]:
    site = LoginSite()
    base = await serve(site.app())
    options = CrawlOptions(
        start_url=base + "/",
        login=None if login is None else Login.model_validate(login),
        page_timeout_s=3,
    )
    return site, await crawl(browsers, options)


def _paths(result: CrawlResult) -> list[str]:
    return [urlsplit(page.url).path for page in result.pages]


async def test_without_login_only_the_login_page(browsers: Browsers, serve: ServeApp) -> None:
    _site, result = await _crawl(browsers, serve, None)

    assert _paths(result) == ["/login"]


async def test_logged_in_crawl_finds_the_protected_pages_and_never_logs_out(
    browsers: Browsers, serve: ServeApp
) -> None:
    site, result = await _crawl(browsers, serve, login_steps())

    assert _paths(result) == ["/", "/account", "/orders"]
    assert [page.title for page in result.pages] == ["Dashboard", "Account", "Orders"]
    assert "/logout" not in site.hits and "/session/end" not in site.hits
    assert len(site.sessions) == 1  # the one login is still alive
    recorded = {link.name: urlsplit(link.url).path for link in result.pages[0].links}
    assert recorded["Log out"] == "/logout" and recorded["Sign out"] == "/session/end"
    assert result.broken_links == []


async def test_a_wrong_password_fails_the_crawl(browsers: Browsers, serve: ServeApp) -> None:
    with pytest.raises(LoginFailed) as failed:
        await _crawl(browsers, serve, login_steps(password="wrong"))

    assert str(failed.value) == (
        'login failed at step 5 (expect_url): expected URL path "/account" but found "/login"'
    )
