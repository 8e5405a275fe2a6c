"""``wscli probe --health``: the stream checks as probe assertions, and their reports.

Kept apart from probe's window logic: :class:`~wscli.probe_stream.StreamCheck` feeds
each message to the engine on ``window.health``, :func:`~wscli.probe_checks.evaluate`
asks :func:`health_assertions` for one assertion per check, and the reports add
the per-source table, the JSON section and one JUnit case per source.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wscli.health import CADENCE_FACTOR, PASS, SUSPECT, CheckResult, HealthEngine

if TYPE_CHECKING:
    from wscli.health import HealthConfig, HealthResult
    from wscli.probe_checks import Assertion, Plan, Window


def engine_for(plan: Plan) -> HealthEngine | None:
    config: HealthConfig | None = plan.health
    return HealthEngine(config) if config is not None else None


def expectation(check: CheckResult) -> str:
    """What a check wants, in the words of probe's other assertions."""
    name, threshold = check.check, check.threshold
    if name == "coverage":
        if isinstance(threshold, list):
            return f"sources {', '.join(map(str, threshold))} reporting"
        return f">= {threshold} sources reporting"
    if name == "staleness":
        return f"no source silent over {threshold:g} s"
    if name == "clock_skew":
        return "no skew measured" if threshold is None else f"skew within {threshold:g} s"
    if name == "error_rate":
        return f"error messages <= {threshold:.1%}"
    return {
        "cadence": f"no gap over {CADENCE_FACTOR:g}x a source's median interval",
        "duplicates": "no reading twice",
        "order": "ids and timestamps in order",
        "plausibility": "values plausible for their type",
        "status": "no source offline or on low battery",
    }.get(name, name)


def health_assertions(plan: Plan, window: Window | None) -> list[Assertion]:
    """One assertion per health check; a suspect one fails only under ``--strict``."""
    from wscli.probe_checks import Assertion

    if plan.health is None:
        return []
    engine: HealthEngine | None = None if window is None else window.health
    if window is None or engine is None:
        return [Assertion("health", None, "every source healthy", "not measured")]
    result = engine.result(end=time.time())
    window.health_result = result
    strict = result.strict
    return [
        Assertion(
            f"health {check.check}",
            check.level == PASS or (check.level == SUSPECT and not strict),
            expectation(check),
            f"{check.level}: {check.detail}",
        )
        for check in result.checks
    ]


def result_of(window: Window | None) -> HealthResult | None:
    return None if window is None else window.health_result


def source_cases(window: Window | None) -> list[dict[str, Any]]:
    """JUnit: one case per source, so a CI viewer shows which sensor failed."""
    from wscli.healthreport import junit_cases

    result = result_of(window)
    if result is None:
        return []
    return [case for case in junit_cases(result) if case["name"].startswith("source ")]


def source_table(window: Window | None, *, color: bool, width: int | None) -> str:
    """The per-source table for the checklist (empty without --health)."""
    result = result_of(window)
    if result is None or not result.sources:
        return ""
    from wscli.healthreport import health_text

    text = health_text(result, color=color, width=width or 120)
    return "\n".join(text.splitlines()[:-1])  # the verdict is probe's own line
