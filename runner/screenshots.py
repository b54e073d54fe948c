"""``expect_screenshot`` as Playwright's ``toHaveScreenshot`` runs it (DESIGN §8).

Each screenshot is ``page.screenshot`` with toHaveScreenshot's options: CSS
animations and transitions stopped, the caret hidden, CSS pixels, and Playwright
itself waits for the fonts and paints the ``mask`` targets over in its mask colour
(``#FF00FF``). The loop is toHaveScreenshot's (``Page.expectScreenshot`` in
playwright-core): a first screenshot is compared with the baseline and passes if
it matches; otherwise screenshots are taken 100, 250, 500 and then every 1000 ms
later (each after two animation frames) until two in a row match each other, and
that stable one is compared with the baseline. Without a baseline the first
stable screenshot becomes one. "Match" is :func:`runner.pixelmatch.compare_images`
with the step's ``threshold`` and ``max_diff_pixel_ratio``, run off the event loop.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from playwright.async_api import Locator, Page, ViewportSize
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from runner.errors import StepFailed
from runner.pixelmatch import Comparison, Image, compare_images
from runner.results import VisualCheck, VisualStatus
from runner.steps import ExpectScreenshot, quoted

VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
"""The viewport every case runs in, so screenshots compare (Playwright Test's default)."""

VIEWPORT_NAME = f"{VIEWPORT['width']}x{VIEWPORT['height']}"
"""The viewport as baselines are keyed by it."""

SETTLE_JS = (
    "(ms) => Promise.all([new Promise((done) => requestAnimationFrame(() => "
    "requestAnimationFrame(done))), new Promise((done) => setTimeout(done, ms))])"
)
"""Waits two animation frames and ``ms`` milliseconds, as toHaveScreenshot does between
screenshots."""

WAITS_S = (0.1, 0.25, 0.5)
"""How long toHaveScreenshot waits before its second, third and fourth screenshots."""
LATER_WAIT_S = 1.0
"""...and before each one after those."""


def decode_png(data: bytes) -> Image:
    """A PNG as an RGBA array."""
    with PILImage.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def encode_png(image: Image) -> bytes:
    """An RGBA array as a PNG."""
    out = io.BytesIO()
    PILImage.fromarray(image, "RGBA").save(out, format="PNG")
    return out.getvalue()


def artifact_name(case_id: str, name: str, kind: str) -> str:
    """The file of screenshot ``name``'s ``expected``, ``actual`` or ``diff`` image."""
    return f"{case_id}-{name}-{kind}.png"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.4g}%"


@dataclass(frozen=True)
class _Shot:
    """A screenshot as taken and as pixels."""

    png: bytes
    image: Image


