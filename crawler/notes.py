"""Why a generated suite holds what it holds: the ``generation`` notes of a suite (DESIGN §7).

Per case, why it was made; per page, the assertions left out and the reason, so a
user can see what a suite does not check instead of guessing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LeftOutReason = Literal[
    "not_unique",
    "not_found",
    "hidden",
    "volatile",
    "console_errors",
    "variant",
    "destructive",
    "truncated",
    "post",
    "not_simple",
    "download",
    "left_origin",
    "no_navigation",
    "error_status",
    "submit_failed",
    "not_submitted",
]
"""Why an assertion was left out:

- ``not_unique``, ``not_found``, ``hidden``: no locator found the element alone and
  visible in the live page at crawl time (several matches, none, or a hidden one);
- ``volatile``: the text looks like it changes between loads (times, dates, counters...);
- ``console_errors``: the crawl saw console errors there, so "no console errors" would fail;
- ``variant``: the page is a query-string variant of a page already tested (same path
  and query keys);
- ``destructive``: the link or form looks like logging out or deleting;
- ``truncated``: the page had more links or forms than the crawler keeps;
- ``post``: a POST form is not submitted unless ``settings.submit_post_forms``;
- ``not_simple``: the form has a password, file or captcha field, a required field no
  value can be made for, too many fields, or no usable submit button;
- ``download``, ``left_origin``, ``no_navigation``, ``error_status``, ``submit_failed``:
  what the crawl's own submission of the GET form did instead of landing on a page of
  the site (a file download, another origin, nothing, a 4xx/5xx page, a failed step);
- ``not_submitted``: the crawl did not get to submit the GET form, so its outcome is unknown.
"""


class LeftOut(BaseModel):
    """One assertion generation did not make, and why."""

    what: str
    """The assertion, e.g. ``heading "Reports"``, ``navigation to link "Docs"``,
    ``submit of form "search"``, ``no console errors``, ``page``."""

    reason: LeftOutReason
    detail: str | None = None
    """More words where they help, e.g. the page it is a variant of."""


class PageNotes(BaseModel):
    """The assertions left out on one crawled page."""

    url: str
    """The page's path and query."""

    left_out: list[LeftOut]


class CaseNote(BaseModel):
    """Why one generated case was made."""

    name: str
    why: str


class GenerationNotes(BaseModel):
    """The notes of one generated suite: ``cases`` in the suite's order, then ``pages``
    with something left out, in crawl order."""

    cases: list[CaseNote] = Field(default_factory=list)
    pages: list[PageNotes] = Field(default_factory=list)
