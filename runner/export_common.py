"""What the TypeScript and Python exporters share: the step-to-Playwright table and the writer.

A suite becomes one test file: every case one test named after it, every step one
line of Playwright code. A case's screenshots are named by the case's folder
(:func:`screenshot_dirs`) and the screenshot's name, e.g.
``['page-loads-about', 'page.png']``, the same in both languages. A project's
login becomes a hook that performs its steps, written the same way, on the
test's page before every test. The Playwright calls are named once here, in
TypeScript spelling; the Python writer derives
``get_by_role`` from ``getByRole``. Each language's module supplies its syntax
(string literals, calls, statements) and the few lines that have no common shape
(navigation responses, URL checks, console errors, the file, test and hook frames).
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from runner.login import Login
from runner.steps import (
    A11yIgnore,
    Case,
    Check,
    Click,
    ExpectNoA11yViolations,
    ExpectNoConsoleErrors,
    ExpectPerformance,
    ExpectScreenshot,
    ExpectStatus,
    ExpectText,
    ExpectTitle,
    ExpectUrl,
    ExpectVisible,
    Fill,
    Goto,
    Press,
    Select,
    Step,
    Target,
    TargetKind,
)

Language = Literal["typescript", "python"]

ResponseUse = Literal["ignore", "const", "let", "assign"]
"""What a ``goto`` does with its response: drop it, or bind it for ``expect_status``."""

Option = tuple[str, str | bool | int]

_LOCATORS: dict[TargetKind, str] = {
    "role": "getByRole",
    "text": "getByText",
    "label": "getByLabel",
    "placeholder": "getByPlaceholder",
    "test_id": "getByTestId",
    "css": "locator",
}
_ACTIONS = {
    "click": "click",
    "check": "check",
    "fill": "fill",
    "select": "selectOption",
    "press": "press",
}
_MATCHERS = {
    "expect_title": "toHaveTitle",
    "expect_visible": "toBeVisible",
    "expect_text": "toContainText",
}
_SIMPLE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MAX_DIR = 60


class ExportedFile(BaseModel):
    """An exported suite: what ``GET /suites/:id/export`` answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: str
    language: Language
    code: str


def escape(text: str, quote: str, astral: Callable[[int], str]) -> str:
    """The inside of a ``quote``-delimited string literal holding ``text``.

    Backslash escapes common to TypeScript and Python; ``astral`` spells an
    unprintable character beyond U+FFFF, where the two languages differ.
    """
    out: list[str] = []
    for char in text:
        code = ord(char)
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(astral(code))
    return "".join(out)


def string_literal(text: str, preferred: str, other: str, astral: Callable[[int], str]) -> str:
    """``text`` as a string literal in ``preferred`` quotes, or ``other`` if fewer escapes."""
    quote = other if text.count(preferred) > text.count(other) else preferred
    return quote + escape(text, quote, astral) + quote


