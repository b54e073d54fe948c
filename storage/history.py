"""Queries on run history: finished runs in the order they finished, and their cases.

A run that ends ``passed`` or ``failed`` is recorded, in the transaction that finishes
it, as a ``run_history`` row (its ``seq`` counts finished runs) and a ``case_history``
row per case that ran (skipped cases are left out). A suite's history is that of its
project's runs under the suite's name, so the suite a new crawl generates carries on
the history of the one before (generation is deterministic); cases are matched by name.
Cancelled and errored runs are no history.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from storage.connection import DatabaseCore, Row
from storage.windows import Outcomes, Window, WindowKey, Windows

HISTORY_STATUSES = ("passed", "failed")
_NOT_ENVIRONMENT = "classification IS NOT 'environment'"
# A case's outcome in one run (case_history h, run_history r), as history pages show it.
_OUTCOME = (
    "r.run_id, h.case_id, h.status, h.flaky, h.duration, h.classification, h.base_url, r.created_at"
)


def history_base_url(base_url: str) -> str:
    """How history keeps a base URL: ``https://x/`` and ``https://x`` are the same site."""
    return base_url.rstrip("/")


async def record_history(
    conn: aiosqlite.Connection, run_id: str, status: str, results: list[dict[str, Any]]
) -> None:
    """Add the run finishing with ``status`` and its ``results`` to the history, inside
    ``conn``'s open transaction."""
    await forget_run(conn, run_id)
    found = list(
        await conn.execute_fetchall(
            "SELECT project_id, suite_name, base_url, created_at FROM runs WHERE id = ?",
            (run_id,),
        )
    )
    if not found:  # deleted with its project meanwhile
        return
    run = found[0]
    base_url = history_base_url(run["base_url"])
    cursor = await conn.execute(
        "INSERT INTO run_history (run_id, project_id, suite_name, base_url, status, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (run_id, run["project_id"], run["suite_name"], base_url, status, run["created_at"]),
    )
    seq = cursor.lastrowid
    await conn.executemany(
        "INSERT INTO case_history (run_seq, position, project_id, suite_name, base_url, case_id, "
        "case_name, status, flaky, classification, duration) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (seq, position, run["project_id"], run["suite_name"], base_url,
             result["case_id"], result["name"], result["status"], int(result.get("flaky", False)),
             result.get("classification"), result["duration"])
            for position, result in enumerate(results)
            if result["status"] in HISTORY_STATUSES
        ],
    )  # fmt: skip


async def forget_run(conn: aiosqlite.Connection, run_id: str) -> None:
    """Take the run ``run_id`` out of the history, inside ``conn``'s open transaction."""
    await conn.execute("DELETE FROM run_history WHERE run_id = ?", (run_id,))


def _recent_runs(base_url: str | None) -> str:
    """The ``seq`` of a suite's last ``?`` finished runs (parameters: project, suite name,
    [base URL,] count)."""
    url = " AND base_url = ?" if base_url is not None else ""
    return (
        "SELECT seq FROM run_history WHERE project_id = ? AND suite_name = ?"
        f"{url} ORDER BY seq DESC LIMIT ?"
    )


def _outcomes(rows: list[Row]) -> list[Row]:
    for row in rows:
        row["flaky"] = bool(row["flaky"])
    return rows


def _params(*values: Any, base_url: str | None) -> tuple[Any, ...]:
    """``values``, then the base URL if one is given (see the queries' ``[AND ...]``)."""
    return (*values, *([history_base_url(base_url)] if base_url is not None else []))


