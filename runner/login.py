"""Logging in before a crawl or a run: a project's ``settings.login`` (DESIGN §3.4).

A login is a short sequence of steps of the step language, e.g. go to
``/login``, fill the email and password by label, click "Sign in" and expect
the account page. The crawler performs it in the crawl's browser context
before the first page, so its cookies and storage carry the session to every
page. A run performs it once in a context of its own and gives every case a
context opened with that context's storage state (Playwright's auth reuse), so
every case starts logged in. Exported suites perform the same steps before
every test.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from pydantic import BaseModel, ConfigDict, Field, field_validator

from runner.errors import LoginFailed
from runner.playback import Playback
from runner.steps import ExpectScreenshot, Goto, Step

MAX_LOGIN_STEPS = 50


class Login(BaseModel):
    """The steps that log a browser in; the first is a ``goto`` to the login page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[Step] = Field(
        min_length=1,
        max_length=MAX_LOGIN_STEPS,
        description=(
            "Steps of the step language that log in, e.g. goto /login, fill the email and "
            "password, click the button, expect_url of the page behind the login. URLs are "
            "relative to the base URL. End with a check that only passes when logged in, "
            "so that a wrong password fails the login instead of going unnoticed."
        ),
    )

    @field_validator("steps")
    @classmethod
    def _opens_a_page(cls, steps: list[Step]) -> list[Step]:
        if not isinstance(steps[0], Goto):
            raise ValueError(f"steps.0: a login starts with a goto (found {steps[0].action})")
        for index, step in enumerate(steps):
            if isinstance(step, ExpectScreenshot):
                raise ValueError(
                    f"steps.{index}: a login takes no screenshots (they belong to cases)"
                )
        return steps


def stored_login(settings: Mapping[str, Any]) -> Login | None:
    """The ``login`` of a project's settings as stored; ``None`` without one."""
    login = settings.get("login")
    return None if login is None else Login.model_validate(login)


async def log_in(page: Page, login: Login, *, step_timeout_s: float, timeout_s: float) -> None:
    """Perform ``login``'s steps on ``page``, all within ``timeout_s``.

    Raises ``LoginFailed`` naming the step (counted from 1) and the reason, e.g.
    ``login failed at step 3 (click): could not click button "Sign in": ...``.
    After the last step, waits (a step's time at most) for the page to load.
    """
    playback = Playback(page, step_timeout_s=step_timeout_s)
    failure = await playback.play(login.steps, timeout_s=timeout_s, what="the login")
    if failure is not None:
        action = login.steps[failure.index].action
        raise LoginFailed(f"login failed at step {failure.index + 1} ({action}): {failure.message}")
    # The page the login lands on may still be loading (and setting cookies or storage);
    # a tab closed meanwhile can also keep Chromium from ever closing it.
    with suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=step_timeout_s * 1000)
