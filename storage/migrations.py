"""The schema, as numbered migrations applied once each, in order.

Append new migrations; never edit one that has shipped. Every table that belongs
to a project references ``projects(id) ON DELETE CASCADE`` so deleting a project
removes its rows everywhere. Migrations run with foreign keys off, so one may rebuild
a table others reference (SQLite's way to change a constraint); the references are
checked before it commits.
"""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            description TEXT,
            settings TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
            project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE crawls (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            status TEXT NOT NULL
                CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
            mode TEXT NOT NULL,
            max_pages INTEGER NOT NULL,
            depth INTEGER NOT NULL,
            start_url TEXT NOT NULL,
            generate_suite INTEGER NOT NULL,
            options TEXT NOT NULL DEFAULT '{}',
            pages_found INTEGER NOT NULL DEFAULT 0,
            pages_crawled INTEGER NOT NULL DEFAULT 0,
            broken_links_count INTEGER NOT NULL DEFAULT 0,
            console_errors_count INTEGER NOT NULL DEFAULT 0,
            broken_links TEXT NOT NULL DEFAULT '[]',
            changes TEXT,
            suite_id TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            completed_at TEXT,
            duration INTEGER
        );
        CREATE INDEX crawls_project ON crawls (project_id);
        CREATE INDEX crawls_status ON crawls (status);
        CREATE TABLE crawl_pages (
            crawl_id TEXT NOT NULL REFERENCES crawls(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            url TEXT NOT NULL,
            status INTEGER,
            title TEXT,
            depth INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (crawl_id, seq)
        );
        """,
    ),
    (
        3,
        """
        CREATE TABLE suites (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            crawl_id TEXT REFERENCES crawls(id) ON DELETE SET NULL,
            name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX suites_project ON suites (project_id);
        CREATE INDEX suites_crawl ON suites (crawl_id);
        CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            suite_id TEXT NOT NULL REFERENCES suites(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            definition TEXT NOT NULL
        );
        CREATE INDEX cases_suite ON cases (suite_id, position);
        -- A run keeps its suite's name and cases as they were when it was triggered, so
        -- it can run after a restart and stays readable after the suite is deleted.
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            suite_id TEXT,
            suite_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('queued', 'running', 'passed', 'failed', 'cancelled', 'error')),
            browser TEXT NOT NULL,
            base_url TEXT NOT NULL,
            retries INTEGER NOT NULL,
            cases TEXT NOT NULL,
            trigger TEXT NOT NULL,
            schedule_id TEXT,
            ci_run_id TEXT,
            total INTEGER NOT NULL DEFAULT 0,
            passed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            flaky INTEGER NOT NULL DEFAULT 0,
            duration INTEGER,
            error TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            completed_at TEXT
        );
        CREATE INDEX runs_project ON runs (project_id);
        CREATE INDEX runs_suite ON runs (suite_id);
        CREATE INDEX runs_status ON runs (status);
        CREATE INDEX runs_ci ON runs (ci_run_id);
        CREATE TABLE run_results (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (run_id, position)
        );
        """,
    ),
    (
        4,
        """
        CREATE TABLE schedules (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            action TEXT NOT NULL CHECK (action IN ('run', 'crawl')),
            suite_id TEXT REFERENCES suites(id) ON DELETE CASCADE,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            browser TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            next_run_at TEXT,
            last_run_at TEXT,
            last_run_id TEXT,
            skipped_count INTEGER NOT NULL DEFAULT 0,
            last_skipped_at TEXT,
            last_skip_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX schedules_project ON schedules (project_id);
        CREATE INDEX schedules_suite ON schedules (suite_id);
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            format TEXT NOT NULL CHECK (format IN ('json', 'slack')),
            enabled INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX webhooks_project ON webhooks (project_id);
        -- The outbox: an event is stored with one pending delivery per webhook it goes to,
        -- in the transaction that finishes its run or crawl; the sender works through them.
        CREATE TABLE webhook_events (
            id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id);
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE TABLE webhook_attempts (
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            status_code INTEGER,
            error TEXT,
            duration INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );
        """,
    ),
    (
        5,
        """
        -- How often each table's rows changed, counted by triggers whichever process
        -- writes: an answer read from a table stays true while its count stands.
        CREATE TABLE table_changes (name TEXT PRIMARY KEY, changes INTEGER NOT NULL);
        INSERT INTO table_changes (name, changes) VALUES ('runs', 0);
        CREATE TRIGGER runs_inserted AFTER INSERT ON runs BEGIN
            UPDATE table_changes SET changes = changes + 1 WHERE name = 'runs';
        END;
        CREATE TRIGGER runs_updated AFTER UPDATE ON runs BEGIN
            UPDATE table_changes SET changes = changes + 1 WHERE name = 'runs';
        END;
        CREATE TRIGGER runs_deleted AFTER DELETE ON runs BEGIN
            UPDATE table_changes SET changes = changes + 1 WHERE name = 'runs';
        END;
        """,
    ),
    (
        6,
        """
        -- Why a generated suite holds what it holds (crawler.notes.GenerationNotes as JSON);
        -- NULL for suites written by hand.
        ALTER TABLE suites ADD COLUMN generation TEXT;
        -- Link targets a crawl checked with a plain request instead of visiting them.
        ALTER TABLE crawls ADD COLUMN links_checked INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        8,
        """
        -- A completed crawl's audits added up: its audit_summary and the rules its pages
        -- fail (GET /crawls/:id/audits), as JSON.
        ALTER TABLE crawls ADD COLUMN audit_summary TEXT;
        ALTER TABLE crawls ADD COLUMN audit_rules TEXT;
        """,
    ),
    (
        9,
        """
        -- History: every run that ends passed or failed, in the order runs finish, and
        -- the outcome of each case it ran. A suite's history is its project's runs under
        -- its name (a re-crawl's suite carries on the last one's), matched by case name.
        CREATE TABLE run_history (
            seq INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
            project_id TEXT NOT NULL,
            suite_name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('passed', 'failed')),
            created_at TEXT NOT NULL
        );
        CREATE INDEX run_history_suite ON run_history (project_id, suite_name, seq);
        CREATE INDEX run_history_suite_url ON run_history (project_id, suite_name, base_url, seq);
        CREATE TABLE case_history (
            run_seq INTEGER NOT NULL REFERENCES run_history(seq) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            project_id TEXT NOT NULL,
            suite_name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            case_id TEXT NOT NULL,
            case_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('passed', 'failed')),
            flaky INTEGER NOT NULL,
            classification TEXT,
            duration INTEGER NOT NULL,
            PRIMARY KEY (run_seq, position)
        );
        CREATE INDEX case_history_case ON case_history (project_id, suite_name, case_name, run_seq);
        CREATE INDEX case_history_case_url
            ON case_history (project_id, suite_name, case_name, base_url, run_seq);
        CREATE INDEX case_history_failures
            ON case_history (project_id, suite_name, case_name, run_seq) WHERE status = 'failed';
        INSERT INTO run_history (run_id, project_id, suite_name, base_url, status, created_at)
            SELECT id, project_id, suite_name, rtrim(base_url, '/'), status, created_at FROM runs
            WHERE status IN ('passed', 'failed') ORDER BY rowid;
        INSERT INTO case_history (run_seq, position, project_id, suite_name, base_url, case_id,
                                  case_name, status, flaky, classification, duration)
            SELECT h.seq, r.position, h.project_id, h.suite_name, h.base_url,
                   json_extract(r.data, '$.case_id'), json_extract(r.data, '$.name'),
                   json_extract(r.data, '$.status'), COALESCE(json_extract(r.data, '$.flaky'), 0),
                   NULL, json_extract(r.data, '$.duration')
            FROM run_history h JOIN run_results r ON r.run_id = h.run_id
            WHERE json_extract(r.data, '$.status') IN ('passed', 'failed');
        -- Per-classification counts of a finished run (JSON), null before it finishes.
        ALTER TABLE runs ADD COLUMN classifications TEXT;

        -- More webhook formats: the format's CHECK changes, so the table is rebuilt.
        CREATE TABLE webhooks_new (
            id TEXT PRIMARY KEY,
            project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            format TEXT NOT NULL
                CHECK (format IN ('json', 'slack', 'discord', 'teams', 'email')),
            enabled INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        INSERT INTO webhooks_new SELECT id, project_id, url, events, secret, format, enabled,
            created_at, updated_at FROM webhooks ORDER BY rowid;
        DROP TABLE webhooks;
        ALTER TABLE webhooks_new RENAME TO webhooks;
        CREATE INDEX webhooks_project ON webhooks (project_id);
        """,
    ),
    (
        10,
        """
        -- Dashboard sign-ins: the cookie names a row; signing out ends it, and it goes
        -- with its key.
        CREATE TABLE dashboard_sessions (
            id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX dashboard_sessions_key ON dashboard_sessions (key_id);
        """,
    ),
    (
        11,
        """
        -- Health reads a window of a case's outcomes in one pass of this covering index.
        DROP INDEX case_history_case;
        CREATE INDEX case_history_case ON case_history (project_id, suite_name, case_name,
            run_seq, position, status, classification, flaky, duration, base_url);
        -- Health answers are kept while the history stands (aegisd/answers.py).
        INSERT INTO table_changes (name, changes) VALUES ('run_history', 0);
        CREATE TRIGGER run_history_inserted AFTER INSERT ON run_history BEGIN
            UPDATE table_changes SET changes = changes + 1 WHERE name = 'run_history';
        END;
        CREATE TRIGGER run_history_deleted AFTER DELETE ON run_history BEGIN
            UPDATE table_changes SET changes = changes + 1 WHERE name = 'run_history';
        END;
        """,
    ),
    (
        7,
        """
        -- Baseline screenshots of expect_screenshot steps, one per (case, screenshot name,
        -- browser, viewport); the image is a file under data_dir/baselines/.
        CREATE TABLE baselines (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            suite_id TEXT NOT NULL REFERENCES suites(id) ON DELETE CASCADE,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            browser TEXT NOT NULL,
            viewport TEXT NOT NULL,
            file TEXT NOT NULL,
            approved_from_run TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (suite_id, case_id, name, browser, viewport)
        );
        CREATE INDEX baselines_case ON baselines (case_id);
        ALTER TABLE runs ADD COLUMN visual_diffs INTEGER NOT NULL DEFAULT 0;
        """,
    ),
]
