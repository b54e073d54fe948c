"""Export a suite as a pytest-playwright module in Python.

Module-level test functions taking the ``page`` fixture, the base URL set once
through the ``browser_context_args`` mark, ``expect`` web-first assertions;
runs with ``pytest <file>`` where pytest-playwright is installed.
Playwright for Python has no screenshot assertion: ``expect_screenshot`` steps
call the one of ``aegis_visual.py``, which the zip export brings beside the
module (:mod:`runner.export_zip`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.axe import A11Y_TAGS, IMPACTS, TARGET_SEPARATOR
from runner.export_common import (
    ExportedFile,
    Option,
    ResponseUse,
    SuiteWriter,
    escape,
    slug,
    string_literal,
    unique,
)
from runner.login import Login
from runner.performance import NO_URL, OVER_BUDGET_JS, PERFORMANCE_JS
from runner.steps import Case, ExpectScreenshot, ExpectUrl, Step

_CONSOLE_ERRORS = '''\
def console_errors(page: Page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions from now on."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium's own favicon request is no error of the page's.
        favicon = message.location["url"].endswith("/favicon.ico")
        if message.type == "error" and not favicon:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(error.message))
    return errors'''
_URL_PATH = '''\
def url_path(url: str) -> str:
    """The path and query of ``url``: what the URL checks compare."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")'''
_A11Y_VIOLATIONS = '''\
A11Y_TAGS = {tags}
IMPACTS = {impacts}


def a11y_violations(page: Page, impact: str, ignore: list[dict[str, str]]) -> list[str]:
    """axe-core's violations of ``impact`` or worse, less the ignored nodes, as lines."""
    options = {{"runOnly": {{"type": "tag", "values": A11Y_TAGS}}, "resultTypes": ["violations"]}}
    violations = Axe().run(page, options=options).response["violations"]
    ignored = {{(item["rule"], item.get("target")) for item in ignore}}
    found = []
    for violation in violations:
        rule, level = violation["id"], violation.get("impact")
        level = level if level in IMPACTS else "minor"
        if IMPACTS.index(level) < IMPACTS.index(impact) or (rule, None) in ignored:
            continue
        for node in violation["nodes"]:
            groups = [[part] if isinstance(part, str) else part for part in node["target"]]
            target = {separator}.join(part for group in groups for part in group)
            if (rule, target) not in ignored:
                found.append(f"{{rule}} ({{violation['impact']}}): {{target}}")
    return found'''
_OVER_BUDGET = '''\
# aegisd's performance script: the crawl and aegisd's own runs measure with this same one.
PERFORMANCE_SCRIPT = {script}

OVER_BUDGET_JS = {evaluate}

# A URL pattern nothing matches: routing it turns the browser's HTTP cache off.
NO_URL = re.compile({no_url})


def _pass_on(route: Route) -> None:
    route.continue_()


# The method of each page's document request: a document a form posted is not reloaded.
_DOCUMENT_METHODS: WeakKeyDictionary[Page, str] = WeakKeyDictionary()


def watch_performance(page: Page) -> None:
    """Measure the page's documents from their start."""

    def on_request(request: Request) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            _DOCUMENT_METHODS[page] = request.method

    page.on("request", on_request)
    page.add_init_script(PERFORMANCE_SCRIPT)


