"""Visual bench: aegisd's numpy pixelmatch against the pure-Python ``pixelmatch`` package.

Renders a page of text, a table, shapes and a form at ``--width`` x ``--height``
in Chromium, then the same page changed in three ways a stylesheet change brings
(a colour, a shifted block, a hidden image). Each pair is compared by
:func:`runner.pixelmatch.pixelmatch` (count only, and with the diff image) and
by the package, the reference it must agree with, alternating for ``--rounds``
rounds; the best time of each is printed with the ratio, and the counts must be
equal. The package is pure Python, so it takes seconds per 1280x720 image.

    .venv/bin/python -m bench.visual [--width 1280] [--height 720] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pixelmatch as reference
from playwright.async_api import ViewportSize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.browsers import Browsers, BrowserSettings
from runner.pixelmatch import Image, pixelmatch
from runner.screenshots import decode_png

TARGET_MS = 30.0
"""A 1280x720 comparison (count only) must take less than this."""

_PAGE = """<!doctype html><html><head><style>
body {{ font: 16px/1.5 sans-serif; margin: 24px; color: #222; }}
h1 {{ color: {colour}; }} .box {{ margin-top: {margin}px; padding: 12px; background: #eef; }}
img {{ display: {image}; }} td {{ border: 1px solid #ccc; padding: 4px 10px; }}
</style></head><body><h1>Quarterly report</h1>
<p>{text}</p><div class="box"><table>{rows}</table></div>
<svg width="240" height="90"><circle cx="45" cy="45" r="40" fill="#396"/>
<rect x="100" y="10" width="120" height="70" rx="12" fill="#c63"/></svg>
<img alt="" width="160" height="90" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='160' height='90'%3E%3Crect width='160' height='90' fill='%23358'/%3E%3C/svg%3E">
<form><label>Email <input value="ada@example.com"></label> <button>Send</button></form>
</body></html>"""
_BASE = {"colour": "#335", "margin": 12, "image": "inline"}
CHANGES = {
    "colour": {"colour": "#c22"},
    "layout shift": {"margin": 40},
    "hidden image": {"image": "none"},
}


def _html(**changes: object) -> str:
    text = " ".join(["Sales grew in every region while costs stayed flat."] * 8)
    rows = "".join(f"<tr><td>Region {i}</td><td>{i * 1234} units</td></tr>" for i in range(8))
    return _PAGE.format(text=text, rows=rows, **{**_BASE, **changes})


async def _screenshots(width: int, height: int) -> dict[str, Image]:
    viewport: ViewportSize = {"width": width, "height": height}
    async with (
        Browsers(BrowserSettings()) as browsers,
        browsers.context(viewport=viewport) as context,
    ):
        page = await context.new_page()
        shots = {}
        for name, changes in {"base": {}, **CHANGES}.items():
            await page.set_content(_html(**changes))
            shots[name] = decode_png(await page.screenshot(animations="disabled"))
        return shots


def _timed(compare: Callable[[], int]) -> tuple[float, int]:
    """How long ``compare`` took (ms) and the pixel count it answered."""
    started = time.perf_counter()
    count = compare()
    return (time.perf_counter() - started) * 1000, count


def _compare(base: Image, changed: Image, width: int, height: int, rounds: int) -> list[str]:
    """One row of the table: the change's counts and best times, alternating rounds."""
    flat = (base.reshape(-1).tolist(), changed.reshape(-1).tolist())
    output = np.empty_like(base)
    times: dict[str, list[float]] = {"numpy": [], "with diff": [], "pure Python": []}
    counts: set[int] = set()
    for _ in range(rounds):
        for label, compare in (
            ("numpy", lambda: pixelmatch(base, changed, threshold=0.2)),
            ("with diff", lambda: pixelmatch(base, changed, output, threshold=0.2)),
            ("pure Python", lambda: reference.pixelmatch(*flat, width, height, threshold=0.2)),
        ):
            took, count = _timed(compare)
            times[label].append(took)
            counts.add(count)
    assert len(counts) == 1, f"the counts differ: {counts}"
    fast, drawn, slow = (min(times[label]) for label in times)
    return [
        str(counts.pop()),
        f"{fast:.1f}ms",
        f"{drawn:.1f}ms",
        f"{slow:.0f}ms",
        f"{slow / fast:.0f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shots = asyncio.run(_screenshots(args.width, args.height))
    print(f"{args.width}x{args.height}, threshold 0.2, best of {args.rounds} rounds")
    print(f"{'change':<14} {'diff px':>8} {'numpy':>9} {'with diff':>10} {'pure Python':>12} ratio")
    for name in CHANGES:
        count, fast, drawn, slow, ratio = _compare(
            shots["base"], shots[name], args.width, args.height, args.rounds
        )
        print(f"{name:<14} {count:>8} {fast:>9} {drawn:>10} {slow:>12} {ratio:>5}")
    print(f"target: under {TARGET_MS:g} ms for a 1280x720 comparison (count only)")


if __name__ == "__main__":
    main()
