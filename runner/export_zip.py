"""The zip export: a suite with its configuration and baselines, ready to run as it is.

TypeScript (``npx playwright test`` in the unzipped folder): the spec, a
``playwright.config.ts`` and a ``package.json``. Python (``pytest``): the
pytest-playwright module, a ``conftest.py``, ``aegis_visual.py`` (the screenshot
check Playwright for Python lacks, the way aegisd runs it), ``aegis_pixelmatch.py``
(aegisd's own comparison, :mod:`runner.pixelmatch` as it is) and a
``requirements.txt``; both dependency files add the axe-core package when the
suite has accessibility checks. Both hold the baselines in Playwright's snapshot
layout with a path that is the same on every platform,
``__screenshots__/<browser>/<case folder>/<name>.png``, and the configuration
takes aegisd's viewport and timeouts, the base URL from ``BASE_URL`` (else the
suite's) and the browser from ``PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH`` (else
Playwright's own).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from runner import pixelmatch
from runner.axe import AXE_VERSION
from runner.export_common import Language, SuiteWriter, screenshot_dirs, slug
from runner.export_python import VISUAL_MODULE, PythonWriter
from runner.export_typescript import TypeScriptWriter
from runner.login import Login
from runner.screenshots import LATER_WAIT_S, SETTLE_JS, VIEWPORT, WAITS_S
from runner.steps import Case

SCREENSHOTS_DIR = "__screenshots__"
BROWSER = "chromium"
"""The browser the exported configuration runs, and whose baselines it carries."""

_PIXELMATCH_MODULE = "aegis_pixelmatch"

_PLAYWRIGHT_CONFIG = Template("""\
// Exported from aegisd: `npx playwright test` runs the suite against its baselines.
// BASE_URL points it at another deployment; PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH at a
// Chromium of your own (Playwright's is used when it is unset).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  // The same layout on every platform: __screenshots__/<project>/<case>/<name>.png
  snapshotPathTemplate: '{testDir}/$screenshots/{projectName}/{arg}{ext}',
  fullyParallel: true,
  timeout: $case_timeout,
  expect: { timeout: $step_timeout },
  use: {
    baseURL: process.env.BASE_URL || $base_url,
    viewport: $viewport,
    actionTimeout: $step_timeout,
    navigationTimeout: $navigation_timeout,
  },
  projects: [
    {
      name: '$browser',
      use: {
        browserName: '$browser',
        launchOptions: {
          executablePath: process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH || undefined,
        },
      },
    },
  ],
});
""")

_CONFTEST = Template('''\
"""pytest-playwright settings of the exported suite: base URL, browser, viewport, timeouts.

BASE_URL points the tests at another deployment; PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH at a
Chromium of your own (Playwright's is used when it is unset).
"""

import os

import pytest
from playwright.sync_api import Page, expect

BASE_URL = os.environ.get("BASE_URL") or $base_url
STEP_TIMEOUT_MS = $step_timeout
NAVIGATION_TIMEOUT_MS = $navigation_timeout

expect.set_options(timeout=STEP_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "base_url": BASE_URL, "viewport": $viewport}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH")
    return {**browser_type_launch_args, **({"executable_path": executable} if executable else {})}


@pytest.fixture(autouse=True)
def step_timeouts(page: Page) -> None:
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
''')

_VISUAL = Template('''\
"""Visual checks for pytest-playwright, the way aegisd runs them (exported with the suite).

``expect_screenshot(page, [folder, "name.png"], ...)`` takes the page's screenshot as
Playwright's toHaveScreenshot takes it (animations stopped, caret hidden, fonts loaded,
``mask`` painted over; again until two in a row are alike) and compares it with
``$screenshots/<browser>/<folder>/<name>.png`` using $pixelmatch, aegisd's own
comparison. Without a baseline the screenshot becomes it and the check passes. When it
differs, ``test-results/<folder>/<name>-expected.png``, ``-actual.png`` and ``-diff.png``
(differing pixels red) show how; delete the baseline to record it again.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from itertools import chain, repeat
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from $pixelmatch import compare_images

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "$screenshots"
RESULTS = HERE / "test-results"
TIMEOUT_S = $timeout_s
SETTLE_JS = $settle_js


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def _encode(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image, "RGBA").save(out, format="PNG")
    return out.getvalue()


def _screenshots(
    page: Page, full_page: bool, mask: Sequence[Locator], deadline: float
) -> Iterator[tuple[bytes, np.ndarray]]:
    for wait in chain((0.0,), $waits, repeat($later_wait)):
        if wait:
            page.evaluate(SETTLE_JS, wait * 1000)
        remaining_ms = max(deadline - time.monotonic(), 0.001) * 1000
        png = page.screenshot(animations="disabled", caret="hide", scale="css",
                              full_page=full_page, mask=list(mask), timeout=remaining_ms)
        yield png, _decode(png)


