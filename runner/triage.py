"""Triage: what kind of failure each failed case is (DESIGN §10).

A failed case, or one that passed only on a retry, gets a classification when its
run finishes, from the case's earlier outcomes against the same base URL:

- ``environment``: the site could not be reached. The case failed at its first
  navigation with no answer (connection refused or reset, DNS, a timeout), or every
  case of the run that ran got a 5xx answer to its first navigation.
- ``flaky``: it passed on a retry, or its outcome flipped (passed to failed or back)
  at least ``FLIP_THRESHOLD`` times in its last ``FLIP_WINDOW`` runs, this one included.
- ``new``: it has no earlier outcome (it did not exist, or never ran, there).
- ``regression``: it passed the last time it ran there.
- ``persistent``: it failed the last time it ran there too.

Where several apply, the first in that order wins. Outcomes classified ``environment``
say nothing about the case, so they are left out of the earlier outcomes given here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from runner.results import CaseResult, Classification

CLASSIFICATIONS: tuple[Classification, ...] = get_args(Classification)
FLIP_WINDOW = 10
FLIP_THRESHOLD = 3
MEANINGS: dict[Classification, str] = {
    "regression": "it passed the last time it ran against this base URL",
    "persistent": "it failed the last time it ran against this base URL too",
    "new": "it has no earlier outcome against this base URL",
    "flaky": (
        f"it passed on a retry, or its outcome flipped {FLIP_THRESHOLD} times in its last "
        f"{FLIP_WINDOW} runs"
    ),
    "environment": "the site could not be reached: not the case's fault",
}
"""What each classification says about a result, in the words reports show on hover."""

# What browsers say when a navigation got no answer at all (Chromium, Firefox, WebKit).
_NO_ANSWER = re.compile(
    r"net::ERR_(?:CONNECTION_(?:REFUSED|RESET|CLOSED|FAILED|TIMED_OUT)|NAME_NOT_RESOLVED"
    r"|NAME_RESOLUTION_FAILED|ADDRESS_UNREACHABLE|NETWORK_UNREACHABLE|INTERNET_DISCONNECTED"
    r"|TIMED_OUT|EMPTY_RESPONSE|PROXY_CONNECTION_FAILED)\b"
    r"|NS_ERROR_(?:CONNECTION_REFUSED|UNKNOWN_HOST|NET_TIMEOUT|NET_RESET|NET_INTERRUPT|OFFLINE)\b"
    r"|Could not connect to (?:the )?server|server with the specified hostname could not be found"
    r"|^Timeout \d+ms exceeded"
)
_LOAD_FAILED = re.compile(r"^could not load .+?: (?P<reason>.+)$", re.DOTALL)
_LOGIN_OPENING = re.compile(r"^login failed at step 1 \(goto\): (?P<message>.+)$", re.DOTALL)


@dataclass(frozen=True)
class Triage:
    """A run's results with their classifications, the counts, and the run's one line."""

    results: list[CaseResult]
    counts: dict[Classification, int]
    summary: str | None
    """Set when the site was down for the whole run: at least one case failed, none
    passed, and every failure is ``environment``."""


def counted(results: Sequence[CaseResult]) -> dict[Classification, int]:
    """How many of ``results`` got each classification (every one named, zeros too)."""
    counts = {name: 0 for name in CLASSIFICATIONS}
    for result in results:
        if result.classification is not None:
            counts[result.classification] += 1
    return counts


def site_was_down(passed: int, failed: int, environment: int) -> bool:
    """Whether the site was down for a whole run: of its cases that ran (``passed``,
    ``failed``), at least one failed, none passed, and every failure is ``environment``."""
    return failed > 0 and passed == 0 and environment == failed


def flips(statuses: Sequence[str]) -> int:
    """How many times consecutive outcomes differ."""
    return sum(a != b for a, b in itertools.pairwise(statuses))


def _no_answer(message: str, sequence: str) -> str | None:
    """The reason, if ``message`` says a navigation got no answer (or ``sequence`` timed out)."""
    if message.startswith(f"{sequence} took longer than"):
        return message
    failed = _LOAD_FAILED.match(message)
    if failed is not None and _NO_ANSWER.search(failed["reason"]):
        return failed["reason"]
    return None


def unreachable(result: CaseResult) -> str | None:
    """Why the site could not be reached, if that is why ``result`` failed: its first
    navigation (or the run's login's, which opens with a ``goto``) got no answer."""
    error = result.error
    if result.status != "failed" or error is None:
        return None
    login = _LOGIN_OPENING.match(error.message)
    if login is not None:
        return _no_answer(login["message"], "the login")
    first = next((step.index for step in result.steps if step.action == "goto"), None)
    if error.action != "goto" or error.step_index != first:
        return None
    return _no_answer(error.message, "the case")


def _classify(
    result: CaseResult, environment: bool, previous: Sequence[str]
) -> Classification | None:
    if result.status == "passed":
        return "flaky" if result.flaky else None
    if result.status != "failed":
        return None
    if environment:
        return "environment"
    if flips([result.status, *previous[: FLIP_WINDOW - 1]]) >= FLIP_THRESHOLD:
        return "flaky"
    if not previous:
        return "new"
    return "regression" if previous[0] == "passed" else "persistent"


def _summary(failed: list[CaseResult], reasons: dict[int, str | None]) -> str:
    reason = next((why for why in reasons.values() if why), None)
    if reason is not None:
        return f"site unreachable: {reason} ({len(failed)} cases could not load their first page)"
    codes = sorted({str(result.first_status) for result in failed})
    return f"site unavailable: every case's first page answered HTTP {', '.join(codes)}"


def triage(results: Sequence[CaseResult], previous: Mapping[str, Sequence[str]]) -> Triage:
    """Classify ``results``; ``previous`` holds each case's earlier outcomes by case name,
    newest first (``FLIP_WINDOW - 1`` are enough), ``environment`` ones left out."""
    ran = [result for result in results if result.status != "skipped"]
    failed = [result for result in ran if result.status == "failed"]
    reasons = {id(result): unreachable(result) for result in failed}
    # A 5xx on one page is the page's fault; on every case of the run, the site's.
    down = bool(failed) and all(
        reasons.get(id(result)) or (result.first_status or 0) >= 500 for result in ran
    )
    classified = [
        result.model_copy(
            update={
                "classification": _classify(
                    result, down or bool(reasons.get(id(result))), previous.get(result.name, ())
                )
            }
        )
        for result in results
    ]
    counts = counted(classified)
    whole_run = site_was_down(len(ran) - len(failed), len(failed), counts["environment"])
    return Triage(classified, counts, _summary(failed, reasons) if whole_run else None)
