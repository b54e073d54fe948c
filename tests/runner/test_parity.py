"""Parity: an exported suite gives the same outcome per case as aegisd's own executor.

The shop suite covers every action and every target kind. It is exported and run
with the real ``npx playwright test`` (TypeScript) and with ``pytest`` +
pytest-playwright (Python), against the intact shop (everything passes) and the
broken one (exactly the cases of ``BROKEN_CASES`` fail), and each runner's
outcomes must equal the executor's case by case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.executor import Execution, RunnerSettings
from runner.export_common import ExportedFile
from runner.steps import Case
from tests.conftest import ServeApp
from tests.runner.exported import TIMEOUT_MS, playwright_outcomes, pytest_outcomes
from tests.runner.sites import BROKEN, BROKEN_CASES, SHOP_CASES, shop_site

pytestmark = pytest.mark.parametrize("broken", [False, True], ids=["intact", "broken"])


def _expected(broken: bool) -> dict[str, str]:
    def outcome(name: str, enabled: bool) -> str:
        if not enabled:
            return "skipped"
        return "failed" if broken and name in BROKEN_CASES else "passed"

    return {case.name: outcome(case.name, case.enabled) for case in SHOP_CASES}


async def _shop(serve: ServeApp, broken: bool) -> str:
    app = shop_site()
    app[BROKEN] = broken
    return await serve(app)


async def _executor_outcomes(browsers: Browsers, base_url: str, tmp_path: Path) -> dict[str, str]:
    settings = RunnerSettings(
        workers=2, step_timeout_s=TIMEOUT_MS / 1000, screenshots="off", trace="off"
    )
    execution = Execution(
        browsers, SHOP_CASES, base_url=base_url, settings=settings, artifacts_dir=tmp_path / "art"
    )
    results = await execution.run()
    errors = {result.name: result.error.message for result in results if result.error}
    print("executor errors:", errors)  # shown by pytest when the comparison fails
    return {result.name: result.status for result in results}


Exporter = Callable[[str, str, Sequence[Case]], ExportedFile]
RunExport = Callable[[ExportedFile, Path], Awaitable[dict[str, str]]]
EXPORTS: dict[str, tuple[Exporter, RunExport]] = {
    "typescript": (export_typescript.export_suite, playwright_outcomes),
    "python": (export_python.export_suite, pytest_outcomes),
}


async def test_exports_give_the_executors_outcomes(
    broken: bool, browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    base_url = await _shop(serve, broken)

    ours = await _executor_outcomes(browsers, base_url, tmp_path)
    exported = {
        language: await run_export(export_suite("Shop", base_url, SHOP_CASES), tmp_path / language)
        for language, (export_suite, run_export) in EXPORTS.items()
    }

    assert ours == _expected(broken)
    assert exported == dict.fromkeys(EXPORTS, ours)
