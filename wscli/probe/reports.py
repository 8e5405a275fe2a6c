"""``wscli probe``'s reports: a checklist for people, JSON and JUnit XML for CI.

All three are drawn from one :class:`~wscli.probe.steps.ProbeResult`, so they cannot
disagree with each other or with the exit code. Server text (status lines, body
snippets, certificate names) is escaped before it reaches a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wscli.checks.specs import JUNIT_PREFIX
from wscli.frames import escape
from wscli.output.terminal import AnsiStyles
from wscli.probe.checks import FAILED, NOT_RUN, OK, SKIPPED, first_failure, rounded

if TYPE_CHECKING:
    from wscli.probe.steps import ProbeResult

JUNIT_SUITE = "wscli probe"
STYLES = {"ok": "green", "failed": "bold red", "skip": "dim", "hint": "yellow", "name": "bold"}
SYMBOLS = {OK: "✓", FAILED: "✗", NOT_RUN: "–", SKIPPED: "–"}
WORDS = {OK: "ok  ", FAILED: "FAIL", NOT_RUN: "-   ", SKIPPED: "-   "}


def verdict_line(result: ProbeResult) -> str:
    """``OK: ws://... (upgrade 3 ms, first message 40 ms, ping 0.3 ms)`` or what failed."""
    took = f" in {result.seconds:.2f} s"
    if result.interrupted is not None:
        return f"INTERRUPTED: probe of {result.url} stopped{took}"
    failed = first_failure(result.steps)
    if failed is not None and result.error is not None:
        return f"FAILED at {failed.name}: {failed.error} (exit {result.exit_code}){took}"
    if result.lost is not None:
        lost = result.lost.message
        return f"FAILED: connection lost in the window: {lost} (exit {result.exit_code}){took}"
    bad = [a for a in result.checks if a.ok is False]
    if bad:
        names = ", ".join(a.name for a in bad)
        return f"FAILED: {len(bad)} of {len(result.checks)} assertions ({names}){took}"
    timings = [
        f"{s.name} {s.seconds * 1000:.0f} ms"
        for s in result.steps
        if s.status == OK and s.seconds is not None and s.name in ("tcp", "tls", "upgrade")
    ]
    ping = next((s for s in result.steps if s.name == "ping" and s.status == OK), None)
    if ping is not None:
        timings.append(f"ping {ping.details.get('rtt_ms', 0):.1f} ms")
    passed = f", {len(result.checks)} assertions passed" if result.checks else ""
    return f"OK: {result.url} ({', '.join(timings)}){passed}{took}"


def checklist(result: ProbeResult, *, fancy: bool, color: bool, quiet: bool = False) -> str:
    """One line per step and per assertion, the hint under the failed step, the verdict."""
    s = AnsiStyles(STYLES, color)
    marks = SYMBOLS if fancy else WORDS
    lines: list[str] = []
    if not quiet:
        for step in result.steps:
            style = {OK: "ok", FAILED: "failed"}.get(step.status, "skip")
            took = f"{step.seconds * 1000:7.1f} ms" if step.seconds is not None else " " * 10
            detail = step.summary or step.status
            name = f"{step.name:<13}"
            lines.append(f"{s(style, marks[step.status])} {name} {took}  {escape(detail)}")
            if step.hint:
                label = "hint" if step.status == FAILED else "note"
                lines.append(f"{'':17}{s('hint', label + ':')} {escape(step.hint)}")
        if result.checks:
            from wscli.probe.health import source_table

            table = source_table(result.window, color=color, width=None)
            if table:
                lines += ["", table]
            lines.append("")
            for check in result.checks:
                status = {True: OK, False: FAILED, None: NOT_RUN}[check.ok]
                style = {OK: "ok", FAILED: "failed"}.get(status, "skip")
                lines.append(
                    f"{s(style, marks[status])} {check.name:<24} expected {check.expected};"
                    f" measured {escape(check.measured)}"
                )
                lines.extend(f"{'':27}{escape(example)}" for example in check.examples)
    verdict = verdict_line(result)
    head, _, rest = verdict.partition(":")
    lines.append(s("ok" if result.ok else "failed", head) + ":" + escape(rest))
    return "\n".join(lines) + "\n"


