"""A run's results as one self-contained HTML page.

The page has a summary (with the count of each classification), then every case,
failures first (then flaky, passed and skipped cases, as Playwright's HTML report
orders them), with its classification's badge, its steps, the one it failed at
marked, its error, for a screenshot that differs from its baseline the expected,
actual and diff images side by side, and its screenshot, all embedded as ``data:``
URIs, so it can be saved, mailed or attached to a CI job on its own. A run the site
was down for says so in one line, its cases folded. The caller hands in the
stylesheet (the daemon's dashboard's, so the report looks like its run page) and
the page inlines it. Every piece of text from the suite or the site is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path

from runner.results import (
    CaseResult,
    Classification,
    RunCounts,
    StepResult,
    VisualCheck,
    failures_first,
)
from runner.triage import MEANINGS, counted, site_was_down

_MARKS = {"passed": "✓", "failed": "✕", "skipped": "\u2013"}


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:.2f} s"


def _image(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _badge(status: str) -> str:
    return f'<span class="badge s-{status}">{status}</span>'


def triage_badge(name: Classification, label: str | None = None, href: str | None = None) -> str:
    """A classification's badge (a link to ``href``, if given): the report's and the
    dashboard's."""
    title = escape(f"{name}: {MEANINGS[name]}")
    tag, link = ("a", f' href="{escape(href)}"') if href else ("span", "")
    text = escape(label or name)
    return f'<{tag} class="badge triage c-{name}"{link} title="{title}">{text}</{tag}>'


def _triage(results: Sequence[CaseResult]) -> str:
    badges = [triage_badge(name, f"{count} {name}") for name, count in counted(results).items()
              if count]  # fmt: skip
    if not badges:
        return ""
    return f'<p class="triage-counts"><span class="label">Triage</span> {" ".join(badges)}</p>'


def _summary(counts: RunCounts) -> str:
    items = [
        ("total", f"{counts.total} cases"),
        ("passed", f"{counts.passed} passed"),
        ("failed", f"{counts.failed} failed"),
        ("skipped", f"{counts.skipped} skipped"),
    ]
    items += [("flaky", f"{counts.flaky} flaky")] if counts.flaky else []
    items.append(("time", f"{_seconds(counts.duration)} of case time"))
    lis = "".join(f'<li class="count s-{kind}">{escape(text)}</li>' for kind, text in items)
    return f'<ul class="summary">{lis}</ul>'


def _step(step: StepResult) -> str:
    time = "" if step.status == "skipped" else f' <span class="sub">{step.duration} ms</span>'
    where = ' <span class="visually-hidden">(failed here)</span>' if step.status == "failed" else ""
    return (
        f'<li class="step s-step-{step.status}"><span class="mark" aria-hidden="true">'
        f'{_MARKS[step.status]}</span><span class="step-text">{escape(step.description)}</span>'
        f"{where}{time}</li>"
    )


