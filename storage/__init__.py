"""SQLite storage: schema migrations and one query method per need. Knows SQL, not HTTP."""

from storage.database import Database

__all__ = ["Database"]
