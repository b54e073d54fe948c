"""Queries on run history: finished runs in the order they finished, and their cases.

A run that ends ``passed`` or ``failed`` is recorded, in the transaction that finishes
it, as a ``run_history`` row (its ``seq`` counts finished runs) and a ``case_history``
row per case that ran (skipped cases are left out). A suite's history is that of its
project's runs under the suite's name, so the suite a new crawl generates carries on
the history of the one before (generation is deterministic); cases are matched by name.
Cancelled and errored runs are no history.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite
import orjson

from storage.connection import DatabaseCore, Row

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
    await conn.execute(f"{_SET_FLIPS} AND h.run_seq = ?", (seq,))


async def forget_run(conn: aiosqlite.Connection, run_id: str) -> None:
    """Take the run ``run_id`` out of the history, inside ``conn``'s open transaction.

    The outcomes that came next to its own then follow earlier ones: their flips are
    set again."""
    following = await conn.execute_fetchall(
        f"SELECT {_next_outcome('')} AS next, {_next_outcome(' AND n.base_url = d.base_url')} "
        "AS next_url FROM case_history d JOIN run_history r ON r.seq = d.run_seq "
        f"WHERE r.run_id = ? AND d.{_NOT_ENVIRONMENT}",
        (run_id,),
    )
    await conn.execute("DELETE FROM run_history WHERE run_id = ?", (run_id,))
    rowids = {row[column] for row in following for column in ("next", "next_url")}
    rowids.discard(None)
    if rowids:
        await conn.execute(
            f"{_SET_FLIPS} AND h.rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(rowids)),),
        )


def _next_outcome(url: str) -> str:
    """The rowid of the outcome that is not ``environment`` next after case_history ``d``
    of the same case (``url``: and base URL), in later runs."""
    return (
        "(SELECT n.rowid FROM case_history n WHERE n.project_id = d.project_id "
        f"AND n.suite_name = d.suite_name AND n.case_name = d.case_name{url} "
        f"AND n.{_NOT_ENVIRONMENT} AND n.run_seq > d.run_seq "
        "ORDER BY n.run_seq, n.position LIMIT 1)"
    )


def _previous_status(url: str) -> str:
    """The status of the outcome that is not ``environment`` just before case_history
    ``h`` of the same case (``url``: and base URL)."""
    return (
        "(SELECT p.status FROM case_history p WHERE p.project_id = h.project_id "
        f"AND p.suite_name = h.suite_name AND p.case_name = h.case_name{url} "
        f"AND p.{_NOT_ENVIRONMENT} AND (p.run_seq, p.position) < (h.run_seq, h.position) "
        "ORDER BY p.run_seq DESC, p.position DESC LIMIT 1)"
    )


# What health adds up to count flips (migration 11 says what the columns hold), for the
# outcomes chosen by the ``AND ...`` that follows.
_SET_FLIPS = (
    f"UPDATE case_history AS h SET flip = COALESCE(h.status != {_previous_status('')}, 0), "
    "flip_url = COALESCE(h.status != "
    f"{_previous_status(' AND p.base_url = h.base_url')}, 0) WHERE h.{_NOT_ENVIRONMENT}"
)


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
        classified ``environment`` left out), ``last_status`` and ``durations``."""
        # One pass over the covering index, one row per case: a window of 1,000 runs of
        # a 60-case suite is 60,000 outcomes, too many to build as Python rows (or to put
        # in order) on each health request. Each outcome knows whether it flipped; the
        # first one in the window flipped from an outcome before it, so it does not count.
        flip = "flip_url" if base_url is not None else "flip"

        def url(table: str) -> str:
            return f" AND {table}.base_url = :base_url" if base_url is not None else ""

        def same_case(table: str) -> str:
            return (
                f"{table}.project_id = :project AND {table}.suite_name = :suite "
                f"AND {table}.case_name = h.case_name{url(table)}"
            )

        since = await self.fetchval(
            f"SELECT MIN(seq) FROM ({_recent_runs(base_url)})",
            (*_params(project_id, suite_name, base_url=base_url), last_runs),
        )
        if since is None:  # no finished run yet
            return {}
        rows = await self.fetchall(
            "SELECT h.case_name, COUNT(*) AS runs, SUM(h.status = 'passed') AS passed, "
            f"SUM(h.flaky) AS flaky, SUM(h.{flip}) - COALESCE((SELECT f.{flip} "
            f"FROM case_history f WHERE {same_case('f')} AND f.{_NOT_ENVIRONMENT} "
            "AND f.run_seq >= :since ORDER BY f.run_seq, f.position LIMIT 1), 0) AS flips, "
            f"(SELECT l.status FROM case_history l WHERE {same_case('l')} "
            "ORDER BY l.run_seq DESC, l.position DESC LIMIT 1) AS last_status, "
            "group_concat(h.duration) AS durations FROM case_history h "
            f"WHERE h.project_id = :project AND h.suite_name = :suite{url('h')} "
            "AND h.case_name IN (SELECT value FROM json_each(:names)) "
            "AND h.run_seq >= :since GROUP BY h.case_name",
            {
                "project": project_id,
                "suite": suite_name,
                "base_url": None if base_url is None else history_base_url(base_url),
                "names": json.dumps(sorted(set(case_names))),
                "since": since,
            },
        )
        for row in rows:
            row["durations"] = orjson.loads(f"[{row['durations']}]")
        return {row.pop("case_name"): row for row in rows}

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
