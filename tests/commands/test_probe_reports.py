"""`wscli probe` reports from plain values: checklist looks, escaping, JSON and JUnit shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from wscli.errors import CheckFailed, HandshakeRejected, TimedOut
from wscli.output.files import write_atomic
from wscli.probe.checks import (
    FAILED,
    NOT_RUN,
    OK,
    SKIPPED,
    STEP_NAMES,
    CheckResult,
    Step,
)
from wscli.probe.reports import checklist, json_document, junit_xml, reason
from wscli.probe.steps import ProbeResult


def _result() -> ProbeResult:
    """A probe that failed at the upgrade, with hostile server text in the error."""
    steps = [Step(name) for name in STEP_NAMES]
    for step in steps[:3]:
        step.status, step.seconds, step.summary = OK, 0.001, f"{step.name} fine"
    steps[3].status, steps[3].summary = SKIPPED, "none"
    steps[4].status, steps[4].summary = SKIPPED, "not used (ws://)"
    upgrade = steps[5]
    upgrade.status, upgrade.seconds = FAILED, 0.002
    upgrade.error = upgrade.summary = "handshake rejected: HTTP 502 (\x1b[31mred\x1b[0m)"
    upgrade.hint, upgrade.exit_code = "a proxy answered but the backend is down", 6
    error = HandshakeRejected(upgrade.error, status=502, hint=upgrade.hint)
    return ProbeResult(
        url="ws://example.test/ws",
        steps=steps,
        checks=[CheckResult("min-count", None, ">= 5 messages within 10 s", "not measured")],
        error=error,
        exit_code=6,
        seconds=0.01,
    )


def test_checklist_on_a_terminal_has_symbols_and_colour() -> None:
    """On a TTY: ✓, ✗ and – marks, ANSI colour, the hint under the failed step."""
    text = checklist(_result(), fancy=True, color=True)
    assert "✓" in text and "✗" in text and "–" in text
    assert "\x1b[" in text
    lines = text.splitlines()
    failed = next(i for i, line in enumerate(lines) if "upgrade" in line)
    assert "hint" in lines[failed + 1]


def test_checklist_in_a_pipe_is_plain_and_server_text_is_escaped() -> None:
    """In a pipe: words instead of symbols, no colour, and the server's escape codes shown."""
    text = checklist(_result(), fancy=False, color=False)
    assert "✓" not in text and "\x1b" not in text
    assert "FAIL upgrade" in text and "ok   url" in text
    assert "\\x1b[31m" in text


def test_quiet_checklist_is_the_verdict_only() -> None:
    """-q: the verdict line alone, naming the failed step and its exit code."""
    text = checklist(_result(), fancy=False, color=False, quiet=True)
    assert text.count("\n") == 1 and text.startswith("FAILED at upgrade:") and "exit 6" in text


def test_json_document_has_every_step_and_assertion() -> None:
    """The JSON has name/ok/seconds/details/error/hint per step and the verdict fields."""
    doc = json.loads(json.dumps(json_document(_result())))
    assert [s["name"] for s in doc["steps"]] == list(STEP_NAMES)
    upgrade = doc["steps"][5]
    assert upgrade["ok"] is False and upgrade["hint"].startswith("a proxy")
    assert doc["steps"][6]["status"] == NOT_RUN and doc["steps"][6]["ok"] is None
    assert doc["ok"] is False and doc["exit_code"] == 6
    assert doc["reason"] == "handshake_rejected"
    assert doc["assertions"][0] == {
        "name": "min-count",
        "ok": None,
        "expected": ">= 5 messages within 10 s",
        "measured": "not measured",
        "examples": [],
    }


def test_junit_skips_what_did_not_run_and_the_failure_has_the_hint() -> None:
    """JUnit: one case per step and assertion; not-run skipped; control characters made safe."""
    root = ET.fromstring(junit_xml(_result()))
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(STEP_NAMES) + 1)
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "5"  # proxy, tls, first message, ping, min-count
    failure = suite.find("testcase[@name='step: upgrade']/failure")
    assert failure is not None and "hint: a proxy answered" in (failure.text or "")


def test_write_atomic_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    """The report appears whole under its name; no temporary file is left in the folder."""
    target = tmp_path / "report.xml"
    target.write_text("old")
    write_atomic(str(target), b"<new/>")
    assert target.read_bytes() == b"<new/>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xml"]
    assert target.stat().st_mode & 0o044  # readable by others, as a plain write would be


def test_reason_names_every_ending_as_validate_does() -> None:
    """probe's machine-readable ``reason`` (issue #7): one per way a probe can end."""
    result = _result()
    assert reason(result) == "handshake_rejected"
    result.error = TimedOut("no message within --timeout 5 s", reason="idle_timeout")
    assert reason(result) == "idle_timeout"
    result.error = CheckFailed("no message within 5 s")
    assert reason(result) == "assertion_failed"
    result.error = None
    result.checks = [CheckResult("min-count", False, ">= 5", "2 messages")]
    assert reason(result) == "assertion_failed"
    result.interrupted = KeyboardInterrupt()
    assert reason(result) == "interrupted"
    passed = ProbeResult(url="ws://x/", steps=[], exit_code=0)
    assert reason(passed) is None
    assert json_document(passed)["reason"] is None
    props = ET.fromstring(junit_xml(_result())).iter("property")
    assert {p.get("name"): p.get("value") for p in props}["reason"] == "handshake_rejected"
