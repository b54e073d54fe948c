"""JUnit XML and the HTML report, from the results of a real run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aegisd.dashboard.assets import stylesheet
from runner.browsers import Browsers
from runner.executor import Execution, RunnerSettings
from runner.junit import render_junit
from runner.report import render_report
from runner.results import CaseError, CaseResult
from runner.steps import Case, quoted
from tests.conftest import ServeApp
from tests.runner.sites import pages_app

HOSTILE_NAME = "<script>window.pwned = 1</script> & co"
HOSTILE_TITLE = '<img src=x onerror="window.pwned = 2">'


@dataclass
class Run:
    results: list[CaseResult]
    artifacts_dir: Path


@pytest.fixture
async def run(browsers: Browsers, serve: ServeApp, tmp_path: Path) -> Run:
    """A run with one passed, one failed (with a screenshot) and one skipped case."""
    base = await serve(pages_app({"/": ("Home", "<h1>Welcome</h1>")}))
    goto = {"action": "goto", "url": "/"}
    cases = [
        Case.model_validate(case)
        for case in [
            {"name": "home", "steps": [goto]},
            {
                "name": HOSTILE_NAME,
                "steps": [goto, {"action": "expect_title", "value": HOSTILE_TITLE}],
            },
            {"name": "later", "enabled": False, "steps": [goto]},
        ]
    ]
    settings = RunnerSettings(step_timeout_s=1, trace="off")
    artifacts_dir = tmp_path / "artifacts"
    execution = Execution(
        browsers, cases, base_url=base, settings=settings, artifacts_dir=artifacts_dir
    )
    return Run(await execution.run(), artifacts_dir)


def _flaky_with_noise() -> CaseResult:
    """A hand-made flaky result whose texts carry characters XML cannot hold."""
    return CaseResult(
        case_id="case_x",
        name="noisy\x1b[31m name\x00",
        status="passed",
        duration=1500,
        attempts=2,
        flaky=True,
        steps=[],
    )


def test_junit_counts_cases_and_carries_failures(run: Run) -> None:
    started = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    results = [*run.results, _flaky_with_noise()]

    root = ET.fromstring(render_junit(results, suite_name="Shop", timestamp=started).encode())

    assert root.tag == "testsuites"
    [suite] = list(root)
    assert suite.tag == "testsuite"
    counts = {key: suite.attrib[key] for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "4", "failures": "1", "errors": "0", "skipped": "1"}
    assert suite.attrib["timestamp"] == "2025-01-15T10:30:00"
    assert float(suite.attrib["time"]) == sum(r.duration for r in results) / 1000
    cases = suite.findall("testcase")
    assert [case.attrib["name"] for case in cases] == [
        "home",
        HOSTILE_NAME,
        "later",
        "noisy\ufffd[31m name\ufffd",
    ]
    assert {case.attrib["classname"] for case in cases} == {"Shop"}
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib["message"] == f'expected title {quoted(HOSTILE_TITLE)} but found "Home"'
    assert failure.attrib["type"] == "expect_title"
    assert failure.text is not None and failure.text.startswith(
        f"step 2 (expect_title): expect title {quoted(HOSTILE_TITLE)}\n"
    )
    assert f"screenshot: {run.results[1].screenshot}" in failure.text
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "the case is disabled"
    assert cases[0].find("*") is None
    assert cases[3].findtext("system-out") == "flaky: failed first, passed on attempt 2"


async def test_html_report_shows_everything_escaped_with_screenshots(
    run: Run, browsers: Browsers
) -> None:
    error = CaseError(message="boom", step_index=None, action=None)
    results = [*run.results, _flaky_with_noise().model_copy(update={"trace": "x-trace.zip"})]
    results.append(results[1].model_copy(update={"screenshot": "gone.png", "error": error}))

    html = render_report(
        results,
        title="Run <run_1>",
        artifacts_dir=run.artifacts_dir,
        stylesheet=stylesheet(),
        details={"Base URL": "http://127.0.0.1/?a=1&b=<2>"},
        artifact_href=lambda name: f"artifacts/{name}?x=1&y=2",
    )

    async with browsers.context() as context:
        page = await context.new_page()
        await page.set_content(html)
        assert await page.title() == "Run <run_1>"
        assert await page.evaluate("window.pwned") is None
        images = page.locator("img")
        assert await images.count() == 1
        assert await images.evaluate("(image) => image.complete && image.naturalWidth") > 0
        assert await images.is_visible()
        summary = await page.locator(".summary").inner_text()
        assert summary.split("\n")[:5] == [
            "5 cases",
            "2 passed",
            "2 failed",
            "1 skipped",
            "1 flaky",
        ]
        body = await page.locator("body").text_content() or ""
        assert HOSTILE_NAME in body and quoted(HOSTILE_TITLE) in body
        assert "http://127.0.0.1/?a=1&b=<2>" in body
        assert f"Step 2 (expect_title)expected title {quoted(HOSTILE_TITLE)}" in body
        assert "Screenshot gone.png is missing." in body
        assert "Skipped: the case is disabled." in body
        link = page.locator("a", has_text="x-trace.zip")
        assert await link.get_attribute("href") == "artifacts/x-trace.zip?x=1&y=2"
        # Failures first, then flaky, passed and skipped cases; failures are open.
        cases = page.locator("details.case")
        outcomes = await cases.locator("summary .badge").all_inner_texts()
        assert outcomes == ["failed", "failed", "flaky", "passed", "skipped"]
        assert await cases.evaluate_all("(cases) => cases.map((c) => c.open)") == [
            True, True, False, False, False,
        ]  # fmt: skip
        # The inlined stylesheet draws the status as a border, never as a fill behind text.
        badge = cases.first.locator("summary .badge")
        assert await badge.evaluate("(b) => getComputedStyle(b).backgroundColor") in (
            "rgba(0, 0, 0, 0)",
            "transparent",
        )
        steps = cases.first.locator("ol.steps li")
        assert await steps.evaluate_all("(items) => items.map((i) => i.className)") == [
            "step s-step-passed",
            "step s-step-failed",
        ]
        failing = steps.nth(1)
        assert f"expect title {quoted(HOSTILE_TITLE)}" in await failing.inner_text()
        assert await failing.evaluate("(li) => getComputedStyle(li).backgroundColor") in (
            "rgba(0, 0, 0, 0)",
            "transparent",
        )


def _classified(run: Run) -> list[CaseResult]:
    """The run's results triaged: its failure a regression, a flaky pass, and a failure
    named ``<b>`` the site was down for."""
    home, failed, skipped = run.results
    unreachable = CaseError(
        message="could not load /: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:1/",
        step_index=0,
        action="goto",
    )
    down = failed.model_copy(
        update={"name": "<b>down</b>", "error": unreachable, "classification": "environment"}
    )
    return [
        home,
        failed.model_copy(update={"classification": "regression"}),
        skipped,
        _flaky_with_noise().model_copy(update={"classification": "flaky"}),
        down,
    ]


def test_junit_carries_each_classification(run: Run) -> None:
    root = ET.fromstring(render_junit(_classified(run), suite_name="Shop").encode())

    [suite] = list(root)
    counted = {p.attrib["name"]: p.attrib["value"] for p in suite.findall("properties/property")}
    assert counted == {
        "classification.regression": "1",
        "classification.flaky": "1",
        "classification.environment": "1",
    }
    by_name = {case.attrib["name"]: case for case in suite.findall("testcase")}
    classes = {
        name: [p.attrib for p in case.findall("properties/property")]
        for name, case in by_name.items()
    }
    assert classes == {
        "home": [],
        HOSTILE_NAME: [{"name": "classification", "value": "regression"}],
        "later": [],
        "noisy\ufffd[31m name\ufffd": [{"name": "classification", "value": "flaky"}],
        "<b>down</b>": [{"name": "classification", "value": "environment"}],
    }
    failure = by_name[HOSTILE_NAME].find("failure")
    assert failure is not None and failure.text is not None
    assert (
        "\nclassification: regression (it passed the last time it ran against this base URL)\n"
        in failure.text
    )
    # Properties come first in a testcase, as junit.xsd orders a testsuite's.
    assert [child.tag for child in by_name[HOSTILE_NAME]] == ["properties", "failure"]


async def test_html_report_shows_classifications_and_a_site_down_run(
    run: Run, browsers: Browsers
) -> None:
    results = _classified(run)
    down_only = [results[4], results[2]]
    notice = "site unreachable: net::ERR_CONNECTION_REFUSED (1 cases could not load their page)"
    pages = [
        render_report(results, title="Triaged", artifacts_dir=run.artifacts_dir,
                      stylesheet=stylesheet(), notice=None),
        render_report(down_only, title="Down", artifacts_dir=run.artifacts_dir,
                      stylesheet=stylesheet(), notice=notice),
    ]  # fmt: skip
    async with browsers.context() as context:
        page = await context.new_page()
        await page.set_content(pages[0])
        counts = page.locator(".triage-counts .badge")
        assert await counts.all_inner_texts() == ["1 regression", "1 flaky", "1 environment"]
        cases = page.locator("details.case")
        badges = await cases.evaluate_all(
            "(cases) => cases.map((c) => [...c.querySelectorAll('summary .badge')]"
            ".map((b) => b.textContent))"
        )
        assert badges == [
            ["failed", "regression"], ["failed", "environment"], ["flaky", "flaky"],
            ["passed"], ["skipped"],
        ]  # fmt: skip
        regression = cases.first.locator(".badge.triage")
        assert await regression.get_attribute("title") == (
            "regression: it passed the last time it ran against this base URL"
        )
        assert await page.locator(".site-down").count() == 0
        # The dashboard's look: a colour and glyph of its own per classification.
        looks = await page.locator("summary .badge.triage").evaluate_all(
            "(bs) => bs.map((b) => [getComputedStyle(b).color,"
            " getComputedStyle(b, '::before').content])"
        )
        assert len({colour for colour, _ in looks}) == len({glyph for _, glyph in looks}) == 3

        # The site was down: one line says so, and the cases are folded.
        await page.set_content(pages[1])
        said = await page.locator(".site-down").inner_text()
        assert " ".join(said.split()) == f"site down {notice}"
        assert await page.evaluate("document.querySelector('b')") is None  # the name escaped
        assert await page.locator("details.case[open]").count() == 0
