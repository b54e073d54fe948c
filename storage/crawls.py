"""Queries on crawls and the pages they found."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

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


_Item = TypeVar("_Item")


def _crawl(row: Row | None) -> Row | None:
    return decode_job("crawls", row)


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

    async def update_crawl_page_audits(self, crawl_id: str, audits: dict[int, str]) -> None:
        """Replace the audits (JSON text) of the crawl's pages numbered (``seq``) as the keys
        say."""
        await self.executemany(
            "UPDATE crawl_pages SET data = json_set(data, '$.audits', json(?)) "
            "WHERE crawl_id = ? AND seq = ?",
            [(text, crawl_id, seq) for seq, text in audits.items()],
        )

    async def crawl_audit_rules(self, crawl_id: str) -> list[Row] | None:
        """The rules a completed crawl's pages fail, as stored when it finished; ``None``
        for a crawl that did not complete (or predates audits)."""
        value = await self.fetchval("SELECT audit_rules FROM crawls WHERE id = ?", (crawl_id,))
        return None if value is None else json.loads(value)

    def crawl_page_texts(self, crawl_id: str, batch: int) -> AsyncIterator[list[str]]:
        """Every page of a crawl as the JSON text stored, in crawl order, ``batch`` pages at
        a time: never the whole crawl in memory, and decoded by the caller, off the event
        loop."""
        return self._page_batches(crawl_id, "data", batch, lambda row: str(row["data"]))

    def crawl_audit_texts(
        self, crawl_id: str, batch: int
    ) -> AsyncIterator[list[tuple[int, str, str | None]]]:
        """The ``seq``, URL and audits (JSON text, ``None`` when not audited) of every page of a
        crawl, in crawl order, ``batch`` pages at a time (as ``crawl_page_texts``), without
        the rest of each page, which is most of it."""
        return self._page_batches(
            crawl_id,
            "url, json_extract(data, '$.audits') AS audits",
            batch,
            lambda row: (row["seq"], row["url"], row["audits"]),
        )

    async def _page_batches(
        self, crawl_id: str, columns: str, batch: int, pick: Callable[[Row], _Item]
    ) -> AsyncIterator[list[_Item]]:
        after = -1
        while True:
            rows = await self.fetchall(
                f"SELECT seq, {columns} FROM crawl_pages WHERE crawl_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (crawl_id, after, batch),
            )
            if rows:
                yield [pick(row) for row in rows]
            if len(rows) < batch:
                return
            after = rows[-1]["seq"]

    async def crawl_page_seo_texts(self, crawl_id: str) -> list[Row]:
        """Every page of a crawl, in crawl order, as its ``seq``, ``title``, meta
        ``description`` and whether it was ``audited`` for SEO: what pages sharing a title
        or description are found by."""
        return await self.fetchall(
            "SELECT seq, title, json_extract(data, '$.audits.meta_description') AS description, "
            "json_type(data, '$.audits.seo') IS 'array' AS audited "
            "FROM crawl_pages WHERE crawl_id = ? ORDER BY seq",
            (crawl_id,),
        )

    async def crawl_page_problems(self, crawl_id: str) -> list[Row]:
        """The pages of a crawl that answered 5xx or logged console errors, in crawl order:
        each page's ``url``, ``status`` and ``console_errors``."""
        rows = await self.fetchall(
            "SELECT url, status, json_extract(data, '$.console_errors') AS console_errors "
            "FROM crawl_pages WHERE crawl_id = ? "
            "AND (status >= 500 OR json_array_length(data, '$.console_errors') > 0) ORDER BY seq",
            (crawl_id,),
        )
        return [{**row, "console_errors": json.loads(row["console_errors"])} for row in rows]

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
