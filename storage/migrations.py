"""The schema, as numbered migrations applied once each, in order.

Append new migrations; never edit one that has shipped. Every table that belongs
to a project references ``projects(id) ON DELETE CASCADE`` so deleting a project
removes its rows everywhere.
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
]