class HistoryQueries(DatabaseCore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._windows = Windows()
        self._windows_lock = asyncio.Lock()

    async def latest_outcomes(
        self,
        project_id: str,
        suite_name: str,
        case_names: list[str],
        depth: int,
        *,
        base_url: str | None = None,
        judged: bool = False,
    ) -> dict[str, list[Row]]:
        """Each named case's last ``depth`` outcomes (against ``base_url``, if given;
        ``judged``: leaving out those classified ``environment``), newest first, by case
        name: the rows of :meth:`case_history`. One query for all the names."""
        url = " AND base_url = ?" if base_url is not None else ""
        judging = f" AND {_NOT_ENVIRONMENT}" if judged else ""
        rows = await self.fetchall(
            f"SELECT h.case_name, {_OUTCOME} FROM json_each(?) AS named "
            "JOIN case_history h ON h.rowid IN (SELECT rowid FROM case_history "
            "WHERE project_id = ? AND suite_name = ? AND case_name = named.value"
            f"{url}{judging} ORDER BY run_seq DESC LIMIT ?) "
            "JOIN run_history r ON r.seq = h.run_seq "
            "ORDER BY h.case_name, h.run_seq DESC, h.position DESC",
            (
                json.dumps(sorted(set(case_names))),
                *_params(project_id, suite_name, base_url=base_url),
                depth,
            ),
        )
        outcomes: dict[str, list[Row]] = {}
        for row in _outcomes(rows):
            outcomes.setdefault(row.pop("case_name"), []).append(row)
        return outcomes

    async def failed_case_names(self, project_id: str, suite_name: str, last_runs: int) -> set[str]:
        """Names of the cases that failed in any of the suite's last ``last_runs`` runs."""
        rows = await self.fetchall(
            "SELECT DISTINCT case_name FROM case_history WHERE status = 'failed' "
            f"AND run_seq IN ({_recent_runs(None)})",
            (project_id, suite_name, last_runs),
        )
        return {row["case_name"] for row in rows}

    async def case_history(
        self,
        project_id: str,
        suite_name: str,
        case_name: str,
        limit: int,
        offset: int,
        *,
        base_url: str | None = None,
    ) -> tuple[list[Row], int]:
        """One page of a case's outcomes, newest first: ``run_id, case_id, status, flaky,
        duration, classification, base_url, created_at`` (the run's)."""
        url = " AND h.base_url = ?" if base_url is not None else ""
        rows, total = await self.fetchpage(
            _OUTCOME,
            "FROM case_history h JOIN run_history r ON r.seq = h.run_seq "
            f"WHERE h.project_id = ? AND h.suite_name = ? AND h.case_name = ?{url}",
            _params(project_id, suite_name, case_name, base_url=base_url),
            "h.run_seq DESC, h.position DESC",
            limit,
            offset,
        )
        return _outcomes(rows), total

    async def case_outcomes(
        self,
        project_id: str,
        suite_name: str,
        case_names: list[str],
        last_runs: int,
        *,
        base_url: str | None = None,
    ) -> dict[str, Row]:
        """Each named case's outcomes in the suite's last ``last_runs`` runs (against
        ``base_url``, if given), by case name: ``runs``, ``passed``, ``flaky`` (passed on
        a retry), ``flips`` (times its outcome changed from one run to the next, those
        classified ``environment`` left out), ``last_status`` and ``median_duration``.

        Read through a window kept in memory (:mod:`storage.windows`): only the outcomes
        of runs that finished since the last call are read."""
        url = None if base_url is None else history_base_url(base_url)
        key = (project_id, suite_name, last_runs, url)
        # One at a time, each from the runs as it found them: two requests must not both
        # add the runs that joined.
        async with self._windows_lock:
            recent = await self.fetchval(
                f"SELECT group_concat(seq) FROM ({_recent_runs(url)})",
                (*_params(project_id, suite_name, base_url=url), last_runs),
            )  # one row, not 1,000
            seqs = sorted(orjson.loads(f"[{recent or ''}]"))
            window = self._windows.get(key)
            joined = window.move(seqs)
            missing = set(case_names) - window.names
            try:
                if joined and window.names:
                    await self._read_window(window, window.names, joined[0], key)
                if missing and seqs:
                    await self._read_window(window, missing, seqs[0], key)
                    window.names |= missing
            except BaseException:  # a request cancelled midway, too: its reads are not all in
                window.clear()
                raise
            return {
                name: figures
                for name in case_names
                if (figures := window.figures(name)) is not None
            }

    async def _read_window(
        self, window: Window, names: set[str], since: int, key: WindowKey
    ) -> None:
        """Add to ``window`` (kept for ``key``) the outcomes of ``names`` in its runs from
        ``since`` on."""
        project_id, suite_name, _, base_url = key
        url = " AND base_url = ?" if base_url is not None else ""
        # A case's outcomes as columns (60,000 Python rows would take ten times as long to
        # read), in the order of the scan of the index named, which is run_seq, position.
        rows = await self.fetchall(
            "SELECT case_name, group_concat(run_seq) AS seqs, "
            "group_concat(status = 'passed') AS passed, "
            f"group_concat({_NOT_ENVIRONMENT}) AS judged, group_concat(flaky) AS flaky, "
            "group_concat(duration) AS durations "
            "FROM case_history INDEXED BY case_history_case "
            "WHERE project_id = ? AND suite_name = ? AND case_name IN "
            f"(SELECT value FROM json_each(?)){url} AND run_seq BETWEEN ? AND ? "
            "GROUP BY case_name",
            (
                project_id,
                suite_name,
                json.dumps(sorted(names)),
                *([] if base_url is None else [base_url]),
                since,
                window.seqs[-1],
            ),
        )
        for row in rows:
            name = row.pop("case_name")
            window.add(name, Outcomes(**{k: orjson.loads(f"[{v}]") for k, v in row.items()}))

    async def last_failures(
        self,
        project_id: str,
        suite_name: str,
        case_names: list[str],
        *,
        base_url: str | None = None,
    ) -> dict[str, Row]:
        """Each named case's last failure in the whole history, by case name: ``run_id,
        created_at, classification`` (cases that never failed left out)."""
        url = " AND base_url = ?" if base_url is not None else ""
        rows = await self.fetchall(
            "SELECT named.value AS case_name, r.run_id, r.created_at, h.classification "
            "FROM json_each(?) AS named JOIN case_history h ON h.rowid = (SELECT rowid "
            "FROM case_history WHERE project_id = ? AND suite_name = ? "
            f"AND case_name = named.value AND status = 'failed'{url} "
            "ORDER BY run_seq DESC LIMIT 1) JOIN run_history r ON r.seq = h.run_seq",
            (
                json.dumps(sorted(set(case_names))),
                *_params(project_id, suite_name, base_url=base_url),
            ),
        )
        return {row.pop("case_name"): row for row in rows}
