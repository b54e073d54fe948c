"""The step language: cases, their steps and the targets steps act on (DESIGN §4).

The executor and both exporters read these same objects, so every step stands for
one line of Playwright code. The models double as the API's request bodies for
cases: unknown keys are refused and each error names the field it is about.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from runner.axe import Impact
from runner.performance import METRICS, UNITS

AriaRole = Literal[
    "alert", "alertdialog", "application", "article", "banner", "blockquote", "button",
    "caption", "cell", "checkbox", "code", "columnheader", "combobox", "complementary",
    "contentinfo", "definition", "deletion", "dialog", "directory", "document", "emphasis",
    "feed", "figure", "form", "generic", "grid", "gridcell", "group", "heading", "img",
    "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee", "math",
    "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "meter", "navigation",
    "none", "note", "option", "paragraph", "presentation", "progressbar", "radio", "radiogroup",
    "region", "row", "rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator",
    "slider", "spinbutton", "status", "strong", "subscript", "superscript", "switch", "tab",
    "table", "tablist", "tabpanel", "term", "textbox", "time", "timer", "toolbar", "tooltip",
    "tree", "treegrid", "treeitem",
]  # fmt: skip
ARIA_ROLES: frozenset[str] = frozenset(get_args(AriaRole))

TargetKind = Literal["role", "text", "label", "placeholder", "test_id", "css"]
TARGET_KINDS: tuple[TargetKind, ...] = get_args(TargetKind)
CaseType = Literal["smoke", "navigation", "form", "content", "custom"]

NonEmpty = Annotated[str, Field(min_length=1)]
Milliseconds = Annotated[int, Field(ge=0, le=600_000)]

# Letters that mean the same after a backslash in Python's re and in JavaScript RegExp.
_PORTABLE_ESCAPES = frozenset("dDwWsSbBnrtfvxu")
_PORTABLE_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


def quoted(text: str) -> str:
    """``text`` in double quotes, escaped, for messages and step descriptions."""
    return json.dumps(text, ensure_ascii=False)


def url_path(url: str) -> str:
    """The path and query of ``url``: what ``expect_url`` compares (the fragment is ignored)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` would behave differently in Python and JavaScript, if it would."""
    in_class = False
    index = 0
    while index < len(pattern):
        char, rest = pattern[index], pattern[index + 1 :]
        if char == "\\":
            escaped = rest[:1]
            if escaped.isalpha() and escaped not in _PORTABLE_ESCAPES:
                return f"\\{escaped} is not read the same way by Python and JavaScript"
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            if rest.startswith(("]", "^]")):
                return "a class starting with ']' is not portable: write \\] instead"
            in_class = True
        elif (
            char == "(" and rest.startswith("?") and not pattern.startswith(_PORTABLE_GROUPS, index)
        ):
            return "only (?:, (?=, (?!, (?<= and (?<! groups work in both Python and JavaScript"
        elif char in "*+?}" and rest.startswith("+"):
            return "possessive quantifiers (*+, ++, ?+) do not exist in JavaScript"
        elif char == "{" and rest.startswith(","):
            return "{,n} is not a quantifier in JavaScript: write {0,n}"
        index += 1
    try:
        re.compile(pattern)
    except re.error as error:
        return f"not a valid regular expression: {error}"
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """What a step acts on: exactly one of Playwright's locators.

    ``{"role", "name"}`` (``name`` optional), ``{"text"}``, ``{"label"}``,
    ``{"placeholder"}``, ``{"test_id"}`` or ``{"css"}``. ``exact`` asks for a
    whole-string, case-sensitive match of the name, text, label or placeholder
    instead of Playwright's default substring match. ``level`` (1-6, headings
    only) is ``getByRole``'s option of that name: ``<h2>`` or ``aria-level=2``.
    """

    role: AriaRole | None = None
    name: NonEmpty | None = None
    text: NonEmpty | None = None
    label: NonEmpty | None = None
    placeholder: NonEmpty | None = None
    test_id: NonEmpty | None = None
    css: NonEmpty | None = None
    exact: bool | None = None
    level: Annotated[int, Field(ge=1, le=6)] | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _known_role(cls, role: object) -> object:
        if isinstance(role, str) and role not in ARIA_ROLES:
            raise ValueError(f"{role!r} is not an ARIA role (e.g. button, link, heading, textbox)")
        return role

    @model_validator(mode="after")
    def _one_locator(self) -> Target:
        kinds = [kind for kind in TARGET_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(
                f"a target needs exactly one of {', '.join(TARGET_KINDS)} (found: {found})"
            )
        if self.name is not None and self.role is None:
            raise ValueError("name is only for role targets")
        if self.exact is not None and (self.kind in ("test_id", "css") or self.is_bare_role):
            raise ValueError("exact applies to a role's name, text, label or placeholder")
        if self.level is not None and self.role != "heading":
            raise ValueError("level is only for heading role targets")
        return self

    @property
    def kind(self) -> TargetKind:
        """Which locator this target is."""
        return next(kind for kind in TARGET_KINDS if getattr(self, kind) is not None)

    @property
    def value(self) -> str:
        """The locator's argument: the role, text, label, placeholder, test id or selector."""
        value: str = getattr(self, self.kind)
        return value

    @property
    def is_bare_role(self) -> bool:
        """A role target without a name."""
        return self.role is not None and self.name is None

    def describe(self) -> str:
        """Plain words for messages, e.g. ``link "About"`` or ``label "Email"``."""
        if self.role is not None:
            role = self.role if self.level is None else f"{self.role} (level {self.level})"
            return role if self.name is None else f"{role} {quoted(self.name)}"
        return f"{self.kind.replace('_', ' ')} {quoted(self.value)}"


class Goto(_Model):
    """Navigate to ``url`` (relative to the base URL) and remember the main response."""

    action: Literal["goto"]
    url: NonEmpty

    @field_validator("url")
    @classmethod
    def _web_url(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme and scheme not in ("http", "https"):
            raise ValueError("url must be relative to the base URL, or an http(s) URL")
        return url


class Click(_Model):
    """Click the target."""

    action: Literal["click"]
    target: Target


class Check(_Model):
    """Check the target checkbox or radio button."""

    action: Literal["check"]
    target: Target


class Fill(_Model):
    """Replace the target field's content with ``value``."""

    action: Literal["fill"]
    target: Target
    value: str


class Select(_Model):
    """Select the option whose value or label is ``value`` in the target ``<select>``."""

    action: Literal["select"]
    target: Target
    value: str


class Press(_Model):
    """Press ``key`` (Playwright's key names, e.g. ``Enter`` or ``Control+A``) on the target."""

    action: Literal["press"]
    target: Target
    key: Annotated[str, Field(pattern=r"^[^+\s]+(\+[^+\s]+)*$|^\+$")]


class ExpectStatus(_Model):
    """The last ``goto``'s main response has HTTP status ``status``."""

    action: Literal["expect_status"]
    status: Annotated[int, Field(ge=100, le=599)]


class ExpectUrl(_Model):
    """The page's path and query equal ``value`` (``exact``) or contain a match of it (``regex``).

    Regexes must read the same in Python and JavaScript: no named groups, inline
    flags, possessive quantifiers or escapes such as ``\\A`` and ``\\Z``.
    """

    action: Literal["expect_url"]
    match: Literal["exact", "regex"] = "exact"
    value: NonEmpty

    @field_validator("value")
    @classmethod
    def _valid_value(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("match") == "regex":
            if problem := _regex_problem(value):
                raise ValueError(problem)
        elif not value.startswith("/"):
            raise ValueError("an exact URL value is a path starting with '/', e.g. /about?page=2")
        return value

    def matches(self, url: str) -> bool:
        """Whether a page at ``url`` satisfies this step."""
        path = url_path(url)
        if self.match == "exact":
            return path == self.value
        return re.search(self.value, path) is not None


class ExpectTitle(_Model):
    """The page title is ``value``."""

    action: Literal["expect_title"]
    value: str


class ExpectVisible(_Model):
    """The target is visible."""

    action: Literal["expect_visible"]
    target: Target


class ExpectText(_Model):
    """The target's text contains ``value``."""

    action: Literal["expect_text"]
    target: Target
    value: NonEmpty


class ExpectNoConsoleErrors(_Model):
    """No console error and no uncaught page error since the case began."""

    action: Literal["expect_no_console_errors"]


ScreenshotName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


class ExpectScreenshot(_Model):
    """The page looks like its baseline screenshot (DESIGN §8).

    Taken as Playwright's ``toHaveScreenshot`` takes it: the viewport, or the whole
    page with ``full_page``; animations stopped, the caret hidden, fonts loaded,
    ``mask`` targets painted over. Pixels count as different beyond the YIQ
    colour distance ``threshold`` (0 to 1) and the step fails when more than
    ``max_diff_pixel_ratio`` of them differ. Without a baseline the screenshot
    becomes the baseline. ``name`` tells a case's screenshots apart (and names
    the files).
    """

    action: Literal["expect_screenshot"]
    name: ScreenshotName = "page"
    full_page: bool = False
    mask: Annotated[list[Target], Field(max_length=100)] = Field(default_factory=list)
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.2
    max_diff_pixel_ratio: Annotated[float, Field(ge=0, le=1)] = 0.001


class A11yIgnore(_Model):
    """An axe-core finding to leave out: a rule's node (``target``, axe's selector for it,
    as the crawl's audit reports it) or, without ``target``, the rule everywhere."""

    rule: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9-]+$")]
    target: Annotated[str, Field(min_length=1, max_length=1000)] | None = None


class ExpectNoA11yViolations(_Model):
    """axe-core (WCAG 2.x A and AA rules) finds no violation of ``impact`` or worse on the
    page beyond those of ``ignore``."""

    action: Literal["expect_no_a11y_violations"]
    impact: Impact = "minor"
    ignore: Annotated[list[A11yIgnore], Field(max_length=1000)] = Field(default_factory=list)

    @property
    def ignored(self) -> set[tuple[str, str | None]]:
        """The ignored ``(rule, target)`` pairs; a ``None`` target stands for the whole rule."""
        return {(item.rule, item.target) for item in self.ignore}


class Budgets(_Model):
    """Most a page may measure (see ``runner/performance.js``); unset figures are not checked."""

    ttfb: Milliseconds | None = None
    fcp: Milliseconds | None = None
    lcp: Milliseconds | None = None
    cls: Annotated[float, Field(ge=0, le=100)] | None = None
    tbt: Milliseconds | None = None
    transfer_bytes: Annotated[int, Field(ge=0)] | None = None
    requests: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _some_budget(self) -> Budgets:
        if not self.given:
            raise ValueError(f"give at least one budget: {', '.join(METRICS)}")
        return self

    @property
    def given(self) -> dict[str, float]:
        """The budgets that are set, in the order of ``METRICS``."""
        values = {name: getattr(self, name) for name in METRICS}
        return {name: value for name, value in values.items() if value is not None}


class ExpectPerformance(_Model):
    """The page's performance figures, measured once it has settled, are within ``budgets``."""

    action: Literal["expect_performance"]
    budgets: Budgets


Step = Annotated[
    Goto
    | Click
    | Check
    | Fill
    | Select
    | Press
    | ExpectStatus
    | ExpectUrl
    | ExpectTitle
    | ExpectVisible
    | ExpectText
    | ExpectNoConsoleErrors
    | ExpectNoA11yViolations
    | ExpectPerformance
    | ExpectScreenshot,
    Field(discriminator="action"),
]


def describe(step: Step) -> str:
    """A step in plain words, for reports: ``click link "About"``, ``expect title "Home"``."""
    match step:
        case Goto():
            return f"go to {step.url}"
        case Click() | Check():
            return f"{step.action} {step.target.describe()}"
        case Fill():
            return f"fill {step.target.describe()} with {quoted(step.value)}"
        case Select():
            return f"select {quoted(step.value)} in {step.target.describe()}"
        case Press():
            return f"press {step.key} on {step.target.describe()}"
        case ExpectStatus():
            return f"expect status {step.status}"
        case ExpectUrl(match="exact"):
            return f"expect URL path {quoted(step.value)}"
        case ExpectUrl():
            return f"expect URL path to match /{step.value}/"
        case ExpectTitle():
            return f"expect title {quoted(step.value)}"
        case ExpectVisible():
            return f"expect {step.target.describe()} to be visible"
        case ExpectText():
            return f"expect {step.target.describe()} to contain {quoted(step.value)}"
        case ExpectNoConsoleErrors():
            return "expect no console errors"
        case ExpectScreenshot():
            page = "full page" if step.full_page else "page"
            masked = f" (masking {len(step.mask)})" if step.mask else ""
            return f"expect the {page} to match screenshot {quoted(step.name)}{masked}"
        case ExpectNoA11yViolations():
            ignored = f", {len(step.ignore)} ignored" if step.ignore else ""
            return f"expect no accessibility violations ({step.impact} or worse{ignored})"
        case ExpectPerformance():
            budgets = ", ".join(
                f"{name} ≤ {value:g}{UNITS[name]}" for name, value in step.budgets.given.items()
            )
            return f"expect performance within budgets ({budgets})"


class Case(_Model):
    """One test case: a name, a type, tags, whether it runs, and ordered steps.

    ``id`` is the stored case's id (``case_...``) when there is one; results and
    artifact file names use it.
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: CaseType = "custom"
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default_factory=list)
    enabled: bool = True
    steps: Annotated[list[Step], Field(min_length=1, max_length=200)]

    @field_validator("name")
    @classmethod
    def _not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name must not be blank")
        return name

    @model_validator(mode="after")
    def _status_after_goto(self) -> Case:
        for index, step in enumerate(self.steps):
            if isinstance(step, Goto):
                break
            if isinstance(step, ExpectStatus):
                raise ValueError(f"steps.{index}: expect_status needs an earlier goto")
        return self

    @model_validator(mode="after")
    def _distinct_screenshots(self) -> Case:
        taken: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            if isinstance(step, ExpectScreenshot):
                if step.name in taken:
                    raise ValueError(
                        f"steps.{index}: screenshot {quoted(step.name)} is already taken at "
                        f"steps.{taken[step.name]}: give each screenshot of a case its own name"
                    )
                taken[step.name] = index
        return self
