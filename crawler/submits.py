"""The crawl's own submission of GET forms: what does the submit button really do?

A generated form case may only submit a form and expect to land on a page when
that is what happens. So the crawl fills and submits each distinct simple GET form
once (``form_key``), on the page it found it on, with the very steps its case would
play (``plan_form``), played by the executor's ``Playback``, and records in
``PageForm.submission`` whether it navigated to a page of the site, downloaded a
file, left the origin or did nothing, the landing page's status, and the console
errors from the first fill to the landing page's ``load`` event.

Console errors are those seen until the network is idle after ``load`` (at most
``SETTLE_S`` more): what the landing page fetches as it starts counts too.

"Did nothing" means no navigation began and no download started within
``SETTLE_S`` of the click: a form handled by a script, or one too slow to
rely on; either way its case does not submit it. POST forms are never submitted
by the crawl: that could create data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress

from playwright.async_api import Download, Frame, Page, Response
from playwright.async_api import Error as PlaywrightError

from crawler.analysis import PageAnalysis
from crawler.form_cases import FormKey, form_key, plan_form
from crawler.models import FormSubmission, PageForm
from crawler.urls import normalise_url, origin_of
from runner.playback import Playback, reason
from runner.steps import Step

SETTLE_S = 5.0
"""Longest wait after the click for a navigation or a download to begin."""

FormClaim = Callable[[FormKey], bool]
"""Answers ``True`` once per form key: the first visit asking submits that form."""


async def submit_forms(
    page: Page, analysis: PageAnalysis, claim: FormClaim, *, timeout_s: float
) -> None:
    """Submit the page's simple GET forms not claimed by another page, one by one.

    The page is loaded again before every form but the first; ``timeout_s`` bounds
    each step, navigation and load. Outcomes go to each form's ``submission``.
    """
    loaded = True
    for form in analysis.forms:
        plan = plan_form(analysis.url, form)
        if form.method != "get" or plan.submit is None:
            continue
        if not claim(form_key(analysis.url, form)):
            continue
        if not loaded:
            try:
                await page.goto(analysis.url, wait_until="load", timeout=timeout_s * 1000)
            except PlaywrightError:
                return
        form.submission = await _submit(page, form, plan.submit, timeout_s)
        loaded = False


async def _submit(
    page: Page, form: PageForm, steps: list[Step], timeout_s: float
) -> FormSubmission:
    started = asyncio.Event()
    responses: list[Response] = []
    downloads: list[Download] = []

    def on_download(download: Download) -> None:
        downloads.append(download)
        started.set()

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            started.set()

    def on_response(response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == page.main_frame:
            responses.append(response)

    playback = Playback(page, step_timeout_s=timeout_s)
    playback.collect_console_errors()  # what the landing page logs decides its assertion
    page.on("download", on_download)
    page.on("framenavigated", on_navigated)
    page.on("response", on_response)
    try:
        failure = await playback.play(steps, timeout_s=timeout_s, what="submitting the form")
        if failure is not None:
            return FormSubmission(outcome="failed", error=failure.message)
        try:
            await asyncio.wait_for(started.wait(), SETTLE_S)
        except TimeoutError:
            return FormSubmission(outcome="no_navigation")
        if downloads:
            return FormSubmission(outcome="download")
        try:
            await page.wait_for_load_state("load", timeout=timeout_s * 1000)
        except PlaywrightError as error:
            return FormSubmission(outcome="failed", error=f"the page it led to: {reason(error)}")
        # What the landing page fetches as it starts can fail after ``load``: wait for it.
        with suppress(PlaywrightError):
            await page.wait_for_load_state("networkidle", timeout=SETTLE_S * 1000)
        url = normalise_url(page.url) or page.url
        landed = [r for r in responses if not 300 <= r.status < 400]
        status = landed[-1].status if landed else None
        outcome = "navigated" if origin_of(url) == origin_of(form.action) else "left_origin"
        return FormSubmission(
            outcome=outcome, url=url, status=status, console_errors=sorted(playback.console_errors)
        )
    finally:
        page.remove_listener("download", on_download)
        page.remove_listener("framenavigated", on_navigated)
        page.remove_listener("response", on_response)
