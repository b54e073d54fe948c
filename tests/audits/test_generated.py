"""The audit checks of generated smoke cases, and the new steps under every runner.

The suite generated from the audited crawl passes twice in a row on the unchanged
site; a new violation on ``/`` and a 3x slowdown of ``/busy`` make exactly those
pages' smoke cases fail. On the changed site, its smoke cases (passing and
failing ones) with hand-written cases that use the steps' options (impact, ignore
by rule and by target, budgets, passing and failing) give the same outcomes under
aegisd's executor, ``npx playwright test`` (``@axe-core/playwright``) and
pytest-playwright (``axe-playwright-python``). (Each axe-core run costs a second
or so of CPU: the unchanged site's exports are not run as well.) Time figures over their
budgets are measured again on reloads with the cache off: a first load's hiccup passes,
a stylesheet slow on every uncached load fails, a page a form posted is not reloaded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.audit_cases import audit_steps, budgets_for
from crawler.generate import suite_name
from crawler.models import FailedRequest, PageResult
from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.executor import Execution, RunnerSettings
from runner.results import CaseResult
from runner.steps import Case, ExpectNoA11yViolations, ExpectPerformance
from tests.audits.conftest import AuditSite
from tests.audits.site import CHANGE_NAMES, LOADS
from tests.runner.exported import TIMEOUT_MS, playwright_outcomes, pytest_outcomes

CAUGHT_BY = {"new violation": "Page loads: /", "slowdown": "Page loads: /busy"}
"""The case each change makes fail."""


def _case(name: str, path: str, step: dict[str, Any]) -> Case:
    return Case.model_validate({"name": name, "steps": [{"action": "goto", "url": path}, step]})


HANDWRITTEN = [
    (_case("Low contrast is no critical violation", "/faded",
          {"action": "expect_no_a11y_violations", "impact": "critical"}), "passed"),
    (_case("The missing alt text is ignored", "/gallery",
           {"action": "expect_no_a11y_violations", "ignore": [{"rule": "image-alt"}]}), "passed"),
    (_case("Ignoring another element leaves the label violation", "/contact",
           {"action": "expect_no_a11y_violations",
            "ignore": [{"rule": "label", "target": "#elsewhere"}]}), "failed"),
    (_case("Generous budgets hold", "/shifty", {"action": "expect_performance",
           "budgets": {"cls": 1.5, "lcp": 60000, "transfer_bytes": 100000}}), "passed"),
    (_case("One request is too few", "/", {"action": "expect_performance",
           "budgets": {"requests": 1}}), "failed"),
    (_case("A first load's hiccup is measured again", "/hiccup", {"action": "expect_performance",
           "budgets": {"tbt": 600}}), "passed"),
    (_case("A slow stylesheet stays slow when measured again", "/stalled",
           {"action": "expect_performance", "budgets": {"fcp": 800}}), "failed"),
    (Case.model_validate({"name": "A posted page is not posted again", "steps": [
        {"action": "goto", "url": "/order"},
        {"action": "click", "target": {"role": "button", "name": "Order"}},
        {"action": "expect_title", "value": "Ordered"},
        {"action": "expect_performance", "budgets": {"tbt": 600}}]}), "failed"),
]  # fmt: skip
"""Hand-written cases and their outcome, on the unchanged and the changed site alike."""


def _smoke(suite: list[Case]) -> list[Case]:
    return [case for case in suite if case.type == "smoke"]


def _checked(suite: list[Case]) -> list[Case]:
    """The smoke cases (those with audit checks) and the hand-written ones."""
    return _smoke(suite) + [case for case, _outcome in HANDWRITTEN]


def _expected(suite: list[Case]) -> dict[str, str]:
    """The outcomes of ``_checked(suite)`` on the changed site."""
    failing = set(CAUGHT_BY.values())
    smoke = {case.name: "failed" if case.name in failing else "passed" for case in _smoke(suite)}
    return smoke | {case.name: outcome for case, outcome in HANDWRITTEN}


async def _run(browsers: Browsers, cases: list[Case], base_url: str, tmp: Path) -> list[CaseResult]:
    settings = RunnerSettings(step_timeout_s=TIMEOUT_MS / 1000, screenshots="off", trace="off")
    execution = Execution(browsers, cases, base_url=base_url, settings=settings, artifacts_dir=tmp)
    return await execution.run()


def test_smoke_cases_check_budgets_and_new_violations(
    audit_suite: list[Case], audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    pages = {page.url.removeprefix(audit_site_server.base_url): page for page in audited_pages}
    checks = {
        case.name.removeprefix("Page loads: "): [
            step
            for step in case.steps
            if isinstance(step, ExpectPerformance | ExpectNoA11yViolations)
        ]
        for case in _smoke(audit_suite)
    }

    assert set(checks) == set(pages)
    for path, (performance, a11y) in checks.items():
        figures = pages[path].audits.performance  # type: ignore[union-attr]
        assert isinstance(performance, ExpectPerformance)
        assert figures is not None and performance.budgets == budgets_for(figures)
        assert isinstance(a11y, ExpectNoA11yViolations) and a11y.impact == "serious"
    gallery = checks["/gallery"][1]
    [image] = pages["/gallery"].audits.accessibility or []  # type: ignore[union-attr]
    assert image.rule == "image-alt" and "alt" not in image.nodes[0].html
    assert isinstance(gallery, ExpectNoA11yViolations)
    assert gallery.ignored == {("image-alt", image.nodes[0].target)}
    faded = checks["/faded"][1]
    assert isinstance(faded, ExpectNoA11yViolations)
    assert [item.rule for item in faded.ignore] == ["color-contrast"]
    home = checks["/"][0]
    assert isinstance(home, ExpectPerformance)
    # A fast page gets the floors; the byte and request budgets follow the crawl closely.
    assert (home.budgets.ttfb, home.budgets.fcp, home.budgets.tbt) == (1800, 3000, 600)
    assert home.budgets.cls is None  # too unsteady from load to load to budget
    home_figures = pages["/"].audits.performance  # type: ignore[union-attr]
    assert home_figures is not None and home.budgets.requests == home_figures.requests + 2


def test_no_time_budgets_where_a_request_went_unanswered(audited_pages: list[PageResult]) -> None:
    home = next(page for page in audited_pages if page.depth == 0)
    assert home.audits is not None and home.audits.performance is not None
    cdn = FailedRequest(
        url="https://cdn.example/x.css",
        resource_type="stylesheet",
        status=None,
        error="net::ERR_NAME_NOT_RESOLVED",
    )
    missing = FailedRequest(
        url=home.url + "gone.png", resource_type="image", status=404, error=None
    )

    def budgets(page: PageResult) -> dict[str, float]:
        [performance] = [s for s in audit_steps(page) if isinstance(s, ExpectPerformance)]
        return performance.budgets.model_dump(exclude_none=True)

    answered = budgets(home.model_copy(update={"failed_requests": [missing]}))
    unanswered = budgets(home.model_copy(update={"failed_requests": [missing, cdn]}))
    assert {"ttfb", "fcp", "tbt", "requests", "transfer_bytes"} <= set(answered)
    assert unanswered == {k: answered[k] for k in ("requests", "transfer_bytes")}


async def test_the_unchanged_site_passes_twice(
    audit_suite: list[Case], audit_site_server: AuditSite, browsers: Browsers, tmp_path: Path
) -> None:
    for attempt in ("first", "second"):
        results = await _run(browsers, audit_suite, audit_site_server.base_url, tmp_path / attempt)
        errors = {result.name: result.error for result in results if result.error}
        print(attempt, "errors:", errors)  # shown when the comparison fails
        assert all(result.status == "passed" for result in results), attempt


@dataclass(frozen=True)
class ChangedRuns:
    """The checked cases run on the changed site by each runner."""

    aegisd: list[CaseResult]
    typescript: dict[str, str]
    python: dict[str, str]


@pytest.fixture(scope="module")
async def changed_runs(
    audit_suite: list[Case],
    audit_site_server: AuditSite,
    browsers: Browsers,
    tmp_path_factory: pytest.TempPathFactory,
) -> ChangedRuns:
    """The three runs go at once: each spends much of its time waiting on pages that settle
    or load slowly, and the site stays changed for them all."""
    base = audit_site_server.base_url
    name, cases = suite_name(base), _checked(audit_suite)
    spec = export_typescript.export_suite(name, base, cases)
    module = export_python.export_suite(name, base, cases)
    workdir = tmp_path_factory.mktemp("changed")
    audit_site_server.app[LOADS].clear()
    with audit_site_server.changed(*CHANGE_NAMES):
        aegisd, typescript, python = await asyncio.gather(
            _run(browsers, cases, base, workdir / "aegisd"),
            playwright_outcomes(spec, workdir / "typescript"),
            pytest_outcomes(module, workdir / "python"),
        )
    return ChangedRuns(aegisd, typescript, python)


def test_a_new_violation_and_a_slowdown_fail_their_pages(
    audit_suite: list[Case], changed_runs: ChangedRuns
) -> None:
    results = changed_runs.aegisd

    assert {result.name: result.status for result in results} == _expected(audit_suite)
    errors = {result.name: result.error for result in results if result.error is not None}
    violation, slowdown = errors[CAUGHT_BY["new violation"]], errors[CAUGHT_BY["slowdown"]]
    assert violation is not None and violation.action == "expect_no_a11y_violations"
    assert "image-alt (critical)" in violation.message
    assert slowdown is not None and slowdown.action == "expect_performance"
    assert "tbt is" in slowdown.message and "over its budget" in slowdown.message
    assert "at the lowest of 3 loads" in slowdown.message


def test_time_budgets_are_measured_again_uncached(
    changed_runs: ChangedRuns, audit_site_server: AuditSite
) -> None:
    loads = audit_site_server.app[LOADS]
    errors = {result.name: result.error for result in changed_runs.aegisd}
    stalled, posted = (
        errors["A slow stylesheet stays slow when measured again"],
        errors["A posted page is not posted again"],
    )
    assert stalled is not None and posted is not None
    assert "fcp is" in stalled.message and "at the lowest of 3 loads" in stalled.message
    assert "tbt is" in posted.message and "loads" not in posted.message
    # Each runner's case loaded /hiccup once blocked and again unblocked (with its cookie),
    # fetched the cacheable stylesheet anew on each of /stalled's three loads, and posted
    # the order once.
    assert loads["/hiccup"] == 3 and loads["/hiccup again"] >= 3
    assert loads["/static/stalled.css"] == 3 * 3
    assert loads["POST /order"] == 3


def test_typescript_export_under_npx_playwright_test(
    audit_suite: list[Case], changed_runs: ChangedRuns
) -> None:
    assert changed_runs.typescript == _expected(audit_suite)


def test_python_export_under_pytest_playwright(
    audit_suite: list[Case], changed_runs: ChangedRuns
) -> None:
    assert changed_runs.python == _expected(audit_suite)
