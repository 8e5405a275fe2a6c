"""The checks a run can be held to, in one table: name, option, what is measured, how.

A *check* is one pass/fail question about a stream (issue #18: one word for the idea).
``probe`` builds its checks from this table; ``tail --validate`` names its verdict
after :data:`VALIDATE`; reports use :attr:`CheckSpec.name` as the JSON ``name`` and
the JUnit case name (``assert: NAME``), so one check reads the same everywhere.
Adding a check is one entry here plus its measurement where the messages are read.
"""

from __future__ import annotations

from dataclasses import dataclass

# JUnit case names identify a test across runs in a CI's history: probe's stay as they were.
JUNIT_PREFIX = "assert: "


@dataclass(frozen=True)
class CheckSpec:
    """One check.

    Attributes:
        name: the name in every report (JSON ``name``, JUnit ``assert: NAME``).
        option: the command-line flag that asks for it.
        measures: what is measured, in words for ``--help`` and the manual.
        comparison: how the measurement is compared with the limit
            (``>=``, ``<=``, ``seen``, ``not seen``, ``all``).
        unit: the unit of the limit and the measurement (``messages``, ``s``, ``ms``).
        whole_window: only the whole window can decide it (a later message may still
            fail it), so reaching another check's limit never ends listening early.
    """

    name: str
    option: str
    measures: str
    comparison: str
    unit: str
    whole_window: bool

    def case_name(self, subject: str = "") -> str:
        """The JUnit test case name: ``assert: min-count``, ``assert: forbid-type error``."""
        return JUNIT_PREFIX + self.label(subject)

    def label(self, subject: str = "") -> str:
        """The check's name in reports, with its subject for per-type checks."""
        return f"{self.name} {subject}" if subject else self.name


EXPECT_MESSAGE = CheckSpec(
    "expect-message",
    "--expect-message",
    "a first message within --timeout",
    ">=",
    "messages",
    whole_window=False,
)
MIN_COUNT = CheckSpec(
    "min-count",
    "--min-count",
    "messages received within the window",
    ">=",
    "messages",
    whole_window=False,
)
EXPECT_TYPE = CheckSpec(
    "expect-type",
    "--expect-type",
    "a message of this type within the window",
    "seen",
    "messages",
    whole_window=False,
)
FORBID_TYPE = CheckSpec(
    "forbid-type",
    "--forbid-type",
    "messages of this type within the window",
    "not seen",
    "messages",
    whole_window=True,
)
MAX_GAP = CheckSpec(
    "max-gap",
    "--max-gap",
    "the longest silence in the window, the silence after the last message included",
    "<=",
    "s",
    whole_window=True,
)
MAX_LATENCY = CheckSpec(
    "max-latency",
    "--max-latency",
    "time from the upgrade to the first message",
    "<=",
    "ms",
    whole_window=False,
)
VALIDATE = CheckSpec(
    "validate",
    "--validate",
    "messages valid against the schema (malformed and binary ones are not)",
    "all",
    "messages",
    whole_window=True,
)

CHECKS: dict[str, CheckSpec] = {
    spec.name: spec
    for spec in (
        EXPECT_MESSAGE,
        MIN_COUNT,
        EXPECT_TYPE,
        FORBID_TYPE,
        MAX_GAP,
        MAX_LATENCY,
        VALIDATE,
    )
}
