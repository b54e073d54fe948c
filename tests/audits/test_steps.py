"""The audit steps of the step language: what they accept, refuse, and how they read."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from runner.axe import unignored
from runner.steps import Case, describe


def _step(step: dict[str, Any]) -> Any:
    return Case.model_validate(
        {"name": "c", "steps": [{"action": "goto", "url": "/"}, step]}
    ).steps[1]


@pytest.mark.parametrize(
    ("step", "location", "message"),
    [
        ({"action": "expect_no_a11y_violations", "impact": "severe"},
         "steps.1.expect_no_a11y_violations.impact", "'moderate', 'serious' or 'critical'"),
        ({"action": "expect_no_a11y_violations", "ignore": [{"target": "#a"}]},
         "steps.1.expect_no_a11y_violations.ignore.0.rule", "Field required"),
        ({"action": "expect_no_a11y_violations", "ignore": [{"rule": "Image Alt"}]},
         "steps.1.expect_no_a11y_violations.ignore.0.rule", "should match pattern"),
        ({"action": "expect_performance", "budgets": {}},
         "steps.1.expect_performance.budgets", "give at least one budget: ttfb, fcp, lcp"),
        ({"action": "expect_performance", "budgets": {"lcp": -1}},
         "steps.1.expect_performance.budgets.lcp", "greater than or equal to 0"),
        ({"action": "expect_performance", "budgets": {"speed_index": 1}},
         "steps.1.expect_performance.budgets.speed_index", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_audit_steps_are_refused_naming_the_field(
    step: dict[str, Any], location: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _step(step)

    [error] = caught.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == location
    assert message in error["msg"]


def test_audit_steps_in_words() -> None:
    a11y = _step({"action": "expect_no_a11y_violations"})
    ignore = [{"rule": "label"}, {"rule": "image-alt", "target": "img"}]
    ignoring = _step({"action": "expect_no_a11y_violations", "impact": "serious", "ignore": ignore})
    budgets = _step({"action": "expect_performance", "budgets": {"tbt": 500, "cls": 0.15}})

    assert describe(a11y) == "expect no accessibility violations (minor or worse)"
    assert describe(ignoring) == "expect no accessibility violations (serious or worse, 2 ignored)"
    assert describe(budgets) == "expect performance within budgets (cls ≤ 0.15, tbt ≤ 500 ms)"
    assert ignoring.ignored == {("label", None), ("image-alt", "img")}


def test_impact_threshold_and_ignores() -> None:
    violations = [
        {"id": "label", "impact": "critical", "nodes": [{"target": ["#q"]}, {"target": ["#r"]}]},
        {"id": "color-contrast", "impact": "serious", "nodes": [{"target": ["p"]}]},
        {"id": "list", "impact": "moderate", "nodes": [{"target": ["ul"]}]},
        {"id": "frame-title", "impact": None, "nodes": [{"target": ["iframe", ["#host", "b"]]}]},
    ]

    assert unignored(violations, "serious", {("label", "#q")}) == [
        "label (critical): #r",
        "color-contrast (serious): p",
    ]
    assert unignored(violations, "critical", {("label", None)}) == []
    assert unignored(violations, "minor", set())[-1] == "frame-title (None): iframe >>> #host >>> b"
