"""Migrations applied to a database that already holds data keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

import storage.connection
from storage import Database
from storage.migrations import MIGRATIONS


async def test_migration_9_keeps_webhooks_and_their_deliveries_and_backfills_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "aegisd.sqlite3"
    with monkeypatch.context() as before:
        before.setattr(storage.connection, "MIGRATIONS", [m for m in MIGRATIONS if m[0] < 9])
        async with Database(path) as db:
            project = await db.create_project("p", "http://shop.internal/", None, {})
            hook = await db.create_webhook(
                url="http://127.0.0.1:9/", events=["run.completed"], secret="s" * 16,
                format="slack", project_id=project["id"], enabled=True,
            )  # fmt: skip
            rows = [
                ("run_old1", "passed", [("case_a", "A", "passed"), ("case_b", "B", "passed")]),
                ("run_old2", "failed", [("case_a", "A", "failed"), ("case_b", "B", "skipped")]),
                ("run_old3", "cancelled", [("case_a", "A", "failed")]),
            ]
            for run_id, status, results in rows:
                await db.execute(
                    "INSERT INTO runs (id, project_id, suite_id, suite_name, status, browser, "
                    "base_url, retries, cases, trigger, created_at) VALUES "
                    "(?, ?, 'suite_x', 'Smoke', ?, 'chromium', 'http://shop.internal/', 0, '[]', "
                    "'api', '2025-01-01T00:00:00Z')",
                    (run_id, project["id"], status),
                )
                for position, (case_id, name, outcome) in enumerate(results):
                    data = {"case_id": case_id, "name": name, "status": outcome, "duration": 5}
                    await db.add_run_result(run_id, position, data)
            await db.execute(
                "INSERT INTO webhook_events (id, event, project_id, data, created_at) "
                "VALUES ('evt_1', 'run.completed', ?, '{}', '2025-01-01T00:00:00Z')",
                (project["id"],),
            )
            await db.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, created_at) "
                "VALUES ('dlv_1', ?, 'evt_1', 'pending', '2025-01-01T00:00:00Z')",
                (hook["id"],),
            )

    async with Database(path) as db:
        assert await db.schema_version() == max(version for version, _ in MIGRATIONS)
        assert await db.get_webhook(hook["id"]) == hook
        assert [d["id"] for d in (await db.list_deliveries(hook["id"], 10, 0, status=None))[0]] == [
            "dlv_1"
        ]
        await db.update_webhook(hook["id"], {"format": "teams"})  # allowed now
        assert (await db.get_webhook(hook["id"]))["format"] == "teams"  # type: ignore[index]
        latest = await db.latest_outcomes(
            project["id"], "Smoke", ["A", "B"], 9, base_url="http://shop.internal", judged=True
        )
        assert {name: [o["status"] for o in rows] for name, rows in latest.items()} == {
            "A": ["failed", "passed"],
            "B": ["passed"],
        }
        history, total = await db.case_history(project["id"], "Smoke", "A", 10, 0)
        assert total == 2 and [h["run_id"] for h in history] == ["run_old2", "run_old1"]
        run = await db.get_run("run_old2")
        assert run is not None and run["classifications"] is None
        # Deleting the project still takes everything with it.
        await db.delete_project(project["id"])
        for table in ("webhooks", "webhook_deliveries", "run_history", "case_history"):
            assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table


async def test_migration_7_comes_after_10_on_a_database_that_has_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "aegisd.sqlite3"
    with monkeypatch.context() as before:
        before.setattr(storage.connection, "MIGRATIONS", [m for m in MIGRATIONS if m[0] != 7])
        async with Database(path) as db:
            project = await db.create_project("p", "http://shop.internal/", None, {})
            await db.execute(
                "INSERT INTO runs (id, project_id, suite_id, suite_name, status, browser, "
                "base_url, retries, cases, trigger, created_at) VALUES "
                "('run_old1', ?, 'suite_x', 'Smoke', 'passed', 'chromium', "
                "'http://shop.internal/', 0, '[]', 'api', '2025-01-01T00:00:00Z')",
                (project["id"],),
            )

    async with Database(path) as db:
        versions = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in versions] == sorted(v for v, _ in MIGRATIONS)
        run = await db.get_run("run_old1")
        assert run is not None and run["visual_diffs"] == 0
        assert await db.fetchval("SELECT COUNT(*) FROM baselines") == 0
