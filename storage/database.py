"""The one ``Database`` class: the connection core plus one query mixin per table group."""

from __future__ import annotations

from storage.keys import KeyQueries
from storage.projects import ProjectQueries


class Database(ProjectQueries, KeyQueries):
    """aegisd's SQLite database: ``async with Database(path) as db``."""
