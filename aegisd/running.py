"""The run job: executes a claimed run's cases in the browser, stores the results and
publishes the run's progress (:mod:`aegisd.progress`) as cases finish."""

from __future__ import annotations

import shutil
import time

from aegisd.baselines import baselines_for_run, record_new
from aegisd.config import Config
from aegisd.jobs import Row
from aegisd.links import LinkSigner
from aegisd.progress import Progress
from aegisd.triage import triage_run
from aegisd.webhooks import run_events
from runner.browsers import Browsers
from runner.errors import BrowserNotAvailable
from runner.executor import Execution
from runner.login import stored_login
from runner.results import CaseResult, RunCounts
from runner.steps import Case
from storage import Database
from storage.webhooks import NewEvent

# What a live view shows of each case as it finishes.
_LIVE_FIELDS = {"case_id", "name", "status", "duration", "flaky"}


class RunJobs:
    """The ``runs`` job kind for :class:`aegisd.jobs.JobQueue`."""

    name = "runs"

    def __init__(
        self, db: Database, browsers: Browsers, config: Config, progress: Progress
    ) -> None:
        self.db = db
        self.browsers = browsers
        self.config = config
        self.progress = progress
        # Webhook payloads carry the run's shareable report link.
        self.links = LinkSigner.load(config.storage.data_dir)
        self._executions: dict[str, Execution] = {}

    async def requeue_interrupted(self) -> int:
        return await self.db.requeue_running("runs")

    async def claim(self) -> Row | None:
        return await self.db.claim_run()

    async def cancelled(self, row: Row) -> None:
        execution = self._executions.pop(row["id"], None)
        results = execution.results if execution is not None else []
        await self._finish(row, "cancelled", results, error="cancelled by request")

    async def failed(self, row: Row, error: str) -> None:
        execution = self._executions.pop(row["id"], None)
        await self._finish(row, "error", execution.results if execution else [], error)

    def events(self, row: Row) -> list[NewEvent]:
        return run_events(self.config, self.links, row)

    async def run(self, row: Row) -> None:
        run_id = row["id"]
        artifacts = self.config.artifacts_dir(run_id)
        shutil.rmtree(artifacts, ignore_errors=True)  # a re-queued run starts from scratch
        positions = {case["id"]: n for n, case in enumerate(row["cases"])}
        # The login as the project has it when the run starts (so also after a restart).
        project = await self.db.get_project(row["project_id"])

        finished: list[CaseResult] = []

        async def on_result(result: CaseResult) -> None:
            await record_new(self.db, self.config, row, result)
            await self.db.add_run_result(
                run_id, positions[result.case_id], result.model_dump(mode="json")
            )
            finished.append(result)
            case = result.model_dump(include=_LIVE_FIELDS)
            self.progress.publish(run_id, "case_finished", {**case, **_counts(row, finished)})

        execution = Execution(
            self.browsers,
            [Case.model_validate(case) for case in row["cases"]],
            base_url=row["base_url"],
            settings=self.config.runner,
            artifacts_dir=artifacts,
            browser=row["browser"],
            retries=row["retries"],
            on_result=on_result,
            login=stored_login(project["settings"]) if project else None,
            baselines=await baselines_for_run(self.db, self.config, row),
        )
        self._executions[run_id] = execution
        self.progress.publish(run_id, "run_progress", _counts(row, finished))
        started = time.monotonic()
        error: str | None = None
        try:
            results = await execution.run()
            status = "failed" if RunCounts.of(results).failed else "passed"
        except BrowserNotAvailable as exc:
            status, error = "error", str(exc)
        # Left registered when cancelled or failed: cancelled()/failed() read the results.
        self._executions.pop(run_id, None)
        duration = round((time.monotonic() - started) * 1000)
        await self._finish(row, status, execution.results, error, duration)

    async def _finish(
        self,
        row: Row,
        status: str,
        results: list[CaseResult],
        error: str | None = None,
        duration: int | None = None,
    ) -> None:
        triaged = await triage_run(self.db, row, results)
        counts = RunCounts.of(triaged.results)
        fields = {} if duration is None else {"duration": duration}
        await self.db.finish_run(
            row["id"],
            status,
            [result.model_dump(mode="json") for result in triaged.results],
            lambda finished: run_events(self.config, self.links, finished, triaged.results),
            total=counts.total,
            passed=counts.passed,
            failed=counts.failed,
            skipped=counts.skipped,
            flaky=counts.flaky,
            classifications=triaged.counts,
            visual_diffs=counts.visual_diffs,
            # A run the site was down for says so in one line, beside its failed cases.
            error=error if error is not None else triaged.summary,
            **fields,
        )
        self.progress.publish(row["id"], "done", {"status": status, **_counts(row, results)})


def _counts(row: Row, results: list[CaseResult]) -> dict[str, int]:
    """The counts a live view shows: cases done of the run's total, and how they came out."""
    counts = RunCounts.of(results)
    return {
        "total": len(row["cases"]),
        "done": counts.total,
        "passed": counts.passed,
        "failed": counts.failed,
        "skipped": counts.skipped,
        "flaky": counts.flaky,
    }