def over_budget(page: Page, budgets: dict[str, float]) -> list[str]:
    """The page's figures over their budgets, in words (measured once the page settles).

    While only time figures are over, the page is reloaded uncached and measured again, up
    to three loads in all; each time figure counts at its lowest (a loaded machine only
    adds time).
    """
    result = page.evaluate(OVER_BUDGET_JS, [budgets, None])
    while result["again"] and _DOCUMENT_METHODS.get(page) == "GET":
        page.route(NO_URL, _pass_on)
        page.reload()
        page.unroute(NO_URL, _pass_on)
        result = page.evaluate(OVER_BUDGET_JS, [budgets, result["figures"]])
    return result["over"]'''
_MAX_NAME = 60
VISUAL_MODULE = "aegis_visual"
"""The module holding ``expect_screenshot`` for Python exports."""


def _snake_case(method: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", method).lower()


def _astral(code: int) -> str:
    return f"\\U{code:08x}"


def _escape(text: str) -> str:
    return escape(text, '"', _astral)


def _block_string(text: str) -> str:
    """A triple-quoted string literal holding ``text`` as it is, line breaks included."""
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'


class PythonWriter(SuiteWriter):
    """Writes pytest-playwright modules (the sync API)."""

    language = "python"
    indent = "    "
    file_pattern = "test_{}.py"
    separator = "_"
    collect_errors = "errors = console_errors(page)"
    assert_no_errors = "assert errors == []"
    watch_performance = "watch_performance(page)"

    def string(self, text: str) -> str:
        """A string literal, double-quoted unless that needs more escapes."""
        return string_literal(text, '"', "'", _astral)

    def regex(self, pattern: str) -> str:
        """A raw string literal for ``pattern`` where one can hold it."""
        if '"' in pattern or not pattern.isprintable():  # a raw string cannot hold these
            return self.string(pattern)
        return f'r"{pattern}"'

    def boolean(self, value: bool) -> str:
        """``True`` or ``False``."""
        return str(value)

    def call(self, method: str, arguments: Sequence[str], options: Sequence[Option]) -> str:
        """``method(a, key=value)`` with ``method`` in snake_case."""
        parts = [*arguments, *(f"{key}={self.option_value(value)}" for key, value in options)]
        return f"{_snake_case(method)}({', '.join(parts)})"

    def statement(self, expression: str) -> str:
        """The expression itself: the sync API needs no ``await``."""
        return expression

    def mapping(self, fields: Sequence[tuple[str, str]]) -> str:
        """``{"key": value, ...}``."""
        return "{" + ", ".join(f"{self.string(key)}: {value}" for key, value in fields) + "}"

    def expect_empty(self, helper: str, arguments: Sequence[str]) -> str:
        """``assert helper(page, ...) == []``."""
        return f"assert {_snake_case(helper)}({', '.join(['page', *arguments])}) == []"

    def goto(self, url: str, response: ResponseUse) -> str:
        """``response = page.goto(url)`` or without the binding."""
        binding = "" if response == "ignore" else "response = "
        return f"{binding}page.goto({url})"

    def expect_status(self, status: int) -> str:
        """Assert on ``response``, which is None for a same-document navigation."""
        return f"assert response is not None and response.status == {status}"

    def expect_url(self, step: ExpectUrl) -> str:
        """``wait_for_url`` with a predicate on the path and query."""
        if step.match == "exact":
            check = f"url_path(url) == {self.string(step.value)}"
        else:
            check = f"re.search({self.regex(step.value)}, url_path(url)) is not None"
        return f"page.wait_for_url(lambda url: {check})"

    def expect_screenshot(self, step: ExpectScreenshot, path: list[str]) -> str:
        """``expect_screenshot(page, [folder, file], ...)`` with masks and tolerance stated."""
        arguments = ["page", f"[{', '.join(self.string(part) for part in path)}]"]
        arguments += ["full_page=True"] if step.full_page else []
        if step.mask:
            arguments.append(f"mask=[{', '.join(self.locator(target) for target in step.mask)}]")
        arguments.append(f"threshold={step.threshold!r}")
        arguments.append(f"max_diff_pixel_ratio={step.max_diff_pixel_ratio!r}")
        return f"expect_screenshot({', '.join(arguments)})"

    def test_names(self, cases: Sequence[Case]) -> list[str]:
        """``test_<case_name>``; a repeated name gets ``_2``, ``_3``..."""
        names = (f"test_{slug(case.name, '_')[:_MAX_NAME].rstrip('_') or 'case'}" for case in cases)
        return unique(names, lambda name, number: f"{name}_{number}")

    def test(self, name: str, case: Case, body: list[str]) -> list[str]:
        """A test function with the case's name as its docstring, skipped when disabled."""
        mark = [] if case.enabled else ['@pytest.mark.skip(reason="disabled in aegisd")']
        header = [f"def {name}(page: Page) -> None:", f'{self.indent}"""{_escape(case.name)}"""']
        return [*mark, *header, *body]

    def before_each(self, body: list[str]) -> list[str]:
        """An autouse fixture logging the test's page in before every test."""
        return [
            "@pytest.fixture(autouse=True)",
            "def log_in(page: Page) -> None:",
            f'{self.indent}"""Log in before every test (the project\'s login steps)."""',
            *body,
        ]

    def document(
        self, suite_name: str, base_url: str | None, tests: list[list[str]], steps: list[Step]
    ) -> str:
        """Docstring, imports, the base URL (when given), helpers the suite needs and the
        tests."""
        actions = {step.action for step in steps}
        console = "expect_no_console_errors" in actions
        a11y = "expect_no_a11y_violations" in actions
        performance = "expect_performance" in actions
        urls = [step for step in steps if isinstance(step, ExpectUrl)]
        regex = performance or any(step.match == "regex" for step in urls)
        standard = ["import re"] if regex else []
        standard += ["from urllib.parse import urlsplit"] if urls else []
        standard += ["from weakref import WeakKeyDictionary"] if performance else []
        names = ["ConsoleMessage"] if console else []
        names += ["Page"]
        names += ["Request", "Route"] if performance else []
        names += ["expect"] if actions & {"expect_title", "expect_visible", "expect_text"} else []
        imports = "\n".join(standard + [""] * bool(standard) + ["import pytest"])
        if a11y:
            imports += "\nfrom axe_playwright_python.sync_playwright import Axe"
        imports += f"\nfrom playwright.sync_api import {', '.join(names)}"
        if "expect_screenshot" in actions:
            imports += f"\n\nfrom {VISUAL_MODULE} import expect_screenshot"
        needs = "pytest-playwright and axe-playwright-python" if a11y else "pytest-playwright"
        parts = [
            f'"""{_escape(suite_name)}: tests exported from aegisd.\n\n'
            f'Run with `pytest {self.filename(suite_name)}` (needs {needs}).\n"""',
            imports,
        ]
        if base_url is not None:
            parts += [
                f"BASE_URL = {self.string(base_url)}",
                "pytestmark = pytest.mark.browser_context_args(base_url=BASE_URL)",
            ]
        head = "\n\n".join(parts)
        helpers = ([_CONSOLE_ERRORS] if console else []) + ([_URL_PATH] if urls else [])
        if a11y:
            helpers.append(
                _A11Y_VIOLATIONS.format(
                    tags="[" + ", ".join(self.string(tag) for tag in A11Y_TAGS) + "]",
                    impacts="[" + ", ".join(self.string(impact) for impact in IMPACTS) + "]",
                    separator=self.string(TARGET_SEPARATOR),
                )
            )
        if performance:
            script = _block_string(PERFORMANCE_JS.strip())
            helpers.append(
                _OVER_BUDGET.format(
                    script=script,
                    no_url=self.string(NO_URL.pattern),
                    evaluate=self.string(OVER_BUDGET_JS),
                )
            )
        return "\n\n\n".join([head, *helpers, *("\n".join(test) for test in tests)]) + "\n"


def export_suite(
    name: str, base_url: str | None, cases: Sequence[Case], login: Login | None = None
) -> ExportedFile:
    """The suite as a pytest-playwright module; with ``login``, an autouse fixture logs in."""
    return PythonWriter().export(name, base_url, cases, login)
