"""Chromium's own favicon request is not a console error of the page under test."""

from __future__ import annotations

from pathlib import Path

from runner.browsers import Browsers, BrowserSettings
from runner.executor import Execution, RunnerSettings
from runner.export_python import export_suite as export_python
from runner.export_typescript import export_suite as export_typescript
from runner.steps import Case
from tests.conftest import ServeApp
from tests.sites import Site, page

CASE = Case.model_validate(
    {
        "name": "Home is quiet",
        "steps": [{"action": "goto", "url": "/"}, {"action": "expect_no_console_errors"}],
    }
)


async def test_missing_favicon_is_not_a_console_error(serve: ServeApp, tmp_path: Path) -> None:
    site = Site({"/": page("Home")})  # answers 404 for /favicon.ico
    base = await serve(site.app())
    # A fresh browser: Chromium asks for the favicon on its first page only.
    async with Browsers(BrowserSettings()) as fresh:
        results = await Execution(
            fresh, [CASE], base_url=base, settings=RunnerSettings(), artifacts_dir=tmp_path
        ).run()
    assert "/favicon.ico" in site.hits
    assert results[0].status == "passed", results[0].error


def test_exports_skip_the_favicon_too() -> None:
    assert "endsWith('/favicon.ico')" in export_typescript("s", "http://a.test", [CASE]).code
    assert 'endswith("/favicon.ico")' in export_python("s", "http://a.test", [CASE]).code