class _CaseView:
    """One case's section of the page."""

    def __init__(
        self,
        result: CaseResult,
        artifacts_dir: Path,
        artifact_href: Callable[[str], str] | None,
        folded: bool,
    ) -> None:
        self.result = result
        self.artifacts_dir = artifacts_dir
        self.artifact_href = artifact_href
        self.folded = folded

    def html(self) -> str:
        result = self.result
        attempts = f", {result.attempts} attempts" if result.attempts > 1 else ""
        classified = triage_badge(result.classification) if result.classification else ""
        head = (
            f"<summary>{_badge(result.outcome)}{classified}"
            f'<span class="name">{escape(result.name)}</span>'
            f'<span class="sub nowrap">{_seconds(result.duration)}{attempts}</span></summary>'
        )
        steps = f'<ol class="steps">{"".join(map(_step, result.steps))}</ol>'
        visual = "".join(self._visual(check) for check in result.visual)
        steps = steps if result.steps else ""
        parts = [self._problem(), steps, visual, self._screenshot(), self._trace()]
        is_open = " open" if result.status == "failed" and not self.folded else ""
        body = "".join(part for part in parts if part)
        return (
            f'<details class="case s-border-{result.outcome}"{is_open}>{head}'
            f'<div class="casebody">{body}</div></details>'
        )

    def _problem(self) -> str:
        result = self.result
        if result.error is not None:
            where = ""
            if result.error.step_index is not None:
                action = f" ({result.error.action})" if result.error.action else ""
                where = f'<p class="where">Step {result.error.step_index + 1}{action}</p>'
            return f'<div class="error-box">{where}<pre>{escape(result.error.message)}</pre></div>'
        if result.skip_reason:
            return f'<p class="muted">Skipped: {escape(result.skip_reason)}.</p>'
        return ""

    def _screenshot(self) -> str:
        if self.result.screenshot is None:
            return ""
        source = _image(self.artifacts_dir / self.result.screenshot)
        if source is None:
            return f'<p class="muted">Screenshot {escape(self.result.screenshot)} is missing.</p>'
        alt = escape(f"Screenshot of {self.result.name}")
        return f'<figure class="screenshot"><img src="{source}" alt="{alt}"></figure>'

    def _visual(self, check: VisualCheck) -> str:
        """A differing screenshot: expected, actual and diff side by side (the dashboard's
        markup, without its slider and buttons)."""
        if check.status != "differs":
            return ""
        figures = []
        for label, name in (
            ("Expected", check.expected),
            ("Actual", check.actual),
            ("Diff", check.diff),
        ):
            source = _image(self.artifacts_dir / name) if name else None
            alt = escape(f"{label}: {check.name}")
            image = (
                f'<img src="{source}" alt="{alt}">' if source else '<p class="muted">missing</p>'
            )
            figures.append(f'<figure>{image}<figcaption class="sub">{label}</figcaption></figure>')
        head = (
            f'<div class="visual-head"><span class="strong">Screenshot '
            f'<span class="mono">{escape(check.name)}</span></span><span class="sub">'
            f"{check.diff_pixels:,} pixels differ ({check.diff_ratio * 100:.2f}%)</span></div>"
        )
        return (
            f'<div class="visual-diff">{head}'
            f'<div class="visual-panels">{"".join(figures)}</div></div>'
        )

    def _trace(self) -> str:
        name = self.result.trace
        if name is None:
            return ""
        shown = escape(name)
        if self.artifact_href is not None:
            shown = f'<a href="{escape(self.artifact_href(name))}">{shown}</a>'
        return (
            f'<p class="trace">Playwright trace: {shown} '
            f"<code>npx playwright show-trace {escape(name)}</code></p>"
        )


def render_report(
    results: Sequence[CaseResult],
    *,
    title: str,
    artifacts_dir: Path,
    stylesheet: str,
    details: Mapping[str, str] | None = None,
    artifact_href: Callable[[str], str] | None = None,
    notice: str | None = None,
) -> str:
    """The HTML page for a run's ``results``, styled by ``stylesheet`` (inlined).

    ``details`` are shown under the title as label/value pairs (suite, base URL,
    browser, start time...). Screenshots are read from ``artifacts_dir``;
    ``artifact_href`` turns a trace's file name into a link, if given. ``notice`` is
    the run's one line (why it errored, or that the site was down), shown above the
    cases.
    """
    rows = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in (details or {}).items()
    )
    counts = RunCounts.of(results)
    down = site_was_down(counts.passed, counts.failed, counted(results)["environment"])
    alert = ""
    if notice:
        badge = triage_badge("environment", "site down") + " " if down else ""
        kind = "alert error site-down" if down else "alert error"
        line = f"<p>{badge}<strong>{escape(notice)}</strong></p>"
        alert = f'<div class="{kind}" role="alert">{line}</div>'
    cases = "".join(
        _CaseView(result, artifacts_dir, artifact_href, down).html()
        for result in failures_first(results)
    )
    # A stylesheet can end the <style> element only with "</"; it never needs to.
    style = stylesheet.replace("</", "<\\/")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{style}</style></head><body>"
        f'<div class="report"><header><h1>{escape(title)}</h1><dl class="details">{rows}</dl>'
        f"{_summary(counts)}{_triage(results)}</header>{alert}"
        f'<main class="cases">{cases}</main></div>'
        "</body></html>\n"
    )
