"""The one JUnit XML writer: validate's types, probe's steps and checks, load's
thresholds and tap's client verdicts are all lists of plain test cases.

Pure (stdlib only, ElementTree imported on use): any layer that reports may call it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

# XML 1.0 cannot hold most control characters, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold shown as ``\\uXXXX`` instead."""
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _case_time(seconds: float | str | None) -> str:
    """Seconds with millisecond precision; a string is written as given (validate's "0")."""
    return seconds if isinstance(seconds, str) else f"{seconds or 0:.3f}"


def junit_suite(
    suite_name: str,
    classname: str,
    cases: list[dict[str, Any]],
    *,
    elapsed: float,
    properties: dict[str, str] | list[tuple[str, str]] | None = None,
) -> bytes:
    """The one JUnit XML writer: every command's report (validate's types, probe's steps
    and checks, load's thresholds) is a list of plain test cases.

    Each case is ``{"name", "time"?, "outcome": "passed"|"failure"|"error"|"skipped",
    "message"?, "type"?, "body"?, "out"?}`` (``time``: seconds, or the text to write);
    counts and escaping are done here once.
    """
    import xml.etree.ElementTree as ET

    def count(outcome: str) -> str:
        return str(sum(1 for case in cases if case["outcome"] == outcome))

    seconds = f"{elapsed:.3f}"
    totals = {
        "tests": str(len(cases)),
        "failures": count("failure"),
        "errors": count("error"),
        "skipped": count("skipped"),
        "time": seconds,
    }
    top = {"name": suite_name, **{k: v for k, v in totals.items() if k != "skipped"}}
    suites = ET.Element("testsuites", attrib=top)
    suite = ET.SubElement(
        suites,
        "testsuite",
        attrib={
            "name": suite_name,
            **totals,
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    if properties:
        element = ET.SubElement(suite, "properties")
        pairs = properties.items() if isinstance(properties, dict) else properties
        for name, value in pairs:
            ET.SubElement(element, "property", name=name, value=xml_text(value))
    for case in cases:
        node = ET.SubElement(
            suite,
            "testcase",
            classname=classname,
            name=xml_text(case["name"]),
            time=_case_time(case.get("time")),
        )
        outcome = case["outcome"]
        if outcome != "passed":
            child = ET.SubElement(node, outcome, message=xml_text(case.get("message", "")))
            if outcome != "skipped":
                child.set("type", case.get("type", outcome))
                child.text = xml_text(case.get("body", case.get("message", "")))
        if case.get("out"):
            ET.SubElement(node, "system-out").text = xml_text(case["out"])
    ET.indent(suites)
    xml: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return xml
