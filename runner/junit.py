"""JUnit XML for a run, in the shape CI tools ingest (Jenkins' junit.xsd).

One ``testsuite`` holding one ``testcase`` per case; failed cases carry a
``failure`` with the plain-words message, skipped ones a ``skipped`` element.
A classified case (DESIGN §10) has a ``classification`` property, as Playwright's
JUnit reporter writes a test's annotations, and a failure says it in its text; the
suite's properties count each classification. Times are seconds.
"""

from __future__ import annotations

import platform
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from runner.results import CaseResult, RunCounts
from runner.triage import MEANINGS, counted

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:.3f}"


def _failure_text(result: CaseResult) -> str:
    lines = []
    if result.error is not None and result.error.step_index is not None:
        step = result.steps[result.error.step_index]
        lines.append(f"step {step.index + 1} ({step.action}): {step.description}")
    lines.append(result.error.message if result.error is not None else "failed")
    if result.classification is not None:
        meaning = MEANINGS[result.classification]
        lines.append(f"classification: {result.classification} ({meaning})")
    lines += [f"screenshot: {result.screenshot}"] if result.screenshot else []
    lines += [f"trace: {result.trace}"] if result.trace else []
    return "\n".join(lines)


def _testcase(suite: ET.Element, suite_name: str, result: CaseResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=_text(result.name),
        classname=_text(suite_name),
        time=_seconds(result.duration),
    )
    if result.classification is not None:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="classification", value=result.classification)
    if result.status == "failed":
        message = result.error.message if result.error is not None else "failed"
        action = result.error.action if result.error is not None else None
        failure = ET.SubElement(case, "failure", message=_text(message), type=action or "error")
        failure.text = _text(_failure_text(result))
    elif result.status == "skipped":
        ET.SubElement(case, "skipped", message=_text(result.skip_reason or "skipped"))
    if result.flaky:
        output = ET.SubElement(case, "system-out")
        output.text = f"flaky: failed first, passed on attempt {result.attempts}"


def render_junit(
    results: Sequence[CaseResult], *, suite_name: str, timestamp: datetime | None = None
) -> str:
    """The run's results as a JUnit XML document; ``timestamp`` is when the run started."""
    counts = RunCounts.of(results)
    started = (timestamp or datetime.now(UTC)).astimezone(UTC)
    totals = {
        "tests": str(counts.total),
        "failures": str(counts.failed),
        "errors": "0",
        "skipped": str(counts.skipped),
        "time": _seconds(counts.duration),
    }
    root = ET.Element("testsuites", {"name": _text(suite_name), **totals})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _text(suite_name),
            "timestamp": started.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": _text(platform.node() or "localhost"),
            **totals,
        },
    )
    classified = {name: count for name, count in counted(results).items() if count}
    if classified:
        properties = ET.SubElement(suite, "properties")
        for name, count in classified.items():
            ET.SubElement(properties, "property", name=f"classification.{name}", value=str(count))
    for result in results:
        _testcase(suite, suite_name, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
