"""Export a suite as a ``@playwright/test`` spec in TypeScript.

One ``test.describe`` per suite with ``baseURL`` set once by ``test.use`` and its
tests in parallel mode, one ``test()`` per case, web-first assertions; runs with
``npx playwright test``.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.axe import A11Y_TAGS, AXE_VERSION, IMPACTS
from runner.export_common import (
    ExportedFile,
    Option,
    ResponseUse,
    SuiteWriter,
    string_literal,
    unique,
)
from runner.login import Login
from runner.performance import NO_URL_JS, PERFORMANCE_JS
from runner.steps import Case, ExpectScreenshot, ExpectUrl, Step

_CONSOLE_ERRORS = """\
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    // Chromium's own favicon request is no error of the page's.
    const favicon = message.location().url.endsWith('/favicon.ico');
    if (message.type() === 'error' && !favicon) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}"""
_A11Y_VIOLATIONS = """\
const A11Y_TAGS = {tags};
const IMPACTS = {impacts};

// axe-core's violations of the impact given or worse, less the ignored nodes, as lines.
async function a11yViolations(
  page: Page,
  impact: string,
  ignore: {{ rule: string; target?: string }}[],
): Promise<string[]> {{
  // Only violations are detailed, as aegisd's own runs do: passed rules cost time, unread.
  // (options() replaces what withTags() sets: it comes first.)
  const results = await new AxeBuilder({{ page }})
    .options({{ resultTypes: ['violations'] }})
    .withTags(A11Y_TAGS)
    .analyze();
  const found: string[] = [];
  for (const violation of results.violations) {{
    const level = Math.max(0, IMPACTS.indexOf(violation.impact ?? 'minor'));
    const rule = violation.id;
    if (level < IMPACTS.indexOf(impact)) continue;
    if (ignore.some((item) => item.rule === rule && item.target === undefined)) continue;
    for (const node of violation.nodes) {{
      const target = node.target.flat().join(' >>> ');
      if (ignore.some((item) => item.rule === rule && item.target === target)) continue;
      found.push(`${{rule}} (${{violation.impact}}): ${{target}}`);
    }}
  }}
  return found;
}}"""
_OVER_BUDGET = """\
// aegisd's performance script: the crawl and aegisd's own runs measure with this same one.
const PERFORMANCE_SCRIPT = {script};

// A URL pattern nothing matches: routing it turns the browser's HTTP cache off.
const NO_URL = {no_url};
const passOn = (route: Route) => route.continue();
// The method of each page's document request: a document a form posted is not reloaded.
const documentMethods = new WeakMap<Page, string>();

// Measure the page's documents from their start.
async function watchPerformance(page: Page): Promise<void> {{
  page.on('request', (request) => {{
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {{
      documentMethods.set(page, request.method());
    }}
  }});
  await page.addInitScript(PERFORMANCE_SCRIPT);
}}

// The page's figures over their budgets, in words (the script measures once the page settles).
// While only time figures are over, the page is reloaded uncached and measured again, up to
// three loads in all; each time figure counts at its lowest (a loaded machine only adds time).
async function overBudget(page: Page, budgets: Record<string, number>): Promise<string[]> {{
  const check = (earlier: unknown) =>
    page.evaluate(([b, e]) => (window as any).__aegisPerformance.overBudget(b, e), [
      budgets,
      earlier,
    ] as const);
  let result = await check(null);
  while (result.again && documentMethods.get(page) === 'GET') {{
    await page.route(NO_URL, passOn);
    await page.reload();
    await page.unroute(NO_URL, passOn);
    result = await check(result.figures);
  }}
  return result.over;
}}"""
_LINE_ESCAPES = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_RESPONSE_BINDINGS: dict[ResponseUse, str] = {
    "ignore": "",
    "const": "const response = ",
    "let": "let response = ",
    "assign": "response = ",
}


def regex_literal(pattern: str) -> str:
    """A JavaScript regular expression literal for ``pattern``."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append(_LINE_ESCAPES.get(escaped, "\\" + escaped))
        elif char == "/":
            out.append("\\/")
        else:
            out.append(_LINE_ESCAPES.get(char, char))
    return "/" + "".join(out) + "/"


def template_literal(text: str) -> str:
    """A TypeScript template literal holding ``text`` as it is, line breaks included."""
    escaped = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return f"`{escaped}`"


