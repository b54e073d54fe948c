"""Errors of the runner and of browser management.

RunnerError
 ├── BrowserNotAvailable
 ├── InvalidSuite
 ├── StepFailed
 └── LoginFailed
"""


class RunnerError(Exception):
    """Base of every error raised by the runner package."""


class BrowserNotAvailable(RunnerError):
    """The requested browser cannot be launched or reached here."""


class InvalidSuite(RunnerError):
    """A suite or step does not fit the step language."""


class StepFailed(RunnerError):
    """A step did not do or find what it expected; the message says so in plain words."""


class LoginFailed(RunnerError):
    """A login step failed: ``login failed at step 2 (click): ...`` says which and why."""