def slug(text: str, separator: str) -> str:
    """``text`` as lowercase ASCII words joined by ``separator`` (empty if none are left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return separator.join(re.findall(r"[a-z0-9]+", ascii_text.lower()))


def unique(names: Iterable[str], numbered: Callable[[str, int], str]) -> list[str]:
    """``names`` with repeats renamed ``numbered(name, 2)``, ``numbered(name, 3)``, ..."""
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in seen:
            number += 1
            candidate = numbered(name, number)
        seen.add(candidate)
        result.append(candidate)
    return result


def screenshot_dirs(cases: Sequence[Case]) -> list[str]:
    """Each case's folder for its screenshots in an export: its name as words joined
    by ``-`` (made distinct with ``-2``, ``-3``...)."""
    names = (slug(case.name, "-")[:_MAX_DIR].rstrip("-") or "case" for case in cases)
    return unique(names, lambda name, number: f"{name}-{number}")


def _target_options(target: Target) -> list[Option]:
    options: list[Option] = []
    if target.name is not None:
        options.append(("name", target.name))
    if target.exact is not None:
        options.append(("exact", target.exact))
    if target.level is not None:
        options.append(("level", target.level))
    return options


def _action_arguments(step: Click | Check | Fill | Select | Press) -> list[str]:
    match step:
        case Fill() | Select():
            return [step.value]
        case Press():
            return [step.key]
        case _:
            return []


def number(value: float) -> str:
    """A number literal, the same in TypeScript and Python."""
    return repr(value) if isinstance(value, float) else str(value)


def _ignore_fields(writer: SuiteWriter, item: A11yIgnore) -> list[tuple[str, str]]:
    fields = [("rule", writer.string(item.rule))]
    if item.target is not None:
        fields.append(("target", writer.string(item.target)))
    return fields


def _response_uses(steps: Sequence[Step]) -> list[ResponseUse]:
    """How each ``goto`` of ``steps`` treats its response, in order."""
    gotos = sum(isinstance(step, Goto) for step in steps)
    if not any(isinstance(step, ExpectStatus) for step in steps):
        return ["ignore"] * gotos
    if gotos == 1:
        return ["const"]
    later: list[ResponseUse] = ["assign"] * (gotos - 1)
    return ["let", *later]


class SuiteWriter(ABC):
    """Writes a suite as one test file in one language."""

    language: ClassVar[Language]
    indent: ClassVar[str]
    file_pattern: ClassVar[str]
    """The file name; ``{}`` stands for the suite name as words joined by ``separator``."""
    separator: ClassVar[str]
    collect_errors: ClassVar[str]
    """The line that starts collecting console and page errors into ``errors``."""
    assert_no_errors: ClassVar[str]
    """The line asserting ``errors`` is still empty."""
    watch_performance: ClassVar[str]
    """The line that starts measuring the page's performance (the script, and which method
    requested each document), before it loads anything."""

    # Syntax

    @abstractmethod
    def string(self, text: str) -> str:
        """A string literal holding ``text``."""

    @abstractmethod
    def boolean(self, value: bool) -> str:
        """A boolean literal."""

    @abstractmethod
    def call(self, method: str, arguments: Sequence[str], options: Sequence[Option]) -> str:
        """A call of Playwright's ``method`` (TypeScript spelling) with rendered arguments."""

    @abstractmethod
    def statement(self, expression: str) -> str:
        """A line running ``expression``, awaited where the language needs it."""

    @abstractmethod
    def mapping(self, fields: Sequence[tuple[str, str]]) -> str:
        """An object (dict) literal of ``fields``, whose values are already rendered."""

    @abstractmethod
    def expect_empty(self, helper: str, arguments: Sequence[str]) -> str:
        """Assert that the file's ``helper`` (TypeScript spelling), called with ``page`` and
        ``arguments``, answers an empty list."""

    # Lines without a common shape

    @abstractmethod
    def goto(self, url: str, response: ResponseUse) -> str:
        """Navigate to ``url``, binding the response as ``response`` says."""

    @abstractmethod
    def expect_status(self, status: int) -> str:
        """Assert the bound response's status."""

    @abstractmethod
    def expect_url(self, step: ExpectUrl) -> str:
        """Wait until the page's path and query satisfy ``step``."""

    @abstractmethod
    def expect_screenshot(self, step: ExpectScreenshot, path: list[str]) -> str:
        """Compare the page with the baseline at ``path`` (folder and file name)."""

    @abstractmethod
    def test_names(self, cases: Sequence[Case]) -> list[str]:
        """Distinct test names for ``cases``, in order."""

    @abstractmethod
    def test(self, name: str, case: Case, body: list[str]) -> list[str]:
        """The lines of one test, ``body`` already indented."""

    @abstractmethod
    def before_each(self, body: list[str]) -> list[str]:
        """The hook running ``body`` (already indented) on the page before every test."""

    @abstractmethod
    def document(
        self, suite_name: str, base_url: str | None, tests: list[list[str]], steps: list[Step]
    ) -> str:
        """The whole file around ``tests``; ``steps`` are all the suite's steps; without
        ``base_url``, the configuration beside the file gives it."""

    # Shared

    def filename(self, suite_name: str) -> str:
        """The file name for the suite."""
        return self.file_pattern.format(slug(suite_name, self.separator) or "suite")

    def export(
        self, name: str, base_url: str | None, cases: Sequence[Case], login: Login | None = None
    ) -> ExportedFile:
        """The suite ``name`` of ``cases`` as a test file against ``base_url`` (``None``:
        the configuration beside the file gives it); with ``login``, its steps run
        before every test."""
        tests = [
            self.test(test_name, case, self._body(case.steps, folder))
            for test_name, case, folder in zip(
                self.test_names(cases), cases, screenshot_dirs(cases), strict=True
            )
        ]
        steps = [step for case in cases for step in case.steps]
        if login is not None:
            tests.insert(0, self.before_each(self._body(login.steps)))
            steps += login.steps
        code = self.document(name, base_url, tests, steps)
        return ExportedFile(filename=self.filename(name), language=self.language, code=code)

    def _body(self, steps: Sequence[Step], folder: str = "") -> list[str]:
        lines: list[str] = []
        if any(isinstance(step, ExpectNoConsoleErrors) for step in steps):
            lines.append(self.collect_errors)
        if any(isinstance(step, ExpectPerformance) for step in steps):
            lines.append(self.watch_performance)
        responses = iter(_response_uses(steps))
        for step in steps:
            response = next(responses) if isinstance(step, Goto) else "ignore"
            lines.append(self._step(step, response, folder))
        return [self.indent + line.replace("\n", "\n" + self.indent) for line in lines]

    def _step(self, step: Step, response: ResponseUse, folder: str) -> str:
        match step:
            case Goto():
                return self.goto(self.string(step.url), response)
            case Click() | Check() | Fill() | Select() | Press():
                arguments = [self.string(argument) for argument in _action_arguments(step)]
                action = self.call(_ACTIONS[step.action], arguments, [])
                return self.statement(f"{self.locator(step.target)}.{action}")
            case ExpectTitle():
                return self._expect("page", step.action, [self.string(step.value)])
            case ExpectVisible():
                return self._expect(self.locator(step.target), step.action, [])
            case ExpectText():
                arguments = [self.string(step.value)]
                return self._expect(self.locator(step.target), step.action, arguments)
            case ExpectStatus():
                return self.expect_status(step.status)
            case ExpectUrl():
                return self.expect_url(step)
            case ExpectNoConsoleErrors():
                return self.assert_no_errors
            case ExpectNoA11yViolations():
                ignore = self.sequence([self.mapping(_ignore_fields(self, i)) for i in step.ignore])
                return self.expect_empty("a11yViolations", [self.string(step.impact), ignore])
            case ExpectPerformance():
                budgets = [(name, number(value)) for name, value in step.budgets.given.items()]
                return self.expect_empty("overBudget", [self.mapping(budgets)])
            case ExpectScreenshot():
                return self.expect_screenshot(step, [folder, f"{step.name}.png"])

    def _expect(self, subject: str, action: str, arguments: list[str]) -> str:
        matcher = self.call(_MATCHERS[action], arguments, [])
        return self.statement(f"expect({subject}).{matcher}")

    def locator(self, target: Target) -> str:
        """The expression locating ``target`` on ``page``."""
        options = _target_options(target)
        return "page." + self.call(_LOCATORS[target.kind], [self.string(target.value)], options)

    def sequence(self, items: Sequence[str]) -> str:
        """A list literal of rendered ``items``, one per line when there are several."""
        if len(items) < 2:
            return f"[{', '.join(items)}]"
        inside = "".join(f"\n{self.indent}{item}," for item in items)
        return f"[{inside}\n]"

    def option_value(self, value: str | bool | int) -> str:
        """An option's value as a literal."""
        if isinstance(value, bool):
            return self.boolean(value)
        return str(value) if isinstance(value, int) else self.string(value)
