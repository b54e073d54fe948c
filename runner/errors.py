"""Errors of the runner and of browser management.

RunnerError
 ├── BrowserNotAvailable
 └── InvalidSuite
"""


class RunnerError(Exception):
    """Base of every error raised by the runner package."""


class BrowserNotAvailable(RunnerError):
    """The requested browser cannot be launched or reached here."""


class InvalidSuite(RunnerError):
    """A suite or step does not fit the step language."""
