"""A run's results as one self-contained HTML page.

The page has a summary, then every case with its steps, its error, its
screenshot and, for a screenshot that differs from its baseline, the expected,
actual and diff images side by side, embedded as ``data:`` URIs, so it can be
saved, mailed or attached to a CI job on its own. Every piece of text from the
suite or the site is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path

from runner.results import CaseResult, RunCounts, StepResult, VisualCheck

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1.5rem;
       color: #1f2328; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
dt { color: #59636e; }
dd { margin: 0; overflow-wrap: anywhere; }
.summary { display: flex; gap: .5rem; flex-wrap: wrap; margin: 1rem 0; padding: 0; }
.summary li { list-style: none; padding: .2rem .7rem; border-radius: 1rem; background: #eff2f5; }
.case { border: 1px solid #d1d9e0; border-radius: .4rem; margin: .6rem 0; }
.case > summary { cursor: pointer; padding: .5rem .8rem; display: flex; gap: .6rem; }
.case > summary .name { flex: 1; font-weight: 600; overflow-wrap: anywhere; }
.case > div { padding: 0 .8rem .8rem; }
.badge { font-size: .8rem; padding: .05rem .5rem; border-radius: .3rem; color: #fff; }
.passed .badge, li.passed { background: #1a7f37; }
.failed .badge, li.failed { background: #cf222e; }
.skipped .badge, li.skipped { background: #6e7781; }
.summary li.passed, .summary li.failed, .summary li.skipped { color: #fff; }
.flaky { background: #9a6700; }
.error { background: #ffebe9; border-left: 4px solid #cf222e; padding: .5rem .8rem;
         white-space: pre-wrap; overflow-wrap: anywhere; }
ol.steps { padding-left: 2rem; }
ol.steps li { padding: .1rem 0; overflow-wrap: anywhere; }
ol.steps li.failed { color: #cf222e; font-weight: 600; }
ol.steps li.skipped { color: #6e7781; }
.time { color: #59636e; font-size: .85rem; }
img { max-width: 100%; border: 1px solid #d1d9e0; }
.visual { display: grid; grid-template-columns: repeat(3, 1fr); gap: .5rem; margin: .5rem 0; }
.visual figcaption { color: #59636e; font-size: .85rem; }
"""


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:.2f} s"


def _image(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _summary(counts: RunCounts) -> str:
    items = [
        ("total", f"{counts.total} cases"),
        ("passed", f"{counts.passed} passed"),
        ("failed", f"{counts.failed} failed"),
        ("skipped", f"{counts.skipped} skipped"),
    ]
    items += [("flaky", f"{counts.flaky} flaky")] if counts.flaky else []
    items.append(("time", f"{_seconds(counts.duration)} of case time"))
    lis = "".join(f'<li class="{kind}">{escape(text)}</li>' for kind, text in items)
    return f'<ul class="summary">{lis}</ul>'


def _step(step: StepResult) -> str:
    time = "" if step.status == "skipped" else f' <span class="time">{step.duration} ms</span>'
    return f'<li class="{step.status}">{escape(step.description)}{time}</li>'


class _CaseView:
    """One case's section of the page."""

    def __init__(
        self,
        result: CaseResult,
        artifacts_dir: Path,
        artifact_href: Callable[[str], str] | None,
    ) -> None:
        self.result = result
        self.artifacts_dir = artifacts_dir
        self.artifact_href = artifact_href

    def html(self) -> str:
        result = self.result
        badges = f'<span class="badge">{result.status}</span>'
        badges += ' <span class="badge flaky">flaky</span>' if result.flaky else ""
        attempts = f", {result.attempts} attempts" if result.attempts > 1 else ""
        head = (
            f'<summary>{badges}<span class="name">{escape(result.name)}</span>'
            f'<span class="time">{_seconds(result.duration)}{attempts}</span></summary>'
        )
        steps = f'<ol class="steps">{"".join(map(_step, result.steps))}</ol>'
        visual = "".join(self._visual(check) for check in result.visual)
        parts = [self._problem(), steps, visual, self._screenshot(), self._trace()]
        is_open = " open" if result.status == "failed" else ""
        body = "".join(part for part in parts if part)
        return f'<details class="case {result.status}"{is_open}>{head}<div>{body}</div></details>'

    def _problem(self) -> str:
        result = self.result
        if result.error is not None:
            where = ""
            if result.error.step_index is not None:
                where = f"Step {result.error.step_index + 1} ({result.error.action}): "
            return f'<p class="error">{escape(where + result.error.message)}</p>'
        if result.skip_reason:
            return f"<p>Skipped: {escape(result.skip_reason)}.</p>"
        return ""

    def _screenshot(self) -> str:
        if self.result.screenshot is None:
            return ""
        source = _image(self.artifacts_dir / self.result.screenshot)
        if source is None:
            return f"<p>Screenshot {escape(self.result.screenshot)} is missing.</p>"
        alt = escape(f"Screenshot of {self.result.name}")
        return f'<figure><img src="{source}" alt="{alt}"></figure>'

    def _visual(self, check: VisualCheck) -> str:
        """A differing screenshot: expected, actual and diff side by side."""
        if check.status != "differs":
            return ""
        figures = []
        for label, name in (
            ("expected", check.expected),
            ("actual", check.actual),
            ("diff", check.diff),
        ):
            source = _image(self.artifacts_dir / name) if name else None
            image = f'<img src="{source}" alt="{label}">' if source else "<p>missing</p>"
            figures.append(f"<figure>{image}<figcaption>{label}</figcaption></figure>")
        caption = escape(f"Screenshot {check.name}: {check.diff_pixels:,} pixels differ")
        return f'<p>{caption}</p><div class="visual">{"".join(figures)}</div>'

    def _trace(self) -> str:
        name = self.result.trace
        if name is None:
            return ""
        shown = escape(name)
        if self.artifact_href is not None:
            shown = f'<a href="{escape(self.artifact_href(name))}">{shown}</a>'
        return (
            f"<p>Playwright trace: {shown} "
            "(open it with <code>npx playwright show-trace</code>)</p>"
        )


def render_report(
    results: Sequence[CaseResult],
    *,
    title: str,
    artifacts_dir: Path,
    details: Mapping[str, str] | None = None,
    artifact_href: Callable[[str], str] | None = None,
) -> str:
    """The HTML page for a run's ``results``.

    ``details`` are shown under the title as label/value pairs (suite, base URL,
    browser, start time...). Screenshots are read from ``artifacts_dir``;
    ``artifact_href`` turns a trace's file name into a link, if given.
    """
    rows = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in (details or {}).items()
    )
    cases = "".join(_CaseView(result, artifacts_dir, artifact_href).html() for result in results)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><dl class="details">{rows}</dl>'
        f"{_summary(RunCounts.of(results))}</header><main>{cases}</main></body></html>\n"
    )
