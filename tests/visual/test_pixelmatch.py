"""The numpy pixelmatch counts and draws exactly what the pure-Python ``pixelmatch`` does.

The PyPI package is a line-by-line port of the same mapbox code Playwright
bundles, so it is the reference: on drawn, anti-aliased, semi-transparent,
noisy, shifted and edge-of-image pairs, at several thresholds, both the count
and every pixel of the diff image must agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pixelmatch as reference
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from runner.pixelmatch import Image, compare_images, pixelmatch


def _drawn(seed: int, width: int = 96, height: int = 64, shift: int = 0) -> Image:
    """Shapes and text drawn large and scaled down, so their edges are anti-aliased;
    some shapes are translucent."""
    scale = 4
    canvas = PILImage.new("RGBA", (width * scale, height * scale), (250, 250, 250, 255))
    draw = ImageDraw.Draw(canvas)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        x, y = (int(v) for v in rng.integers(0, width * scale, 2))
        size = int(rng.integers(30, 140))
        colour = (*(int(v) for v in rng.integers(0, 256, 3)), int(rng.integers(90, 256)))
        draw.ellipse([x + shift, y, x + size + shift, y + size], fill=colour)
    font = ImageFont.load_default(size=48)
    draw.text((8 + shift, 8), "Aa 12:30", fill=(20, 20, 20, 255), font=font)
    return np.asarray(canvas.resize((width, height), PILImage.Resampling.LANCZOS)).copy()


def _noisy(seed: int) -> tuple[Image, Image]:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    second = first.copy()
    changed = rng.random((30, 40)) < 0.3
    second[changed] = rng.integers(0, 256, (int(changed.sum()), 4), dtype=np.uint8)
    return first, second


def _edges() -> tuple[Image, Image]:
    """Differences on the first and last rows and columns, and in the corners."""
    first = _drawn(7, 40, 30)
    second = first.copy()
    second[0, :] = (0, 0, 0, 255)
    second[:, -1] = (255, 255, 255, 128)
    second[-1, ::3] = (10, 200, 10, 255)
    return first, second


def _line(width: int) -> tuple[Image, Image]:
    first = np.full((1, width, 4), 255, dtype=np.uint8)
    second = first.copy()
    second[0, width // 2] = (0, 0, 0, 255)
    return first, second


PAIRS: dict[str, Callable[[], tuple[Image, Image]]] = {
    "shifted text and shapes": lambda: (_drawn(1), _drawn(1, shift=3)),
    "different drawings": lambda: (_drawn(2), _drawn(3)),
    "identical": lambda: (_drawn(4), _drawn(4)),
    "noise": lambda: _noisy(5),
    "edges and translucency": _edges,
    "one row": lambda: _line(9),
    "one pixel": lambda: _line(1),
}


def _reference(
    first: Image, second: Image, threshold: float, include_aa: bool
) -> tuple[int, Image]:
    height, width = first.shape[:2]
    output = [0] * (width * height * 4)
    count = reference.pixelmatch(
        first.reshape(-1).tolist(),
        second.reshape(-1).tolist(),
        width,
        height,
        output,
        threshold=threshold,
        includeAA=include_aa,
    )
    return count, np.array(output, dtype=np.uint8).reshape(first.shape)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.2, 0.5])
def test_counts_and_draws_what_the_reference_does(pair: str, threshold: float) -> None:
    first, second = PAIRS[pair]()
    for include_aa in (False, True):
        expected_count, expected_diff = _reference(first, second, threshold, include_aa)
        diff = np.empty_like(first)

        count = pixelmatch(first, second, diff, threshold=threshold, include_aa=include_aa)

        assert count == expected_count
        assert np.array_equal(diff, expected_diff)


def test_anti_aliasing_is_detected_and_not_counted() -> None:
    first, second = _drawn(1), _drawn(1, shift=4)
    diff = np.empty_like(first)

    counted = pixelmatch(first, second, diff, threshold=0.1)

    yellow = np.all(diff == (255, 255, 0, 255), axis=-1).sum()
    red = np.all(diff == (255, 0, 0, 255), axis=-1).sum()
    assert yellow > 0 and red == counted
    assert pixelmatch(first, second, threshold=0.1, include_aa=True) == counted + yellow


def test_images_of_other_sizes_never_match() -> None:
    small = np.full((10, 10, 4), (90, 90, 90, 255), dtype=np.uint8)
    tall = np.full((12, 10, 4), (90, 90, 90, 255), dtype=np.uint8)

    comparison = compare_images(small, tall, max_diff_pixel_ratio=1.0, diff=True)

    assert not comparison.matches
    assert comparison.size_mismatch == "expected 10x10 but found 10x12"
    # The missing rows are padded transparent (white, blended): they differ from grey.
    assert comparison.diff_pixels == 20 and comparison.diff is not None
    assert comparison.diff.shape == (12, 10, 4)


def test_the_ratio_allows_as_many_pixels_as_it_says() -> None:
    first = np.full((10, 10, 4), 255, dtype=np.uint8)
    second = first.copy()
    second[0, :2] = (0, 0, 0, 255)  # 2 of 100 pixels

    assert compare_images(first, second, max_diff_pixel_ratio=0.02).matches
    assert not compare_images(first, second, max_diff_pixel_ratio=0.019).matches
    assert compare_images(first, second).diff_ratio == 0.02


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (np.zeros((2, 2, 4), np.uint8), np.zeros((2, 3, 4), np.uint8)),
        (np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8)),
        (np.zeros((2, 2, 4), np.float32), np.zeros((2, 2, 4), np.float32)),
    ],
    ids=["sizes", "rgb", "float"],
)
def test_refuses_what_is_not_two_rgba_images_of_one_size(first: Image, second: Image) -> None:
    with pytest.raises(ValueError, match="image"):
        pixelmatch(first, second)
