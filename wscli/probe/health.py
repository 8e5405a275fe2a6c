"""``wscli probe --health``: the stream checks as probe checks, and their reports.

Kept apart from probe's window logic: :class:`~wscli.probe.stream.StreamCheck` feeds
each message to the engine on ``window.health``, :func:`~wscli.probe.checks.evaluate`
turns each health check into one probe check (:func:`expectation` words it), and the reports add
the per-source table, the JSON section and one JUnit case per source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wscli.checks.health import CADENCE_FACTOR, HealthEngine
from wscli.checks.health import CheckResult as HealthCheck

if TYPE_CHECKING:
    from wscli.checks.health import HealthConfig, HealthResult


def engine_for(plan: Any) -> HealthEngine | None:
    config: HealthConfig | None = plan.health
    return HealthEngine(config) if config is not None else None


def expectation(check: HealthCheck) -> str:
    """What a check wants, in the words of probe's other checks."""
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


def result_of(window: Any) -> HealthResult | None:
    return None if window is None else window.health_result


def source_cases(window: Any) -> list[dict[str, Any]]:
    """JUnit: one case per source, so a CI viewer shows which sensor failed."""
    from wscli.checks.health_report import junit_cases

    result = result_of(window)
    if result is None:
        return []
    return [case for case in junit_cases(result) if case["name"].startswith("source ")]


def source_table(window: Any, *, color: bool, width: int | None) -> str:
    """The per-source table for the checklist (empty without --health)."""
    result = result_of(window)
    if result is None or not result.sources:
        return ""
    from wscli.checks.health_report import health_text

    text = health_text(result, color=color, width=width or 120)
    return "\n".join(text.splitlines()[:-1])  # the verdict is probe's own line
