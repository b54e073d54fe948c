"""Baseline screenshots on disk and in the database (DESIGN §8).

A run is handed the files of its suite's baselines for its browser and the
executor's viewport; the screenshots it takes where there was none (``new``)
become baselines as each case finishes, unless one was recorded meanwhile.
Approving a case result makes its screenshots the baselines, replacing any.
Files live under ``<data_dir>/baselines/<project>/<suite>/`` with a fresh name
per image; a replaced or deleted baseline's file is removed after its row.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aegisd.config import Config
from aegisd.errors import Conflict, ValidationFailed
from runner.executor import Baselines
from runner.results import CaseResult, VisualCheck
from runner.screenshots import VIEWPORT_NAME
from runner.steps import quoted
from storage import Database
from storage.ids import new_id

Row = dict[str, Any]


def _directory(config: Config, run: Row) -> Path:
    return config.baselines_dir(run["project_id"], run["suite_id"])


async def suite_baselines(
    db: Database, config: Config, project_id: str, suite_id: str, browser: str
) -> Baselines:
    """The files of the suite's baselines in ``browser``, by (case id, screenshot name)."""
    rows = await db.browser_baselines(suite_id, browser, VIEWPORT_NAME)
    directory = config.baselines_dir(project_id, suite_id)
    return {(row["case_id"], row["name"]): directory / row["file"] for row in rows}


async def baselines_for_run(db: Database, config: Config, run: Row) -> Baselines:
    """The baseline files ``run`` compares with."""
    if run["suite_id"] is None:
        return {}
    return await suite_baselines(db, config, run["project_id"], run["suite_id"], run["browser"])


async def _copy(config: Config, run: Row, check: VisualCheck) -> str:
    """A copy of ``check``'s actual screenshot among the suite's baselines; its file name."""
    assert check.actual is not None
    source = config.artifacts_dir(run["id"]) / check.actual
    directory = _directory(config, run)
    file = f"{new_id('img')}.png"
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(shutil.copyfile, source, directory / file)
    return file


async def record_new(db: Database, config: Config, run: Row, result: CaseResult) -> None:
    """Keep the screenshots of ``result`` that had no baseline as the baselines."""
    if run["suite_id"] is None:
        return
    for check in result.visual:
        if check.status != "new":
            continue
        file = await _copy(config, run, check)
        added = await db.add_baseline(
            run["suite_id"], result.case_id, check.name, run["browser"], VIEWPORT_NAME, file,
            run["id"],
        )  # fmt: skip
        if not added:  # another run recorded one first, or the case is gone
            (_directory(config, run) / file).unlink(missing_ok=True)


def _approvable(result: CaseResult, names: Sequence[str] | None) -> list[VisualCheck]:
    """The checks of ``result`` to approve: those named (all with a screenshot when
    ``names`` is None); a 400 naming each name that cannot be."""
    if names is None:
        return [check for check in result.visual if check.actual is not None]
    checks = {check.name: check for check in result.visual}
    known = ", ".join(quoted(name) for name in checks) or "none"
    details = []
    for index, name in enumerate(names):
        check = checks.get(name)
        if check is None:
            message = f"no screenshot {quoted(name)} in this result (it has: {known})"
        elif check.actual is None:
            message = f"screenshot {quoted(name)} matched its baseline: there is nothing to approve"
        else:
            continue
        details.append({"field": f"names.{index}", "message": message})
    if details:
        raise ValidationFailed("; ".join(d["message"] for d in details), details)
    return [checks[name] for name in dict.fromkeys(names)]


async def approve(
    db: Database, config: Config, run: Row, result: CaseResult, names: Sequence[str] | None
) -> list[Row]:
    """Make the screenshots of ``result`` (a case result of ``run``) the baselines:
    those ``names``, or all it took when None. The baselines as they are now."""
    checks = _approvable(result, names)
    if checks and (run["suite_id"] is None or await db.get_suite(run["suite_id"]) is None):
        raise Conflict(f"the suite of run {run['id']} was deleted: it has no baselines")
    approved = []
    for check in checks:
        assert check.actual is not None
        if not (config.artifacts_dir(run["id"]) / check.actual).is_file():
            raise Conflict(f"the screenshot {check.actual} of run {run['id']} is gone")
        file = await _copy(config, run, check)
        replaced = await db.set_baseline(
            run["suite_id"], result.case_id, check.name, run["browser"], VIEWPORT_NAME, file,
            run["id"],
        )  # fmt: skip
        if replaced is None:
            (_directory(config, run) / file).unlink(missing_ok=True)
            raise Conflict(f"case {result.case_id} is no longer in suite {run['suite_id']}")
        row, before = replaced
        if before is not None:
            (_directory(config, run) / before).unlink(missing_ok=True)
        approved.append(row)
    return approved


async def delete(db: Database, config: Config, row: Row) -> None:
    """Delete the baseline ``row`` and its file."""
    deleted = await db.delete_baseline(row["id"])
    if deleted is not None:
        baseline_file(config, deleted).unlink(missing_ok=True)


def baseline_file(config: Config, row: Row) -> Path:
    """The image file of the baseline ``row``."""
    directory = config.baselines_dir(str(row["project_id"]), str(row["suite_id"]))
    return directory / str(row["file"])
