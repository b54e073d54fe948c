"""Runs behind a login: the suite generated from a logged-in crawl passes in aegisd's
executor and in its exports, and a login that fails fails every case with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.engine import crawl
from crawler.generate import generate_suite
from crawler.models import CrawlOptions
from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.executor import LOGIN_SCREENSHOT, Execution, RunnerSettings
from runner.login import Login
from runner.results import CaseResult
from runner.steps import Case
from tests.conftest import ServeApp
from tests.runner.exported import playwright_outcomes, pytest_outcomes
from tests.sites import LoginSite, login_steps

LOGIN = Login.model_validate(login_steps())
_EXPORTS = {
    "typescript": (export_typescript.export_suite, playwright_outcomes),
    "python": (export_python.export_suite, pytest_outcomes),
}


@dataclass
class _Generated:
    site: LoginSite
    base_url: str
    cases: list[Case]


async def _generated(browsers: Browsers, serve: ServeApp) -> _Generated:
    """LoginSite served, crawled logged in, and the suite generated from that crawl."""
    site = LoginSite()
    base_url = await serve(site.app())
    result = await crawl(browsers, CrawlOptions(start_url=base_url + "/", login=LOGIN))
    return _Generated(site, base_url, generate_suite(result.pages, base_url))


async def _run(
    browsers: Browsers,
    generated: _Generated,
    login: Login | None,
    artifacts: Path,
    step_timeout_s: float = 10,
) -> list[CaseResult]:
    """The generated suite run; a short ``step_timeout_s`` makes a failing step fail quickly
    but fails a passing one too on a loaded machine, whose page loads outlast it."""
    settings = RunnerSettings(step_timeout_s=step_timeout_s, screenshots="on-failure", trace="off")
    execution = Execution(
        browsers,
        generated.cases,
        base_url=generated.base_url,
        settings=settings,
        artifacts_dir=artifacts,
        login=login,
    )
    return await execution.run()


async def test_generated_suite_passes_logged_in(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    generated = await _generated(browsers, serve)
    names = {case.name for case in generated.cases}
    assert {"Page loads: /account", "Navigate: / → Orders"} <= names
    assert not any("Log out" in name for name in names)  # logging out was never crawled
    generated.site.hits.clear()

    results = await _run(browsers, generated, LOGIN, tmp_path)

    assert {result.name: result.status for result in results} == dict.fromkeys(names, "passed")
    assert generated.site.hits.count("/login") == 2  # once for the run: GET and POST
    assert not (tmp_path / LOGIN_SCREENSHOT).exists()
    # Without the login a case lands on the login page instead.
    generated.cases = [case for case in generated.cases if case.name == "Page loads: /account"]
    [logged_out] = await _run(browsers, generated, None, tmp_path, step_timeout_s=2)
    assert logged_out.status == "failed"


async def test_failed_login_fails_every_case_with_its_reason(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    generated = await _generated(browsers, serve)
    wrong = Login.model_validate(login_steps(password="wrong"))
    disabled = generated.cases[0].model_copy(update={"enabled": False})
    generated.cases[0] = disabled

    results = await _run(browsers, generated, wrong, tmp_path, step_timeout_s=2)

    message = 'login failed at step 5 (expect_url): expected URL path "/account" but found "/login"'
    assert results[0].status == "skipped"
    for result in results[1:]:
        assert result.status == "failed"
        assert result.error is not None and result.error.message == message
        assert result.screenshot == LOGIN_SCREENSHOT
        assert {step.status for step in result.steps} == {"skipped"}
    assert (tmp_path / LOGIN_SCREENSHOT).stat().st_size > 0


@pytest.mark.parametrize(
    ("language", "hook"),
    [
        ("typescript", "test.beforeEach(async ({ page }) => {"),
        ("python", "@pytest.fixture(autouse=True)\ndef log_in(page: Page) -> None:"),
    ],
)
async def test_export_logs_in_before_every_test(
    language: str, hook: str, browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    """Under the real ``npx playwright test`` and pytest-playwright."""
    export_suite, run_export = _EXPORTS[language]
    generated = await _generated(browsers, serve)
    exported = export_suite("Login site", generated.base_url, generated.cases, LOGIN)
    assert hook in exported.code

    outcomes = await run_export(exported, tmp_path)

    assert outcomes == {case.name: "passed" for case in generated.cases}