def expect_screenshot(
    page: Page,
    path: Sequence[str],
    *,
    full_page: bool = False,
    mask: Sequence[Locator] = (),
    threshold: float = 0.2,
    max_diff_pixel_ratio: float = 0.001,
) -> None:
    """Assert the page looks like its baseline ``path`` (folder and file name)."""
    name = "/".join(path)
    browser = page.context.browser
    baseline = BASELINES.joinpath(browser.browser_type.name if browser else "chromium", *path)

    def compare(expected: np.ndarray, actual: np.ndarray, diff: bool = False):
        return compare_images(expected, actual, threshold=threshold,
                              max_diff_pixel_ratio=max_diff_pixel_ratio, diff=diff)

    expected_png = baseline.read_bytes() if baseline.exists() else None
    expected = None if expected_png is None else _decode(expected_png)
    deadline = time.monotonic() + TIMEOUT_S
    screenshots = _screenshots(page, full_page, mask, deadline)
    png, image = next(screenshots)
    if expected is not None and compare(expected, image).matches:
        return
    stable = False
    while not stable and time.monotonic() < deadline:
        previous = image
        try:
            png, image = next(screenshots)
        except PlaywrightTimeoutError:
            break
        stable = compare(previous, image).matches
    unsettled = (f"screenshot {name} did not settle: no two screenshots in a row were alike "
                 f"within {TIMEOUT_S:g} s (mask what keeps changing)")
    if expected_png is None:
        assert stable, unsettled
        baseline.parent.mkdir(parents=True, exist_ok=True)
        baseline.write_bytes(png)
        return
    final = compare(expected, image, diff=True)
    if stable and final.matches:
        return
    results = RESULTS.joinpath(*path[:-1])
    results.mkdir(parents=True, exist_ok=True)
    stem = Path(path[-1]).stem
    (results / f"{stem}-expected.png").write_bytes(expected_png)
    (results / f"{stem}-actual.png").write_bytes(png)
    (results / f"{stem}-diff.png").write_bytes(_encode(final.diff))
    assert stable, unsettled
    if final.size_mismatch:
        raise AssertionError(f"screenshot {name} differs from its baseline: {final.size_mismatch}")
    raise AssertionError(
        f"screenshot {name} differs from its baseline: {final.diff_pixels:,} pixels "
        f"({final.diff_ratio * 100:.4g}%) differ, more than the "
        f"{max_diff_pixel_ratio * 100:.4g}% allowed (see {results})"
    )
''')

_REQUIREMENTS = ["pytest-playwright", "numpy", "pillow"]


@dataclass(frozen=True)
class ExportedZip:
    """A zip export: its file name and bytes."""

    filename: str
    data: bytes


def export_zip(
    language: Language,
    name: str,
    base_url: str,
    cases: Sequence[Case],
    login: Login | None,
    baselines: Mapping[tuple[str, str], Path],
    *,
    step_timeout_s: float,
    navigation_timeout_s: float,
    case_timeout_s: float,
) -> ExportedZip:
    """The suite as a zip in ``language`` (see the module doc).

    ``baselines`` are the Chromium baseline files by (case id, screenshot name);
    ``step_timeout_s``, ``navigation_timeout_s`` and ``case_timeout_s`` are aegisd's, so
    the export waits as long as a run does.
    """
    writer: SuiteWriter = TypeScriptWriter() if language == "typescript" else PythonWriter()
    spec = writer.export(name, None, cases, login)
    a11y = any(step.action == "expect_no_a11y_violations" for case in cases for step in case.steps)
    step_timeout = round(step_timeout_s * 1000)
    navigation_timeout = round(navigation_timeout_s * 1000)
    files: dict[str, str | bytes] = {spec.filename: spec.code}
    if language == "typescript":
        files["playwright.config.ts"] = _PLAYWRIGHT_CONFIG.substitute(
            screenshots=SCREENSHOTS_DIR,
            case_timeout=round(case_timeout_s * 1000),
            step_timeout=step_timeout,
            navigation_timeout=navigation_timeout,
            base_url=writer.string(base_url),
            viewport=f"{{ width: {VIEWPORT['width']}, height: {VIEWPORT['height']} }}",
            browser=BROWSER,
        )
        package = {
            "name": slug(name, "-") or "suite",
            "private": True,
            "scripts": {"test": "playwright test"},
            "devDependencies": {
                "@playwright/test": "^1.45.0",
                **({"@axe-core/playwright": AXE_VERSION} if a11y else {}),
            },
        }
        files["package.json"] = json.dumps(package, indent=2) + "\n"
    else:
        files["conftest.py"] = _CONFTEST.substitute(
            base_url=writer.string(base_url),
            step_timeout=step_timeout,
            navigation_timeout=navigation_timeout,
            viewport=dict(VIEWPORT),
        )
        files[f"{VISUAL_MODULE}.py"] = _VISUAL.substitute(
            screenshots=SCREENSHOTS_DIR,
            pixelmatch=_PIXELMATCH_MODULE,
            timeout_s=repr(step_timeout_s),
            settle_js=repr(SETTLE_JS),
            waits=repr(WAITS_S),
            later_wait=repr(LATER_WAIT_S),
        )
        files[f"{_PIXELMATCH_MODULE}.py"] = Path(pixelmatch.__file__).read_text()
        requirements = [*_REQUIREMENTS, *(["axe-playwright-python"] if a11y else [])]
        files["requirements.txt"] = "\n".join(requirements) + "\n"
    folders = dict(zip((case.id for case in cases), screenshot_dirs(cases), strict=True))
    for (case_id, shot), path in baselines.items():
        if case_id in folders:
            files[f"{SCREENSHOTS_DIR}/{BROWSER}/{folders[case_id]}/{shot}.png"] = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, content in files.items():
            archive.writestr(file, content)
    stem = spec.filename.removesuffix(".py").removesuffix(".spec.ts").removeprefix("test_")
    return ExportedZip(filename=f"{stem}-{language}.zip", data=out.getvalue())