class Screenshots:
    """The ``expect_screenshot`` steps of one attempt of one case.

    ``baselines`` maps a screenshot's name to its baseline file (none yet: the
    screenshot becomes it). Images worth keeping go into ``artifacts_dir`` under
    :func:`artifact_name`; :attr:`checks` says how each step came out.
    """

    def __init__(self, case_id: str, artifacts_dir: Path, baselines: Mapping[str, Path]) -> None:
        self.case_id = case_id
        self.artifacts_dir = artifacts_dir
        self.baselines = baselines
        self.checks: list[VisualCheck] = []

    async def check(
        self, page: Page, step: ExpectScreenshot, mask: Sequence[Locator], *, timeout_s: float
    ) -> None:
        """Take ``page``'s screenshot for ``step`` and compare it with its baseline.

        Raises ``StepFailed`` when it differs or never holds still within ``timeout_s``;
        Playwright's errors (a closed page) propagate.
        """
        files = {kind: artifact_name(self.case_id, step.name, kind) for kind in _KINDS}
        for file in files.values():
            (self.artifacts_dir / file).unlink(missing_ok=True)  # an earlier attempt's
        expected = await self._baseline(step.name)
        shooter = _Shooter(page, step, mask, time.monotonic() + timeout_s)
        shot = await shooter.next()
        if expected is not None:
            first = await asyncio.to_thread(_compare, expected.image, shot.image, step)
            if first.matches:
                self._record(step, "matched", first)
                return
        stable = await shooter.settle(shot)
        if expected is None:
            if stable is None:
                raise StepFailed(_unsettled(step, timeout_s))
            await self._write(files["actual"], stable.png)
            self._record(step, "new", None, {"actual": files["actual"]})
            return
        actual = stable or shooter.last
        final = await asyncio.to_thread(_compare, expected.image, actual.image, step, diff=True)
        if stable is not None and final.matches:
            self._record(step, "matched", final)
            return
        assert final.diff is not None
        await self._write(files["expected"], expected.png)
        await self._write(files["actual"], actual.png)
        await self._write(files["diff"], await asyncio.to_thread(encode_png, final.diff))
        self._record(step, "differs", final, files)
        raise StepFailed(_unsettled(step, timeout_s) if stable is None else _differs(step, final))

    async def _baseline(self, name: str) -> _Shot | None:
        path = self.baselines.get(name)
        if path is None:
            return None
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:  # deleted since the run began: there is none now
            return None
        return _Shot(data, await asyncio.to_thread(decode_png, data))

    async def _write(self, name: str, data: bytes) -> None:
        await asyncio.to_thread((self.artifacts_dir / name).write_bytes, data)

    def _record(
        self,
        step: ExpectScreenshot,
        status: VisualStatus,
        comparison: Comparison | None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        count = comparison.diff_pixels if comparison else 0
        ratio = round(comparison.diff_ratio, 6) if comparison else 0.0
        self.checks.append(
            VisualCheck(name=step.name, status=status, diff_pixels=count, diff_ratio=ratio,
                        **(files or {}))
        )  # fmt: skip


_KINDS = ("expected", "actual", "diff")


class _Shooter:
    """Takes one step's screenshots of a page, waiting longer before each, until its
    deadline."""

    def __init__(
        self, page: Page, step: ExpectScreenshot, mask: Sequence[Locator], deadline: float
    ) -> None:
        self.page = page
        self.step = step
        self.mask = list(mask)
        self.deadline = deadline
        self.waits = chain((0.0,), WAITS_S, repeat(LATER_WAIT_S))
        self.last: _Shot

    async def next(self) -> _Shot:
        """The next screenshot."""
        wait = next(self.waits)
        if wait:
            await self.page.evaluate(SETTLE_JS, wait * 1000)
        remaining_ms = max(self.deadline - time.monotonic(), 0.001) * 1000
        png = await self.page.screenshot(
            animations="disabled",
            caret="hide",
            scale="css",
            full_page=self.step.full_page,
            mask=self.mask,
            timeout=remaining_ms,
        )
        self.last = _Shot(png, await asyncio.to_thread(decode_png, png))
        return self.last

    async def settle(self, previous: _Shot) -> _Shot | None:
        """The later of the first two screenshots in a row that are alike (``previous``
        being the first taken), or None when the page did not hold still in time."""
        while time.monotonic() < self.deadline:
            try:
                current = await self.next()
            except PlaywrightTimeoutError:
                return None
            alike = await asyncio.to_thread(_compare, previous.image, current.image, self.step)
            if alike.matches:
                return current
            previous = current
        return None


def _compare(
    expected: Image, actual: Image, step: ExpectScreenshot, *, diff: bool = False
) -> Comparison:
    return compare_images(
        expected,
        actual,
        threshold=step.threshold,
        max_diff_pixel_ratio=step.max_diff_pixel_ratio,
        diff=diff,
    )


def _unsettled(step: ExpectScreenshot, timeout_s: float) -> str:
    return (
        f"screenshot {quoted(step.name)} did not settle: no two screenshots in a row were "
        f"alike within {timeout_s:g} s (mask what keeps changing)"
    )


def _differs(step: ExpectScreenshot, comparison: Comparison) -> str:
    name = quoted(step.name)
    if comparison.size_mismatch is not None:
        return f"screenshot {name} differs from its baseline: {comparison.size_mismatch}"
    return (
        f"screenshot {name} differs from its baseline: {comparison.diff_pixels:,} pixels "
        f"({_percent(comparison.diff_ratio)}) differ, more than the "
        f"{_percent(step.max_diff_pixel_ratio)} allowed"
    )
