"""``expect_screenshot`` in the executor: tolerances, sizes, moving pages, bad steps.

Runs hand-written cases against Studio: one run records the baselines, the
stylesheet changes, and the next run shows what each tolerance lets through.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.executor import Execution, RunnerSettings
from runner.login import Login
from runner.results import CaseResult
from runner.steps import Case
from tests.conftest import ServeApp
from tests.visual.site import CHANGES, studio_site

SETTINGS = RunnerSettings(workers=2, screenshots="off", trace="off")


def _case(ident: str, path: str, **screenshot: Any) -> Case:
    return Case.model_validate(
        {
            "id": ident,
            "name": ident,
            "steps": [
                {"action": "goto", "url": path},
                {"action": "expect_screenshot", **screenshot},
            ],
        }
    )


async def _run(
    browsers: Browsers,
    base_url: str,
    cases: list[Case],
    artifacts: Path,
    baselines: dict[tuple[str, str], Path] | None = None,
) -> dict[str, CaseResult]:
    execution = Execution(
        browsers,
        cases,
        base_url=base_url,
        settings=SETTINGS,
        artifacts_dir=artifacts,
        baselines=baselines,
    )
    return {result.case_id: result for result in await execution.run()}


async def test_tolerances_and_sizes(browsers: Browsers, serve: ServeApp, tmp_path: Path) -> None:
    site = studio_site()
    base_url = await serve(site)
    cases = [
        _case("strict", "/about"),
        _case("any-colour", "/about", threshold=1.0),
        _case("any-amount", "/about", max_diff_pixel_ratio=1.0),
        _case("whole-page", "/team", full_page=True),
        _case("masked", "/about", mask=[{"css": "h1"}, {"css": "#nothing-here"}]),
    ]
    first = await _run(browsers, base_url, cases, tmp_path / "first")
    baselines = {
        (ident, "page"): tmp_path / "first" / r.visual[0].actual
        for ident, r in first.items()
        if r.visual[0].actual
    }
    site[CHANGES].update({"colour", "margin"})
    changed = await _run(browsers, base_url, cases, tmp_path / "changed", baselines)

    assert {r.status for r in first.values()} == {"passed"}
    assert len(baselines) == len(cases)
    statuses = {ident: (r.status, r.visual[0].status) for ident, r in changed.items()}
    assert statuses == {
        "strict": ("failed", "differs"),
        "any-colour": ("passed", "matched"),
        "any-amount": ("passed", "matched"),
        "whole-page": ("failed", "differs"),
        "masked": ("passed", "matched"),
    }
    assert changed["any-colour"].visual[0].diff_pixels == 0
    assert changed["any-amount"].visual[0].diff_pixels == changed["strict"].visual[0].diff_pixels
    strict, whole = changed["strict"].error, changed["whole-page"].error
    assert strict is not None and "more than the 0.1% allowed" in strict.message
    assert whole is not None
    assert (
        "differs from its baseline: expected 1280x" in whole.message
        and "but found" in whole.message
    )


async def test_a_page_that_never_holds_still_fails(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    """The home page's clock and canvas change all the time: unmasked, with no
    tolerance, no two screenshots are alike; masked, the spinner is stopped."""
    base_url = await serve(studio_site())
    cases = [
        _case("moving", "/", max_diff_pixel_ratio=0),
        _case("still", "/", max_diff_pixel_ratio=0, mask=[{"css": "#clock"}, {"css": "canvas"}]),
    ]
    results = await _run(browsers, base_url, cases, tmp_path)

    moving, still = results["moving"], results["still"]
    assert moving.status == "failed" and moving.error is not None
    assert moving.error.message == (
        'screenshot "page" did not settle: no two screenshots in a row were alike within 10 s '
        "(mask what keeps changing)"
    )
    assert moving.visual == []
    assert still.status == "passed", still.error
    assert [c.status for c in still.visual] == ["new"]


async def test_a_mask_that_is_no_selector_fails_the_step(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    base_url = await serve(studio_site())
    [result] = (
        await _run(browsers, base_url, [_case("bad", "/about", mask=[{"css": "h1[["}])], tmp_path)
    ).values()

    assert result.status == "failed" and result.error is not None
    assert result.error.message.startswith('could not take screenshot "page": ')


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        (
            [{"action": "expect_screenshot"}, {"action": "expect_screenshot"}],
            'steps.2: screenshot "page" is already taken at steps.1',
        ),
        ([{"action": "expect_screenshot", "name": "../up"}], "name"),
        ([{"action": "expect_screenshot", "threshold": 1.5}], "threshold"),
        ([{"action": "expect_screenshot", "max_diff_pixel_ratio": -0.1}], "max_diff_pixel_ratio"),
        ([{"action": "expect_screenshot", "mask": [{"css": "a", "text": "b"}]}], "exactly one"),
    ],
)
def test_bad_screenshot_steps_are_refused(steps: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        Case.model_validate({"name": "c", "steps": [{"action": "goto", "url": "/"}, *steps]})


def test_a_login_takes_no_screenshots() -> None:
    steps = [{"action": "goto", "url": "/login"}, {"action": "expect_screenshot"}]
    with pytest.raises(ValidationError, match=re.escape("steps.1: a login takes no screenshots")):
        Login.model_validate({"steps": steps})


def test_exported_lines_state_the_masks_and_tolerance() -> None:
    case = Case.model_validate(
        {
            "name": "About: looks right",
            "steps": [
                {"action": "goto", "url": "/about"},
                {
                    "action": "expect_screenshot",
                    "name": "top",
                    "full_page": True,
                    "mask": [{"css": "#clock"}, {"role": "img", "name": "Ad"}],
                    "threshold": 0.3,
                },
            ],
        }
    )
    typescript = export_typescript.export_suite("S", "http://x.test", [case]).code
    python = export_python.export_suite("S", "http://x.test", [case]).code

    assert (
        "await expect(page).toHaveScreenshot(['about-looks-right', 'top.png'], { fullPage: true, "
        "mask: [page.locator('#clock'), page.getByRole('img', { name: 'Ad' })], threshold: 0.3, "
        "maxDiffPixelRatio: 0.001 });"
    ) in typescript
    assert (
        'expect_screenshot(page, ["about-looks-right", "top.png"], full_page=True, '
        'mask=[page.locator("#clock"), page.get_by_role("img", name="Ad")], threshold=0.3, '
        "max_diff_pixel_ratio=0.001)"
    ) in python
    assert "from aegis_visual import expect_screenshot" in python