def reason(result: ProbeResult) -> str | None:
    """Why the probe did not pass, machine-readable as validate's ``reason``; ``None`` if it did.

    A failed ``--expect-*``/``--max-*`` check (or, when asserting, no message to
    check) is ``assertion_failed``; other endings share validate's names.
    """
    from wscli.endings import ASSERTION_FAILED, error_reason, interrupt_reason
    from wscli.errors import CheckFailed

    if result.interrupted is not None:
        return interrupt_reason(result.interrupted)
    if result.lost is not None:
        return error_reason(result.lost)
    if isinstance(result.error, CheckFailed) or any(a.ok is False for a in result.checks):
        return ASSERTION_FAILED
    if result.error is not None:
        return error_reason(result.error)
    return None


def json_document(result: ProbeResult) -> dict[str, Any]:
    """Every step and check, ``ok``, ``exit_code`` and ``reason``: parseable on every ending."""
    window = result.window
    return {
        "url": result.url,
        "ok": result.ok,
        "exit_code": result.exit_code,
        "reason": reason(result),
        "result": verdict_line(result),
        "interrupted": result.interrupted is not None,
        "seconds": rounded(result.seconds),
        "steps": [
            {
                "name": step.name,
                "status": step.status,
                "ok": step.ok,
                "seconds": rounded(step.seconds),
                "details": step.details,
                "summary": step.summary,
                "error": step.error,
                "hint": step.hint,
            }
            for step in result.steps
        ],
        "assertions": [
            {
                "name": a.name,
                "ok": a.ok,
                "expected": a.expected,
                "measured": a.measured,
                "examples": list(a.examples),
            }
            for a in result.checks
        ],
        "window": None
        if window is None
        else {
            "seconds": rounded(window.seconds),
            "messages": window.count,
            "validated": window.validated,
            "invalid": window.invalid,
            "types": sorted(window.types_seen),
            "ended": window.ended,
            "connection_lost": bool(window.lost),
        },
        **_health_section(window),
    }


def _run_case(result: ProbeResult) -> dict[str, Any] | None:
    """A ``run`` case with an ``<error>`` when the run was cut short (as ``validate``
    writes): a signal, or the stream lost inside the window. Never a green suite."""
    why = reason(result)
    if result.interrupted is not None:
        headline = f"run: {result.not_measured}"
    elif result.lost is not None:
        headline = f"run: connection lost in the window: {result.lost.message}"
    else:
        return None
    return {
        "name": "run",
        "time": result.seconds,
        "outcome": "error",
        "message": headline,
        "type": why or "stopped",
        "body": headline,
    }


def _health_section(window: Any) -> dict[str, Any]:
    """``"health"``: sources and checks, with --health only (probe_health)."""
    from wscli.probe.health import result_of

    health = result_of(window)
    return {} if health is None else {"health": health.as_dict()}


def junit_xml(result: ProbeResult) -> bytes:
    """One test case per step and per assertion; not-run steps skipped; the failure has the hint."""
    from wscli.output.junit import junit_suite

    cases: list[dict[str, Any]] = []
    for step in result.steps:
        case: dict[str, Any] = {
            "name": f"step: {step.name}",
            "time": step.seconds,
            "out": step.summary,
        }
        if step.status == FAILED:
            body = step.error or ""
            if step.hint:
                body += f"\nhint: {step.hint}"
            case.update(
                outcome="failure",
                message=step.error or "",
                type=f"exit {step.exit_code}",
                body=body,
            )
        elif step.status in (NOT_RUN, SKIPPED):
            why = "not applicable" if step.status == SKIPPED else "not run: an earlier step failed"
            if result.interrupted is not None and step.status == NOT_RUN:
                why = "not run: interrupted"
            case.update(outcome="skipped", message=step.summary or why)
        else:
            case["outcome"] = "passed"
        cases.append(case)
    for check in result.checks:
        case = {
            "name": JUNIT_PREFIX + check.name,
            "out": f"expected {check.expected}; measured {check.measured}",
        }
        if check.ok is None:
            case.update(outcome="skipped", message=f"not measured: {result.not_measured}")
        elif check.ok:
            case["outcome"] = "passed"
        else:
            message = f"expected {check.expected}; measured {check.measured}"
            body = "\n".join([message, *check.examples])
            case.update(outcome="failure", message=message, type="assertion", body=body)
        cases.append(case)
    from wscli.probe.health import source_cases

    cases += source_cases(result.window)
    ended = _run_case(result)
    if ended is not None:
        cases.append(ended)
    properties = {
        "url": result.url,
        "exit_code": str(result.exit_code),
        "reason": reason(result) or "",
        "result": verdict_line(result),
    }
    return junit_suite(
        JUNIT_SUITE, "wscli.probe", cases, elapsed=result.seconds, properties=properties
    )
