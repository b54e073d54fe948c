"""A generated suite's screenshot checks, end to end, in aegisd and in both zip exports.

Studio is crawled and its suite generated with visual checks. The first run
records every page's screenshot (``new``), the second matches them all although
the home page keeps moving (its clock and canvas masked, found at crawl time;
its spinner stopped). Then the stylesheet changes a colour, a margin and an
image: exactly the screenshot steps of the three pages showing them fail, each
diff image marking the changed region. The zip exports, run as they are by the
real ``npx playwright test`` (on the unchanged and the changed site) and by
pytest (on the changed site, where cases pass and fail), give aegisd's verdict
for every case.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import FloatRect

from crawler.dynamic import MEDIA_SELECTOR, VOLATILE_TEXT
from crawler.engine import crawl
from crawler.generate import generate_suite, suite_name
from crawler.models import CrawlOptions, PageResult
from runner.browsers import Browsers
from runner.executor import Baselines, Execution, RunnerSettings
from runner.export_common import Language
from runner.export_zip import export_zip
from runner.results import CaseResult
from runner.screenshots import VIEWPORT, decode_png
from runner.steps import Case, ExpectScreenshot, Target, _regex_problem
from tests.conftest import ServeApp
from tests.runner.exported import zip_outcomes
from tests.visual.site import CHANGE_NAMES, CHANGED_PAGES, CHANGES, studio_site

SETTINGS = RunnerSettings(workers=2, screenshots="off", trace="off")
# Where each change shows: the element of the page the diff must mark.
CHANGED_ELEMENTS = {"/about": "h1", "/team": ".card", "/gallery": ".photo"}


@dataclass
class Studio:
    base_url: str
    changes: set[str]
    pages: list[PageResult]
    cases: list[Case]


@pytest.fixture
async def studio(serve: ServeApp, browsers: Browsers) -> AsyncIterator[Studio]:
    app = studio_site()
    base_url = await serve(app)
    result = await crawl(browsers, CrawlOptions(start_url=base_url + "/", max_pages=20))
    cases = generate_suite(result.pages, base_url, visual_checks=True)
    # Stored cases have ids: results, baselines and the export's folders go by them.
    cases = [case.model_copy(update={"id": f"case_{n}"}) for n, case in enumerate(cases)]
    yield Studio(base_url, app[CHANGES], result.pages, cases)


async def _run(
    browsers: Browsers, studio: Studio, artifacts: Path, baselines: Baselines | None = None
) -> list[CaseResult]:
    execution = Execution(
        browsers,
        studio.cases,
        base_url=studio.base_url,
        settings=SETTINGS,
        artifacts_dir=artifacts,
        baselines=baselines,
    )
    return await execution.run()


def _keep_new(
    results: list[CaseResult], artifacts: Path, store: Path
) -> dict[tuple[str, str], Path]:
    """What the run job does: the ``new`` screenshots become the baselines."""
    store.mkdir()
    baselines = {}
    for result in results:
        for check in result.visual:
            assert check.status == "new" and check.actual is not None
            path = store / f"{result.case_id}-{check.name}.png"
            shutil.copyfile(artifacts / check.actual, path)
            baselines[(result.case_id, check.name)] = path
    return baselines


def _outcomes(results: list[CaseResult]) -> dict[str, str]:
    return {result.name: result.status for result in results}


async def _zip_outcomes(
    studio: Studio, baselines: Baselines, workdir: Path, languages: tuple[Language, ...]
) -> dict[str, dict[str, str]]:
    outcomes = {}
    for language in languages:
        exported = export_zip(
            language,
            suite_name(studio.base_url),
            studio.base_url,
            studio.cases,
            None,
            baselines,
            step_timeout_s=SETTINGS.step_timeout_s,
            navigation_timeout_s=SETTINGS.navigation_timeout_s,
            case_timeout_s=SETTINGS.case_timeout_s,
        )
        outcomes[language] = await zip_outcomes(
            exported, language, workdir / language, studio.base_url
        )
    return outcomes


async def _boxes(browsers: Browsers, base_url: str) -> dict[str, FloatRect]:
    """Where each changed element is on the unchanged site."""
    boxes = {}
    async with browsers.context(base_url=base_url, viewport=VIEWPORT) as context:
        page = await context.new_page()
        for path, selector in CHANGED_ELEMENTS.items():
            await page.goto(path)
            box = await page.locator(selector).bounding_box()
            assert box is not None
            boxes[path] = box
    return boxes


def test_the_volatile_rule_reads_the_same_in_the_browser() -> None:
    assert _regex_problem(VOLATILE_TEXT.pattern) is None


def _masks_found_while_crawling(studio: Studio) -> None:
    """What changes from load to load was found while crawling, and is masked."""
    dynamic = {page.url.removeprefix(studio.base_url): page.dynamic for page in studio.pages}
    home = next(case for case in studio.cases if case.name == "Page loads: /")
    assert dynamic == {
        "/": ["#clock", MEDIA_SELECTOR],
        "/about": [],
        "/team": [],
        "/gallery": [],
    }
    assert home.steps[-1] == ExpectScreenshot(
        action="expect_screenshot", mask=[Target(css="#clock"), Target(css=MEDIA_SELECTOR)]
    )
    assert all(
        isinstance(case.steps[-1], ExpectScreenshot) == (case.type == "smoke")
        for case in studio.cases
    )


async def test_stylesheet_changes_fail_exactly_the_screenshots_that_show_them(
    studio: Studio, browsers: Browsers, tmp_path: Path
) -> None:
    first = await _run(browsers, studio, tmp_path / "first")
    baselines = _keep_new(first, tmp_path / "first", tmp_path / "baselines")
    second = await _run(browsers, studio, tmp_path / "second", baselines)
    unchanged_exports = await _zip_outcomes(
        studio, baselines, tmp_path / "unchanged", ("typescript",)
    )
    studio.changes.update(CHANGE_NAMES)
    changed = await _run(browsers, studio, tmp_path / "changed", baselines)
    changed_exports = await _zip_outcomes(
        studio, baselines, tmp_path / "changed-zips", ("typescript", "python")
    )
    studio.changes.clear()
    boxes = await _boxes(browsers, studio.base_url)

    _masks_found_while_crawling(studio)
    # A fresh suite passes twice in a row: the first run records, the second matches.
    assert {result.status for result in first + second} == {"passed"}
    smoke = {case.id for case in studio.cases if case.type == "smoke"}
    assert len(baselines) == len(smoke) == 4
    assert all(
        [check.status for check in result.visual]
        == (["matched"] if result.case_id in smoke else [])
        for result in second
    )
    # The changed site fails the screenshot step of exactly the pages it changed.
    failing = {f"Page loads: {path}" for path in CHANGED_PAGES.values()}
    assert {r.name for r in changed if r.status == "failed"} == failing
    for result in changed:
        if result.name not in failing:
            continue
        assert result.error is not None and result.error.action == "expect_screenshot"
        assert "differs from its baseline" in result.error.message
        [check] = result.visual
        assert check.status == "differs" and check.diff_pixels > 0
        assert check.expected and check.actual and check.diff
        diff = decode_png((tmp_path / "changed" / check.diff).read_bytes())
        red = np.all(diff == (255, 0, 0, 255), axis=-1)
        ys, xs = np.nonzero(red)
        box = boxes[result.name.removeprefix("Page loads: ")]
        assert xs.min() >= box["x"] - 1 and xs.max() <= box["x"] + box["width"] + 1
        assert ys.min() >= box["y"] - 1
        if result.name != "Page loads: /team":  # the shifted card moves what is below it
            assert ys.max() <= box["y"] + box["height"] + 1
    # Both zip exports, run as they are, agree with aegisd case by case.
    assert unchanged_exports == {"typescript": _outcomes(second)}
    assert changed_exports == {"typescript": _outcomes(changed), "python": _outcomes(changed)}
