"""Typed keys for the objects the application and each request share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from aegisd.answers import AnswerKey, Answers
from aegisd.auth import Principal
from aegisd.config import Config
from aegisd.jobs import JobQueue
from aegisd.links import LinkSigner
from aegisd.progress import Progress
from aegisd.ratelimit import RateLimiter
from aegisd.triage import CaseHealth, HealthKey
from runner.browsers import Browsers
from storage import Database

if TYPE_CHECKING:  # both modules import this one
    from aegisd.scheduling import Scheduler
    from aegisd.webhooks import WebhookSender

CONFIG = web.AppKey("config", Config)
DB = web.AppKey("db", Database)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
OPENAPI = web.AppKey("openapi", dict[str, Any])
BROWSERS = web.AppKey("browsers", Browsers)
CRAWLS = web.AppKey("crawls", JobQueue)
RUNS = web.AppKey("runs", JobQueue)
PROGRESS = web.AppKey("progress", Progress)
LINKS = web.AppKey("links", LinkSigner)
ANSWERS: web.AppKey[Answers[AnswerKey, bytes]] = web.AppKey("answers")
HEALTHS: web.AppKey[Answers[HealthKey, list[CaseHealth]]] = web.AppKey("healths")
SCHEDULER: web.AppKey[Scheduler] = web.AppKey("scheduler")
WEBHOOK_SENDER: web.AppKey[WebhookSender] = web.AppKey("webhook_sender")

PRINCIPAL = web.RequestKey("principal", Principal)
