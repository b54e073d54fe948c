"""A generated suite passes in full against the site it came from, and fails when it breaks.

The Acme suite is run by aegisd's executor against the intact site (every case
passes) and against the site broken in every way of ``BREAKAGE_NAMES`` at once
(exactly the cases of ``CAUGHT_BY`` fail). Each of those cases touches one
breakage only, so each breakage is shown to make at least one case fail. The
suite is also exported to TypeScript and run with the real ``npx playwright
test``, and to Python and run with pytest and pytest-playwright, against the
intact site: every case passes there too. That exports fail as the executor does
on a broken site is ``tests/runner/test_parity.py``'s, on the same breakages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.generate import generate_suite, suite_name
from crawler.models import PageResult
from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.executor import Execution, RunnerSettings
from runner.steps import Case, ExpectUrl
from tests.generation.conftest import Acme
from tests.generation.site import BREAKAGE_NAMES
from tests.runner.exported import TIMEOUT_MS, playwright_outcomes, pytest_outcomes

CAUGHT_BY = {
    "page gone": {"Page loads: /about", "Navigate: /about → Home"},
    "title changed": {"Page loads: /blog"},
    "heading changed": {"Page loads: /news"},
    "link removed": {"Navigate: / → Contact"},
    "js error": {"Page loads: /search", "Form: /search Search form"},
}
"""The cases each breakage makes fail."""


@pytest.fixture(params=[False, True], ids=["intact", "broken"])
def broken(request: pytest.FixtureRequest, acme: Acme) -> Iterator[bool]:
    """Whether Acme is broken (in every way at once) for the test."""
    with acme.broken(*(BREAKAGE_NAMES if request.param else ())):
        yield request.param


def _expected(suite: list[Case], broken: bool) -> dict[str, str]:
    failing = set().union(*CAUGHT_BY.values()) if broken else set()
    return {case.name: "failed" if case.name in failing else "passed" for case in suite}


def test_every_breakage_is_caught_by_some_case(acme_suite: list[Case]) -> None:
    names = {case.name for case in acme_suite}

    assert set(CAUGHT_BY) == set(BREAKAGE_NAMES)
    assert all(cases and cases <= names for cases in CAUGHT_BY.values())


async def _executor_outcomes(
    browsers: Browsers, cases: list[Case], base_url: str, artifacts: Path
) -> dict[str, str]:
    settings = RunnerSettings(step_timeout_s=TIMEOUT_MS / 1000, screenshots="off", trace="off")
    execution = Execution(
        browsers, cases, base_url=base_url, settings=settings, artifacts_dir=artifacts
    )
    return {result.name: result.status for result in await execution.run()}


async def test_executor(
    broken: bool, acme: Acme, acme_suite: list[Case], browsers: Browsers, tmp_path: Path
) -> None:
    outcomes = await _executor_outcomes(browsers, acme_suite, acme.base_url, tmp_path)

    assert outcomes == _expected(acme_suite, broken)


async def test_filled_in_forms_are_accepted(
    acme: Acme, acme_pages: list[PageResult], browsers: Browsers, tmp_path: Path
) -> None:
    """The generated values pass the browser's and the site's validation: the forms land."""
    landings = {
        "Form: /contact contact form": "/contact/thanks",
        "Form: /search Search form": "/search?q=test",
    }
    posting = generate_suite(acme_pages, acme.base_url, submit_post_forms=True)
    landed = [
        case.model_copy(
            update={
                "steps": [*case.steps, ExpectUrl(action="expect_url", value=landings[case.name])]
            }
        )
        for case in posting
        if case.name in landings
    ]

    outcomes = await _executor_outcomes(browsers, landed, acme.base_url, tmp_path)

    assert outcomes == dict.fromkeys(landings, "passed")


async def test_typescript_export_under_npx_playwright_test(
    acme: Acme, acme_suite: list[Case], tmp_path: Path
) -> None:
    spec = export_typescript.export_suite(suite_name(acme.base_url), acme.base_url, acme_suite)

    assert await playwright_outcomes(spec, tmp_path) == _expected(acme_suite, broken=False)


async def test_python_export_under_pytest_playwright(
    acme: Acme, acme_suite: list[Case], tmp_path: Path
) -> None:
    module = export_python.export_suite(suite_name(acme.base_url), acme.base_url, acme_suite)

    assert await pytest_outcomes(module, tmp_path) == _expected(acme_suite, broken=False)