def _indented(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


class TypeScriptWriter(SuiteWriter):
    """Writes ``@playwright/test`` specs."""

    language = "typescript"
    indent = "  "
    file_pattern = "{}.spec.ts"
    separator = "-"
    collect_errors = "const errors = consoleErrors(page);"
    assert_no_errors = "expect(errors).toEqual([]);"
    watch_performance = "await watchPerformance(page);"

    def string(self, text: str) -> str:
        """A string literal, single-quoted unless that needs more escapes."""
        return string_literal(text, "'", '"', lambda code: f"\\u{{{code:x}}}")

    def boolean(self, value: bool) -> str:
        """``true`` or ``false``."""
        return "true" if value else "false"

    def call(self, method: str, arguments: Sequence[str], options: Sequence[Option]) -> str:
        """``method(a, { key: value })``."""
        parts = list(arguments)
        if options:
            fields = ", ".join(f"{key}: {self.option_value(value)}" for key, value in options)
            parts.append(f"{{ {fields} }}")
        return f"{method}({', '.join(parts)})"

    def statement(self, expression: str) -> str:
        """``await expression;``."""
        return f"await {expression};"

    def mapping(self, fields: Sequence[tuple[str, str]]) -> str:
        """``{ key: value, ... }``."""
        return "{ " + ", ".join(f"{key}: {value}" for key, value in fields) + " }"

    def expect_empty(self, helper: str, arguments: Sequence[str]) -> str:
        """``expect(await helper(page, ...)).toEqual([]);``."""
        return f"expect(await {helper}({', '.join(['page', *arguments])})).toEqual([]);"

    def goto(self, url: str, response: ResponseUse) -> str:
        """``const response = await page.goto(url);`` or without the binding."""
        return _RESPONSE_BINDINGS[response] + self.statement(f"page.goto({url})")

    def expect_status(self, status: int) -> str:
        """Assert on ``response``, which is null for a same-document navigation."""
        return f"expect(response?.status()).toBe({status});"

    def expect_url(self, step: ExpectUrl) -> str:
        """``toHaveURL`` with a predicate on the path and query."""
        path = "url.pathname + url.search"
        if step.match == "exact":
            check = f"{path} === {self.string(step.value)}"
        else:
            check = f"{regex_literal(step.value)}.test({path})"
        return self.statement(f"expect(page).toHaveURL((url) => {check})")

    def expect_screenshot(self, step: ExpectScreenshot, path: list[str]) -> str:
        """``toHaveScreenshot`` with the step's masks and tolerance stated."""
        options = ["fullPage: true"] if step.full_page else []
        if step.mask:
            options.append(f"mask: [{', '.join(self.locator(target) for target in step.mask)}]")
        options.append(f"threshold: {step.threshold!r}")
        options.append(f"maxDiffPixelRatio: {step.max_diff_pixel_ratio!r}")
        name = ", ".join(self.string(part) for part in path)
        return self.statement(
            f"expect(page).toHaveScreenshot([{name}], {{ {', '.join(options)} }})"
        )

    def test_names(self, cases: Sequence[Case]) -> list[str]:
        """The case names; a repeated name gets `` (2)``, `` (3)``..."""
        return unique((case.name for case in cases), lambda name, number: f"{name} ({number})")

    def test(self, name: str, case: Case, body: list[str]) -> list[str]:
        """``test('name', async ({ page }) => { ... });``, ``test.skip`` when disabled."""
        opener = "test" if case.enabled else "test.skip"
        return [f"{opener}({self.string(name)}, async ({{ page }}) => {{", *body, "});"]

    def before_each(self, body: list[str]) -> list[str]:
        """``test.beforeEach(async ({ page }) => { ... });`` logging in before every test."""
        return [
            "// Log in before every test (the project's login steps).",
            "test.beforeEach(async ({ page }) => {",
            *body,
            "});",
        ]

    def document(
        self, suite_name: str, base_url: str | None, tests: list[list[str]], steps: list[Step]
    ) -> str:
        """Imports, the console helper if any case needs it, and one ``test.describe``
        (setting ``baseURL`` when given)."""
        actions = {step.action for step in steps}
        console = "expect_no_console_errors" in actions
        a11y = "expect_no_a11y_violations" in actions
        performance = "expect_performance" in actions
        names = ["test"]
        names += ["expect"] if any(action.startswith("expect_") for action in actions) else []
        names += ["type Page"] if console or a11y or performance else []
        names += ["type Route"] if performance else []
        blocks = [f"import {{ {', '.join(names)} }} from '@playwright/test';"]
        if a11y:
            blocks[0] += (
                f"\n// aegisd audits with axe-core {AXE_VERSION}: "
                f"npm install -D @axe-core/playwright@{AXE_VERSION}"
                "\nimport AxeBuilder from '@axe-core/playwright';"
            )
        blocks += [_CONSOLE_ERRORS] if console else []
        if a11y:
            tags = "[" + ", ".join(self.string(tag) for tag in A11Y_TAGS) + "]"
            impacts = "[" + ", ".join(self.string(impact) for impact in IMPACTS) + "]"
            blocks.append(_A11Y_VIOLATIONS.format(tags=tags, impacts=impacts))
        if performance:
            script = template_literal(PERFORMANCE_JS.strip())
            blocks.append(_OVER_BUDGET.format(script=script, no_url=NO_URL_JS))
        use = "" if base_url is None else f"test.use({{ baseURL: {self.string(base_url)} }});\n"
        # Cases share nothing, so they may spread over workers as aegisd spreads them.
        inside = [use + "test.describe.configure({ mode: 'parallel' });"]
        inside += ["\n".join(test) for test in tests]
        describe = _indented("\n\n".join(inside))
        blocks.append(f"test.describe({self.string(suite_name)}, () => {{\n{describe}\n}});")
        return "\n\n".join(blocks) + "\n"


def export_suite(
    name: str, base_url: str | None, cases: Sequence[Case], login: Login | None = None
) -> ExportedFile:
    """The suite as a ``@playwright/test`` spec; with ``login``, a ``beforeEach`` logs in."""
    return TypeScriptWriter().export(name, base_url, cases, login)
