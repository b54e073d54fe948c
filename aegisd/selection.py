"""Which of a suite's cases a CI trigger runs: ``selectionStrategy`` (DESIGN §3.5, §10).

"The last runs" are the suite's last finished runs in its history (its project's
runs under the suite's name, whatever their base URL; see :mod:`storage.history`),
and a case failed in one when a case of its name did.

- ``all``: every case.
- ``smoke``: the page-load cases (type ``smoke``).
- ``recent-failures``: cases that failed in any of the last 5 runs.
- ``failed-last-run``: cases that failed in the last run.
- ``high-priority``: smoke cases, and cases that failed in any of the last 5 runs.
- ``regression-risk``: cases on pages the project's latest completed crawl found
  changed or added (a case's page is the URL of its first ``goto``; every page of a
  project's first crawl counts as added), and cases that failed in the last run.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from crawler.urls import normalise_url
from storage import Database

Strategy = Literal[
    "all", "smoke", "recent-failures", "failed-last-run", "high-priority", "regression-risk"
]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
RECENT_RUNS = 5

Row = dict[str, Any]


def _page(case: Row, base_url: str) -> str | None:
    """The normalised URL of the case's first ``goto``, if it has one."""
    goto = next((step for step in case["steps"] if step["action"] == "goto"), None)
    return None if goto is None else normalise_url(goto["url"], base_url)


async def _changed_pages(db: Database, project_id: str) -> set[str]:
    """URLs the project's latest completed crawl found changed or added."""
    crawl = await db.latest_completed_crawl(project_id)
    if crawl is None:
        return set()
    changes = crawl["changes"]
    if changes is None:  # the project's first crawl: everything is new
        return set(await db.crawl_page_urls(crawl["id"]))
    return {*changes["added"], *(change["url"] for change in changes["changed"])}


async def select_cases(db: Database, suite: Row, strategy: Strategy) -> list[str] | None:
    """The ids of the cases of ``suite`` that ``strategy`` picks, in suite order; ``None``
    for all of them."""
    if strategy == "all":
        return None
    cases = await db.suite_cases(suite["id"])
    project_id, name = suite["project_id"], suite["name"]
    picked: set[str] = set()  # case names
    if strategy in ("smoke", "high-priority"):
        picked |= {case["name"] for case in cases if case["type"] == "smoke"}
    if strategy in ("recent-failures", "high-priority"):
        picked |= await db.failed_case_names(project_id, name, RECENT_RUNS)
    if strategy in ("failed-last-run", "regression-risk"):
        picked |= await db.failed_case_names(project_id, name, 1)
    if strategy == "regression-risk":
        changed = await _changed_pages(db, project_id)
        picked |= {case["name"] for case in cases if _page(case, suite["base_url"]) in changed}
    return [case["id"] for case in cases if case["name"] in picked]
