"""The health report: a per-source table for people, JSON and JUnit for machines.

Drawn from one :class:`~wscli.checks.health.HealthResult`, on every ending of a run. The
table is rich, imported here only when drawn, and fits the width it is given; with
many sources it lists the flagged ones and the first healthy ones, then says how
many more passed, so a 10^6-source stream does not print a million rows.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wscli.checks.health import FAIL, PASS, STREAM_CHECKS, SUSPECT, HealthResult, SourceResult
from wscli.frames import escape

if TYPE_CHECKING:
    from rich.table import Table

MAX_ROWS = 50  # table rows in a text report; the JSON document lists every source
LEVEL_STYLES = {PASS: "green", SUSPECT: "yellow", FAIL: "bold red"}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _last_seen(row: SourceResult) -> str:
    if row.last_seen is None:
        return "-"
    return time.strftime("%H:%M:%S", time.gmtime(row.last_seen))


def flags_text(row: SourceResult) -> str:
    """``fail staleness: silent 75.0 s ...; suspect cadence: ...`` or ``pass``."""
    if not row.flags:
        return PASS
    parts = []
    for flag in row.flags:
        times = f" (x{flag.count})" if flag.count > 1 else ""
        parts.append(f"{flag.level} {flag.check}: {flag.detail}{times}")
    return "; ".join(parts)


# Columns by the width they need: narrow terminals keep what tells sensors apart.
WIDE = 110
MEDIUM = 80


def health_table(
    result: HealthResult, *, max_rows: int | None = MAX_ROWS, width: int = WIDE
) -> Table:
    """The per-source table as a rich renderable (the live view redraws this one).

    Under :data:`WIDE` columns location, rate and skew go; under :data:`MEDIUM` type,
    last seen and gap go too, so the flags keep room to be read.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    wide, medium = width >= WIDE, width >= MEDIUM
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    table.add_column("source", no_wrap=True, max_width=24)
    if wide:
        table.add_column("location", overflow="fold", max_width=20)
    if medium:
        table.add_column("type", overflow="fold", max_width=18)
    table.add_column("count", justify="right", no_wrap=True)
    if wide:
        table.add_column("rate", justify="right", no_wrap=True)
    if medium:
        table.add_column("last seen", no_wrap=True)
        table.add_column("max gap", justify="right", no_wrap=True)
    if wide:
        table.add_column("max skew", justify="right", no_wrap=True)
    table.add_column("flags", overflow="fold", ratio=1, min_width=20)
    rows = result.sources if max_rows is None else result.sources[:max_rows]
    for row in rows:
        rate = row.rate
        cells: list[Text | str] = [Text(escape(row.source))]
        if wide:
            cells.append(Text(escape(row.location or "-")))
        if medium:
            cells.append(Text(escape(row.type or "-")))
        cells.append(str(row.count))
        if wide:
            cells.append("-" if rate is None else f"{rate:.2f}/s")
        if medium:
            cells.append(_last_seen(row))
            cells.append(_seconds(row.max_gap if row.count > 1 else None))
        if wide:
            cells.append("-" if row.max_skew is None else f"{row.max_skew:+.1f}s")
        cells.append(Text(escape(flags_text(row)), style=LEVEL_STYLES[row.level]))
        table.add_row(*cells)
    hidden = len(result.sources) - len(rows)
    if hidden > 0:
        more = Text(f"... and {hidden} more sources (-o json lists all)", style="dim")
        table.add_row(more, *[""] * (len(table.columns) - 1))
    return table


def health_text(result: HealthResult, *, color: bool, width: int = 100) -> str:
    """The table, the stream checks that did not pass, and the verdict line."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=max(60, width),
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    if result.sources:
        console.print(health_table(result, width=width))
    for check in result.checks:
        if check.level != PASS and check.check in STREAM_CHECKS:
            console.print(
                f"{check.check}: {check.level}: {escape(check.detail)}",
                style=LEVEL_STYLES[check.level],
                markup=False,
                soft_wrap=True,
            )
    style = "bold green" if result.ok and not result.stopped else "bold red"
    console.print(result.verdict(), style=style, markup=False, soft_wrap=True)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def junit_cases(result: HealthResult, classname: str = "health") -> list[dict[str, Any]]:
    """One case per source (a CI viewer shows which sensor failed) plus each stream check.

    A suspect source is a failure only under ``--strict``; otherwise it passes with its
    flags in ``system-out``, so CI stays green but the reason is one click away.
    """
    del classname  # the suite's classname is the caller's
    cases: list[dict[str, Any]] = []
    for row in result.sources:
        level = row.level
        failing = level == FAIL or (level == SUSPECT and result.strict)
        case: dict[str, Any] = {
            "name": f"source {row.source}",
            "outcome": "failure" if failing else "passed",
            "out": f"{row.count} messages; {flags_text(row)}",
        }
        if failing:
            worst = next(f for f in row.flags if f.level == level)
            case["message"] = f"{worst.check} {worst.level}: {worst.detail}"
            case["type"] = worst.check
            case["body"] = flags_text(row)
        cases.append(case)
    for check in result.checks:
        if check.check not in STREAM_CHECKS:
            continue
        failing = check.level == FAIL or (check.level == SUSPECT and result.strict)
        case = {
            "name": f"check {check.check}",
            "outcome": "failure" if failing else "passed",
            "out": f"{check.detail} (value {check.value}, threshold {check.threshold})",
        }
        if failing:
            case["message"] = f"{check.check} {check.level}: {check.detail}"
            case["type"] = check.check
        cases.append(case)
    return cases


def health_junit(result: HealthResult, *, elapsed: float, suite: str = "wscli health") -> bytes:
    """A whole JUnit document of the health cases (the shared ``junit_suite`` helper)."""
    from wscli.output.junit import junit_suite

    return junit_suite(
        suite,
        "wscli.checks.health",
        junit_cases(result),
        elapsed=elapsed,
        properties={"result": result.verdict()},
    )


def add_health_suite(xml: bytes, result: HealthResult, elapsed: float) -> bytes:
    """Another command's JUnit document plus a ``wscli health`` suite in its ``<testsuites>``."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    suite = ET.fromstring(health_junit(result, elapsed=elapsed)).find("testsuite")
    assert suite is not None
    root.append(suite)
    for total in ("tests", "failures", "errors"):
        root.set(total, str(int(root.get(total, "0")) + int(suite.get(total, "0"))))
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out
