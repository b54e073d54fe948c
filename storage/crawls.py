"""Queries on crawls and the pages they found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from storage.connection import Row
from storage.ids import new_id, utc_now
from storage.jobs import JobQueries, decode_job
from storage.webhooks import EventsFor

_COLUMNS = (
    "id, project_id, status, mode, max_pages, depth, start_url, generate_suite, options, "
    "pages_found, pages_crawled, broken_links_count, links_checked, console_errors_count, "
    "broken_links, changes, audit_summary, suite_id, error, created_at, started_at, "
    "completed_at, duration"
)


def _crawl(row: Row | None) -> Row | None:
    return decode_job("crawls", row)


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class CrawlQueries(JobQueries):
    async def create_crawl(
        self,
        project_id: str,
        mode: str,
        max_pages: int,
        depth: int,
        start_url: str,
        generate_suite: bool,
        options: dict[str, Any],
    ) -> Row:
        crawl_id = new_id("crawl")
        await self.execute(
            "INSERT INTO crawls (id, project_id, status, mode, max_pages, depth, start_url, "
            "generate_suite, options, created_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (crawl_id, project_id, mode, max_pages, depth, start_url, int(generate_suite),
             json.dumps(options), utc_now()),
        )  # fmt: skip
        return await self.get_crawl(crawl_id)  # type: ignore[return-value]

    async def get_crawl(self, crawl_id: str) -> Row | None:
        return _crawl(
            await self.fetchone(f"SELECT {_COLUMNS} FROM crawls WHERE id = ?", (crawl_id,))
        )

    async def list_crawls(
        self, limit: int, offset: int, *, project_id: str | None, status: str | None
    ) -> tuple[list[Row], int]:
        where, params = self.where("crawls", {"project_id": project_id, "status": status})
        rows, total = await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)
        return [_crawl(row) for row in rows], total  # type: ignore[misc]

    async def latest_crawls(self, project_ids: Sequence[str]) -> dict[str, Row]:
        """Each project's newest crawl, by project id (projects without crawls left out)."""
        return await self.latest_jobs("crawls", _COLUMNS, project_ids)

    async def claim_crawl(self) -> Row | None:
        """Mark the oldest queued crawl running and return it."""
        return await self.claim_job("crawls", _COLUMNS)

    async def finish_crawl(
        self, crawl_id: str, status: str, events: EventsFor | None = None, **fields: Any
    ) -> None:
        await self.finish_job("crawls", crawl_id, status, fields, events)

    async def set_crawl_progress(self, crawl_id: str, pages_found: int, pages_crawled: int) -> None:
        await self.execute(
            "UPDATE crawls SET pages_found = ?, pages_crawled = ? "
            "WHERE id = ? AND status = 'running'",
            (pages_found, pages_crawled, crawl_id),
        )

    async def add_crawl_page(
        self, crawl_id: str, seq: int, url: str, status: int | None, title: str | None,
        depth: int, data: dict[str, Any],
    ) -> None:  # fmt: skip
        await self.execute(
            "INSERT INTO crawl_pages (crawl_id, seq, url, status, title, depth, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (crawl_id, seq, url, status, title, depth, json.dumps(data)),
        )

    async def update_crawl_pages(self, crawl_id: str, pages: dict[int, dict[str, Any]]) -> None:
        """Replace the stored data of the crawl's pages numbered (``seq``) as the keys say."""
        await self.executemany(
            "UPDATE crawl_pages SET data = ? WHERE crawl_id = ? AND seq = ?",
            [(json.dumps(data), crawl_id, seq) for seq, data in pages.items()],
        )

    async def crawl_audit_rules(self, crawl_id: str) -> list[Row] | None:
        """The rules a completed crawl's pages fail, as stored when it finished; ``None``
        for a crawl that did not complete (or predates audits)."""
        value = await self.fetchval("SELECT audit_rules FROM crawls WHERE id = ?", (crawl_id,))
        return None if value is None else json.loads(value)

    async def crawl_page_audits(self, crawl_id: str) -> list[tuple[str, Row | None]]:
        """The URL and the audits of every page of a crawl, in crawl order (without the rest
        of each page, which is most of it)."""
        rows = await self.fetchall(
            "SELECT url, json_extract(data, '$.audits') AS audits FROM crawl_pages "
            "WHERE crawl_id = ? ORDER BY seq",
            (crawl_id,),
        )
        return [(row["url"], _json(row["audits"])) for row in rows]

    async def crawl_rule_findings(
        self, crawl_id: str, category: str, rule: str, limit: int, offset: int
    ) -> list[Row]:
        """The pages of a crawl whose stored ``category`` findings include ``rule``, in crawl
        order: each page's ``index`` (its ``seq``), ``url``, ``title``, ``status`` and that
        ``finding``."""
        rows = await self.fetchall(
            'SELECT p.seq AS "index", p.url, p.title, p.status, f.value AS finding '
            "FROM crawl_pages AS p, json_each(p.data, '$.audits.' || ?) AS f "
            "WHERE p.crawl_id = ? AND json_extract(f.value, '$.rule') = ? "
            "ORDER BY p.seq LIMIT ? OFFSET ?",
            (category, crawl_id, rule, limit, offset),
        )
        return [{**row, "finding": json.loads(row["finding"])} for row in rows]

    async def crawl_figures_over(
        self, crawl_id: str, metric: str, bound: float, limit: int, offset: int
    ) -> list[Row]:
        """The pages of a crawl whose performance figure ``metric`` is over ``bound``, in
        crawl order: each page's ``index`` (its ``seq``), ``url``, ``title``, ``status`` and
        its ``figures``."""
        rows = await self.fetchall(
            'SELECT seq AS "index", url, title, status, '
            "json_extract(data, '$.audits.performance') AS figures FROM crawl_pages "
            "WHERE crawl_id = ? AND json_extract(data, '$.audits.performance.' || ?) > ? "
            "ORDER BY seq LIMIT ? OFFSET ?",
            (crawl_id, metric, bound, limit, offset),
        )
        return [{**row, "figures": json.loads(row["figures"])} for row in rows]

    async def list_crawl_pages(
        self, crawl_id: str, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        where, params = self.where("crawl_pages", {"crawl_id": crawl_id})
        rows, total = await self.fetchpage("data", where, params, "seq", limit, offset)
        return [json.loads(row["data"]) for row in rows], total

    async def crawl_pages(self, crawl_id: str) -> list[Row]:
        """Every page of a crawl, in crawl order."""
        rows = await self.fetchall(
            "SELECT data FROM crawl_pages WHERE crawl_id = ? ORDER BY seq", (crawl_id,)
        )
        return [json.loads(row["data"]) for row in rows]

    async def crawl_page_findings(self, crawl_id: str, categories: Sequence[str]) -> list[Row]:
        """Every page of a crawl, in crawl order, as ``url``, ``status``, ``title`` and, per
        audit category, the ``[rule, impact]`` pairs it fails (``None`` when the page was
        not audited in it): what comparing two crawls reads, without their pages' bulk."""
        if not all(name.isidentifier() for name in categories):
            raise ValueError(f"not audit categories: {categories!r}")
        picked = ", ".join(
            f"CASE WHEN json_type(data, '$.audits.{name}') = 'array' THEN (SELECT "
            "json_group_array(json_array(json_extract(f.value, '$.rule'), "
            f"json_extract(f.value, '$.impact'))) FROM json_each(data, '$.audits.{name}') AS f) "
            f"END AS {name}"
            for name in categories
        )
        rows = await self.fetchall(
            f"SELECT url, status, title, {picked} FROM crawl_pages WHERE crawl_id = ? ORDER BY seq",
            (crawl_id,),
        )
        for row in rows:
            for name in categories:
                row[name] = None if row[name] is None else json.loads(row[name])
        return rows

    async def crawl_page_urls(self, crawl_id: str) -> list[str]:
        """The URL of every page of a crawl, in crawl order."""
        rows = await self.fetchall(
            "SELECT url FROM crawl_pages WHERE crawl_id = ? ORDER BY seq", (crawl_id,)
        )
        return [row["url"] for row in rows]

    async def latest_completed_crawl(self, project_id: str) -> Row | None:
        """The project's last completed crawl."""
        return _crawl(
            await self.fetchone(
                f"SELECT {_COLUMNS} FROM crawls WHERE project_id = ? AND status = 'completed' "
                "ORDER BY rowid DESC LIMIT 1",
                (project_id,),
            )
        )

    async def previous_completed_crawl(self, project_id: str, crawl_id: str) -> Row | None:
        """The project's last completed crawl created before ``crawl_id``."""
        return _crawl(
            await self.fetchone(
                f"SELECT {_COLUMNS} FROM crawls WHERE project_id = ? AND status = 'completed' "
                "AND rowid < (SELECT rowid FROM crawls WHERE id = ?) ORDER BY rowid DESC LIMIT 1",
                (project_id, crawl_id),
            )
        )
