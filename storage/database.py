"""The one ``Database`` class: the connection core plus one query mixin per table group."""

from __future__ import annotations

from storage.baselines import BaselineQueries
from storage.crawls import CrawlQueries
from storage.history import HistoryQueries
from storage.keys import KeyQueries
from storage.projects import ProjectQueries
from storage.runs import RunQueries
from storage.schedules import ScheduleQueries
from storage.sessions import SessionQueries
from storage.suites import SuiteQueries
from storage.webhooks import WebhookQueries


class Database(
    ProjectQueries,
    SessionQueries,
    KeyQueries,
    CrawlQueries,
    SuiteQueries,
    RunQueries,
    HistoryQueries,
    ScheduleQueries,
    WebhookQueries,
    BaselineQueries,
):
    """aegisd's SQLite database: ``async with Database(path) as db``."""
