"""pixelmatch, vectorised with numpy, and Playwright's image comparison built on it.

:func:`pixelmatch` is a port of the pixelmatch Playwright bundles
(``packages/utils/third_party/pixelmatch.js``, from mapbox/pixelmatch): the YIQ
colour distance of "Measuring perceived color difference using YIQ NTSC
transmission color space in mobile applications" (Kotsarenko and Ramos) against
``threshold``, and pixels that look anti-aliased (the "Anti-aliased Pixel and
Intensity Slope Detector" of Vysniauskas, 2009) drawn yellow and not counted.
Every formula is evaluated in the same order as in JavaScript, in float64 as
JavaScript does, so the count is the same to the pixel.

The work goes where the images differ: identical pixels are dropped with one
32-bit comparison, the colour distance is computed for the rest only, and the
anti-aliasing checks read a region around the pixels over the threshold.

:func:`compare_images` is Playwright's ``compareImages``: images of different
sizes are padded with transparent pixels and never match, and a comparison
fails when more pixels differ than ``max_diff_pixel_ratio`` of the expected
image. The module needs numpy only, so exported suites ship it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
"""An RGBA image: shape (height, width, 4), dtype uint8."""

_Floats = NDArray[np.floating[Any]]
_Channel = _Floats | NDArray[np.uint8]
_Ints = NDArray[np.intp]

MAX_YIQ_DELTA = 35215
"""The largest possible squared YIQ distance between two colours."""

_AA_COLOUR = (255, 255, 0, 255)
_DIFF_COLOUR = (255, 0, 0, 255)
# The 8 neighbours in the order pixelmatch visits them: x outer, y inner.
_NEIGHBOURS = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
# Anti-aliasing checks look at neighbours of neighbours.
_REACH = 2


def pixelmatch(
    img1: Image,
    img2: Image,
    output: Image | None = None,
    *,
    threshold: float = 0.1,
    include_aa: bool = False,
    alpha: float = 0.1,
) -> int:
    """The number of pixels of ``img1`` and ``img2`` (same shape) that differ.

    ``threshold`` (0 to 1; smaller is more sensitive) bounds the YIQ distance of
    pixels that count as equal. Pixels that look anti-aliased in either image are
    not counted unless ``include_aa``. ``output``, when given, receives the diff
    image: ``img1`` in grey blended with white at opacity ``alpha``, differing
    pixels red and anti-aliased ones yellow.
    """
    _check(img1, img2, output)
    width = img1.shape[1]
    first, second = _words(img1), _words(img2)
    changed = np.flatnonzero(first != second)
    if changed.size == 0:
        if output is not None:
            output[...] = _grey(img1, alpha)
        return 0
    max_delta = MAX_YIQ_DELTA * threshold * threshold
    delta = _colour_delta(img1.reshape(-1, 4)[changed], img2.reshape(-1, 4)[changed])
    over = changed[delta > max_delta]
    ys, xs = np.divmod(over, width)
    aliased = np.zeros(over.size, dtype=bool)
    if not include_aa and over.size:
        region = _Region(img1, img2, xs, ys)
        cells = region.index(xs, ys)
        aliased = region.antialiased(cells, 0)
        rest = ~aliased
        aliased[rest] = region.antialiased(cells[rest], 1)
    if output is not None:
        output[...] = _grey(img1, alpha)
        output[ys[aliased], xs[aliased]] = _AA_COLOUR
        output[ys[~aliased], xs[~aliased]] = _DIFF_COLOUR
    return int(over.size - np.count_nonzero(aliased))


def _check(img1: Image, img2: Image, output: Image | None) -> None:
    for image in (img1, img2, output):
        if image is None:
            continue
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
            raise ValueError("images must be RGBA arrays of shape (height, width, 4) and uint8")
    if img1.shape != img2.shape or (output is not None and output.shape != img1.shape):
        raise ValueError(f"image sizes do not match: {img1.shape} and {img2.shape}")


def _words(image: Image) -> NDArray[np.uint32]:
    """Each pixel as one 32-bit word, flat: equal words are equal pixels."""
    return np.ascontiguousarray(image).view(np.uint32).reshape(-1)


def _blended(pixels: Image) -> tuple[_Channel, _Channel, _Channel]:
    """The red, green and blue of ``pixels`` (..., 4) blended with white by their alpha."""
    channels = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    alpha = pixels[..., 3]
    if not (alpha < 255).any():
        # Opaque pixels come out of the formula unchanged, as they do in pixelmatch: the
        # channels serve as they are (numpy widens them to float64 in each product).
        return channels
    opacity = alpha / 255
    red, green, blue = (255 + (channel - 255.0) * opacity for channel in channels)
    return red, green, blue


def _y(red: _Channel, green: _Channel, blue: _Channel) -> _Floats:
    result: _Floats = red * 0.29889531 + green * 0.58662247 + blue * 0.11448223
    return result


def _i(red: _Channel, green: _Channel, blue: _Channel) -> _Floats:
    result: _Floats = red * 0.59597799 - green * 0.2741761 - blue * 0.32180189
    return result


def _q(red: _Channel, green: _Channel, blue: _Channel) -> _Floats:
    result: _Floats = red * 0.21147017 - green * 0.52261711 + blue * 0.31114694
    return result


def _colour_delta(pixels1: Image, pixels2: Image) -> _Floats:
    """The squared YIQ distance of each pair of pixels (pixelmatch's ``colorDelta``)."""
    one, two = _blended(pixels1), _blended(pixels2)
    y = _y(*one) - _y(*two)
    i = _i(*one) - _i(*two)
    q = _q(*one) - _q(*two)
    delta: _Floats = 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q
    return delta


def _grey(image: Image, alpha: float) -> Image:
    """``image`` as pixelmatch draws unchanged pixels: grey, faded towards white."""
    luma = _y(image[..., 0], image[..., 1], image[..., 2])
    opacity = alpha * image[..., 3] / 255
    value = (255 + (luma - 255) * opacity).astype(np.uint8).astype(np.uint32)
    # Written as whole pixels (little-endian RGBA words): grey in R, G, B; A opaque.
    words = value * 0x010101 | 0xFF000000
    grey: Image = words.astype("<u4").view(np.uint8).reshape(image.shape)
    return grey


class _Region:
    """Both images around a set of pixels, for pixelmatch's anti-aliasing checks.

    The bounding box of the pixels, grown by two (neighbours of neighbours), with a
    border of one outside it: each image's pixels as 32-bit words, their
    brightness (the Y of YIQ), and which cells lie inside the image. Pixels are
    addressed by flat indexes into these; coordinates stay the whole image's.
    """

    def __init__(self, img1: Image, img2: Image, xs: _Ints, ys: _Ints) -> None:
        height, width = img1.shape[:2]
        left, top = max(int(xs.min()) - _REACH, 0), max(int(ys.min()) - _REACH, 0)
        right = min(int(xs.max()) + _REACH + 1, width)
        bottom = min(int(ys.max()) + _REACH + 1, height)
        rows, columns = bottom - top, right - left
        self.origin = (left, top)
        self.stride = columns + 2
        self.offsets = [dy * self.stride + dx for dx, dy in _NEIGHBOURS]
        inside = np.zeros((rows + 2, columns + 2), dtype=bool)
        inside[1:-1, 1:-1] = True
        self.inside = inside.reshape(-1)
        ry, rx = np.arange(top, bottom), np.arange(left, right)
        edge = ((ry == 0) | (ry == height - 1))[:, None] | ((rx == 0) | (rx == width - 1))[None, :]
        self.edge = np.zeros((rows + 2, columns + 2), dtype=np.intp)
        self.edge[1:-1, 1:-1] = edge
        self.words: list[NDArray[np.uint32]] = []
        self.brightness: list[_Floats] = []
        self.siblings: list[NDArray[np.bool_]] = []
        for img in (img1, img2):
            crop = img[top:bottom, left:right]
            words = np.zeros((rows + 2, columns + 2), dtype=np.uint32)
            words[1:-1, 1:-1] = np.ascontiguousarray(crop).view(np.uint32)[..., 0]
            brightness = np.zeros((rows + 2, columns + 2))
            brightness[1:-1, 1:-1] = _y(*_blended(crop))
            self.words.append(words.reshape(-1))
            self.brightness.append(brightness.reshape(-1))
            self.siblings.append(self._many_siblings(words, inside).reshape(-1))

    def index(self, xs: _Ints, ys: _Ints) -> _Ints:
        """The flat indexes of pixels at ``xs``, ``ys`` of the whole image."""
        left, top = self.origin
        index: _Ints = (ys - top + 1) * self.stride + (xs - left + 1)
        return index

    def _many_siblings(
        self, words: NDArray[np.uint32], inside: NDArray[np.bool_]
    ) -> NDArray[np.bool_]:
        """Which cells have 3 or more neighbours of exactly their colour (the image's
        edge counting as one): pixelmatch's ``hasManySiblings`` for every cell."""
        rows, columns = words.shape[0] - 2, words.shape[1] - 2
        centre = words[1:-1, 1:-1]
        count = self.edge.copy()
        for dx, dy in _NEIGHBOURS:
            window = (slice(1 + dy, rows + 1 + dy), slice(1 + dx, columns + 1 + dx))
            count[1:-1, 1:-1] += inside[window] & (words[window] == centre)
        many: NDArray[np.bool_] = count > 2
        return many

    def antialiased(self, cells: _Ints, which: int) -> NDArray[np.bool_]:
        """Whether the pixels at flat indexes ``cells`` look anti-aliased in image
        ``which`` (0 or 1), as pixelmatch's ``antialiased(img, x, y, ..., img2)``."""
        result = np.zeros(cells.size, dtype=bool)
        # Three equal neighbours (a flat area) rule anti-aliasing out: that is most pixels.
        sloped = np.flatnonzero(~self.siblings[which][cells])
        cells = cells[sloped]
        words, brightness = self.words[which], self.brightness[which]
        own_word, own_brightness = words[cells], brightness[cells]
        zeroes = self.edge.reshape(-1)[cells]
        deltas = np.empty((len(self.offsets), cells.size))
        for row, offset in enumerate(self.offsets):
            neighbour = cells + offset
            inside = self.inside[neighbour]
            same = ~inside | (words[neighbour] == own_word)
            delta = np.where(same, 0.0, own_brightness - brightness[neighbour])
            zeroes += inside & (delta == 0)
            deltas[row] = delta
        # The first darkest and first brightest neighbour, as pixelmatch's strict < and >.
        darkest, brightest = deltas.argmin(axis=0), deltas.argmax(axis=0)
        columns = np.arange(cells.size)
        slope = (zeroes <= 2) & (deltas[darkest, columns] < 0) & (deltas[brightest, columns] > 0)
        offsets = np.array(self.offsets)
        for extreme in (darkest, brightest):
            at = cells + offsets[extreme]
            result[sloped] |= slope & self.siblings[0][at] & self.siblings[1][at]
        return result


@dataclass(frozen=True)
class Comparison:
    """How an actual image compares with the expected one."""

    diff_pixels: int
    """Pixels that differ beyond the threshold (anti-aliasing not counted)."""

    diff_ratio: float
    """``diff_pixels`` over the pixels compared (the larger size when sizes differ)."""

    size_mismatch: str | None
    """``expected 1280x720 but found 1280x900`` when the sizes differ; such images never
    match."""

    matches: bool
    diff: Image | None
    """The diff image, when asked for."""


def compare_images(
    expected: Image,
    actual: Image,
    *,
    threshold: float = 0.2,
    max_diff_pixel_ratio: float = 0.0,
    diff: bool = False,
) -> Comparison:
    """Compare ``actual`` with ``expected`` as Playwright's ``toHaveScreenshot`` does.

    Images of different sizes are padded to the larger size with transparent
    pixels and compared, but never match. Otherwise they match when at most
    ``max_diff_pixel_ratio`` of the expected image's pixels differ. ``diff`` asks
    for the diff image.
    """
    height = max(expected.shape[0], actual.shape[0])
    width = max(expected.shape[1], actual.shape[1])
    mismatch = None
    if expected.shape != actual.shape:
        mismatch = (
            f"expected {expected.shape[1]}x{expected.shape[0]} "
            f"but found {actual.shape[1]}x{actual.shape[0]}"
        )
        expected, actual = _padded(expected, height, width), _padded(actual, height, width)
    output = np.empty_like(expected) if diff else None
    count = pixelmatch(expected, actual, output, threshold=threshold)
    area = height * width
    return Comparison(
        diff_pixels=count,
        diff_ratio=count / area if area else 0.0,
        size_mismatch=mismatch,
        matches=mismatch is None and count <= area * max_diff_pixel_ratio,
        diff=output,
    )


def _padded(image: Image, height: int, width: int) -> Image:
    padded = np.zeros((height, width, 4), dtype=np.uint8)
    padded[: image.shape[0], : image.shape[1]] = image
    return padded
