"""What running a case produces: per-step outcomes, the case's result and a run's counts.

These are the ``results`` of ``GET /runs/:id`` and the input of the JUnit and HTML
reports. Durations are integer milliseconds; artifacts are file names inside the
run's artifacts directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CaseStatus = Literal["passed", "failed", "skipped"]
Classification = Literal["regression", "persistent", "new", "flaky", "environment"]
"""The triage of a failed case, or of one that passed only on a retry (DESIGN §10)."""
VisualStatus = Literal["matched", "differs", "new"]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepResult(_Result):
    """One step of a case's last attempt."""

    index: int
    action: str
    description: str
    status: CaseStatus
    duration: int
    error: str | None = None


class CaseError(_Result):
    """Why a case failed: a plain-words message and the step it failed at, if any."""

    message: str
    step_index: int | None = None
    action: str | None = None


class VisualCheck(_Result):
    """One ``expect_screenshot`` of a case's last attempt against its baseline.

    ``new``: there was no baseline, ``actual`` becomes it. ``matched``: within the
    step's tolerance (no files kept). ``differs``: ``expected`` (the baseline as it
    was), ``actual`` and ``diff`` (differing pixels red, anti-aliasing yellow) are
    kept. ``diff_ratio`` is ``diff_pixels`` over the image's pixels.
    """

    name: str
    status: VisualStatus
    diff_pixels: int
    diff_ratio: float
    expected: str | None = None
    actual: str | None = None
    diff: str | None = None

    @property
    def artifacts(self) -> list[str]:
        """The artifact file names this check refers to."""
        return [name for name in (self.expected, self.actual, self.diff) if name is not None]


class CaseResult(_Result):
    """A case's outcome; for a retried case, the last attempt's error, steps and artifacts."""

    case_id: str
    name: str
    status: CaseStatus
    duration: int
    attempts: int
    flaky: bool = False
    error: CaseError | None = None
    skip_reason: str | None = None
    screenshot: str | None = None
    trace: str | None = None
    steps: list[StepResult]
    first_status: int | None = None
    """HTTP status of the main response of the case's first navigation (last attempt)."""
    classification: Classification | None = None
    """Set when the run finishes (see ``runner.triage``)."""
    visual: list[VisualCheck] = Field(default_factory=list)

    @property
    def outcome(self) -> str:
        """The status as reports show and filter it: ``flaky`` for a pass after a retry."""
        return "flaky" if self.status == "passed" and self.flaky else self.status

    @property
    def artifacts(self) -> list[str]:
        """The artifact file names this result refers to."""
        names = [name for name in (self.screenshot, self.trace) if name is not None]
        return names + [name for check in self.visual for name in check.artifacts]


_OUTCOME_ORDER = {"failed": 0, "flaky": 1, "passed": 2, "skipped": 3}


def failures_first(results: Sequence[CaseResult]) -> list[CaseResult]:
    """Failed, flaky, passed, skipped (as Playwright's HTML report orders them); suite
    order within each."""
    return sorted(results, key=lambda result: _OUTCOME_ORDER[result.outcome])


class RunCounts(_Result):
    """How a run's cases came out; ``flaky`` cases are also counted ``passed``."""

    total: int
    passed: int
    failed: int
    skipped: int
    flaky: int
    duration: int
    visual_diffs: int
    """Screenshots that differ from their baselines."""

    @classmethod
    def of(cls, results: Sequence[CaseResult]) -> RunCounts:
        """Count ``results``; ``duration`` is the sum of the cases' durations."""
        statuses = [result.status for result in results]
        return cls(
            total=len(results),
            passed=statuses.count("passed"),
            failed=statuses.count("failed"),
            skipped=statuses.count("skipped"),
            flaky=sum(result.flaky for result in results),
            duration=sum(result.duration for result in results),
            visual_diffs=sum(
                check.status == "differs" for result in results for check in result.visual
            ),
        )
