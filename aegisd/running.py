"""The run job: executes a claimed run's cases in the browser and stores the results."""

from __future__ import annotations

import shutil
import time

from aegisd.api.projects import project_login
from aegisd.baselines import baselines_for_run, record_new
from aegisd.config import Config
from aegisd.jobs import Row
from aegisd.links import LinkSigner
from aegisd.triage import triage_run
from aegisd.webhooks import run_events
from runner.browsers import Browsers
from runner.errors import BrowserNotAvailable
from runner.executor import Execution
from runner.results import CaseResult, RunCounts
from runner.steps import Case
from storage import Database
from storage.webhooks import NewEvent


class RunJobs:
    """The ``runs`` job kind for :class:`aegisd.jobs.JobQueue`."""

    name = "runs"

    def __init__(self, db: Database, browsers: Browsers, config: Config) -> None:
        self.db = db
        self.browsers = browsers
        self.config = config
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

        async def on_result(result: CaseResult) -> None:
            await record_new(self.db, self.config, row, result)
            await self.db.add_run_result(
                run_id, positions[result.case_id], result.model_dump(mode="json")
            )

        execution = Execution(
            self.browsers,
            [Case.model_validate(case) for case in row["cases"]],
            base_url=row["base_url"],
            settings=self.config.runner,
            artifacts_dir=artifacts,
            browser=row["browser"],
            retries=row["retries"],
            on_result=on_result,
            # The login as the project has it when the run starts (so also after a restart).
            login=await project_login(self.db, row["project_id"]),
            baselines=await baselines_for_run(self.db, self.config, row),
        )
        self._executions[run_id] = execution
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
