"""The reports ``wscli validate`` writes: text for people, JSON and JUnit XML for machines.

Text lines look like compiler output (``file:line: type: /path: reason``) so editors
and ``grep`` understand them; they are streamed as failures are found, then a summary
table (rich, imported only here and only when drawn) and one summary line. The JSON
document and the JUnit file are written once, at the end, from the same counts.
Everything a message contributes is escaped before it reaches a terminal or XML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wscli.frames import escape
from wscli.output.junit import junit_suite as junit_suite  # re-exported: validate names it
from wscli.output.layout import fit_lines
from wscli.output.terminal import AnsiStyles
from wscli.validate.tally import MALFORMED, MALFORMED_ROW, UNKNOWN_TYPE, Failure, Row, Tally

if TYPE_CHECKING:
    from wscli.checks.schema import Problem
    from wscli.output.terminal import Output

JUNIT_SUITE = "wscli validate"
NO_MESSAGES = "expected messages, got none"


# -- text -----------------------------------------------------------------------------------


REPORT_STYLES = {
    "place": "bold",
    "type": "cyan",
    "path": "yellow",
    "malformed": "magenta",
    "ok": "bold green",
    "failed": "bold red",
    "dim": "dim",
}


def failure_lines(failure: Failure, style: AnsiStyles | None = None) -> list[str]:
    """``place: type: /path: reason``, one line per problem; ``place: malformed: reason``."""
    s = style or AnsiStyles(REPORT_STYLES, False)
    place = s("place", escape(failure.place))
    if failure.kind == MALFORMED:
        return [f"{place}: {s('malformed', 'malformed')}: {escape(failure.reason)}"]
    label = s("type", escape(failure.row))
    return [
        f"{place}: {label}: {s('path', escape(p.path or '/'))}: {escape(p.reason)}"
        for p in failure.problems
    ]


def summary_line(tally: Tally, elapsed: float | None = None, *, stopped: str = "") -> str:
    """``OK: 200 messages, all valid`` or ``FAILED: 200 messages: 160 valid, 40 invalid, ...``.

    ``stopped`` (``interrupted``, ``terminated``, ``idle timeout``, ...) says the run
    ended early: the verdict is then ``INTERRUPTED``, ``TERMINATED`` or ``STOPPED``,
    never ``OK``, whatever was seen.
    """
    took = f" in {elapsed:.2f} s" if elapsed is not None else ""
    sources = len(tally.sources)
    where = f" from {sources} sources" if sources > 1 else ""
    total = tally.messages
    verdict = "OK" if tally.ok else "FAILED"
    if stopped:
        verdict = _STOPPED_VERDICTS.get(stopped, "STOPPED")
        took += f" ({stopped})"
    if total == 0:
        return f"{verdict}: {NO_MESSAGES}{where}{took}"
    noun = "message" if total == 1 else "messages"
    if tally.ok and not stopped:
        return f"OK: {total} {noun}{where}, all valid{took}"
    parts = [f"{tally.valid} valid", f"{tally.invalid} invalid"]
    if tally.unknown_type:
        parts[-1] += f" ({tally.unknown_type} of unknown type)"
    parts.append(f"{tally.malformed} malformed")
    return f"{verdict}: {total} {noun}{where}: {', '.join(parts)}{took}"


_STOPPED_VERDICTS = {"interrupted": "INTERRUPTED", "terminated": "TERMINATED"}


def summary_table(rows: list[Row], *, color: bool, width: int | None = None) -> str:
    """The per-type table (valid, invalid, malformed, and a total) as text, drawn by rich."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    totals = [sum(r.valid for r in rows), sum(r.invalid for r in rows)]
    totals.append(sum(r.malformed for r in rows))
    narrow = width is not None and width < 60  # no padding: 40 columns hold the table
    table = Table(
        box=box.SIMPLE,
        show_edge=False,
        pad_edge=False,
        show_footer=True,
        padding=(0, 0) if narrow else (0, 1),
    )
    table.add_column("type", footer="total")
    for name, total in zip(("valid", "invalid", "malformed"), totals, strict=True):
        table.add_column(name, justify="right", footer=str(total))
    notes = any(row.unknown for row in rows)
    if notes:
        table.add_column("")
    for row in rows:
        cells = [
            Text(str(n), style="red" if n and name != "valid" else "") if n else Text("-", "dim")
            for name, n in zip(
                ("valid", "invalid", "malformed"),
                (row.valid, row.invalid, row.malformed),
                strict=True,
            )
        ]
        extra = [Text("unknown type" if row.unknown else "", style="red")] if notes else []
        table.add_row(Text(escape(row.label)), *cells, *extra)
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=min(width or 100, 100),
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


class TextReport:
    """The human report: failures as they are found, then the table and the summary line.

    Args:
        output: where stdout is and whether it takes colour.
        quiet: print only the summary line (``-q``).
    """

    def __init__(self, output: Output, *, quiet: bool = False) -> None:
        self.output = output
        self.quiet = quiet
        self.style = AnsiStyles(REPORT_STYLES, output.color)

    def failure(self, failure: Failure) -> None:
        lines = failure_lines(failure, self.style)
        text = fit_lines("\n".join(lines), self.output.width)
        self.output.write((text + "\n").encode("utf-8", "replace"))

    def finish(
        self, tally: Tally, *, limit: int | None, elapsed: float | None, stopped: str = ""
    ) -> None:
        s = self.style
        out: list[str] = []
        if not self.quiet:
            if tally.not_listed:
                more = tally.not_listed
                noun = "message" if more == 1 else "messages"
                note = f"... and {more} more failing {noun} not listed (--max-errors {limit})"
                out.append(s("dim", note))
            rows = tally.rows()
            if rows:
                if tally.listed:
                    out.append("")
                table = summary_table(rows, color=self.output.color, width=self.output.width)
                out.append(table.rstrip("\n"))
        line = summary_line(tally, elapsed, stopped=stopped)
        status, _, rest = line.partition(":")
        out.append(s("ok" if tally.ok and not stopped else "failed", status) + ":" + rest)
        text = fit_lines("\n".join(out), self.output.width)
        self.output.write((text + "\n").encode("utf-8", "replace"))
        self.output.flush()


# -- JSON -----------------------------------------------------------------------------------


def failure_records(failure: Failure) -> list[dict[str, Any]]:
    """The JSON problems of one failing message: one object per problem."""
    base: dict[str, Any] = {
        "place": failure.place,
        "source": failure.source,
        failure.unit: failure.position,
        "kind": failure.kind,
        "type": failure.msg_type,
    }
    if failure.kind == MALFORMED:
        return [{**base, "path": None, "reason": failure.reason}]
    return [{**base, "path": p.path, "reason": p.reason} for p in failure.problems]


def json_document(
    tally: Tally,
    *,
    schema: str,
    strict: bool,
    elapsed: float,
    limit: int | None,
    error: str | None = None,
    stopped: str = "",
    reason: str | None = None,
    failures: list[Failure] | None = None,
) -> dict[str, Any]:
    """One document with the summary, each source and every listed problem.

    ``error`` is the one-line error that stopped the run, if one did; ``reason`` is
    why the run did not pass, for machines (see :mod:`wscli.endings`); ``failures``
    are the listed failures (default: the tally's), at most ``limit`` of them, so
    memory stays bounded: the counts stay exact and a note says how many are not
    listed (issue #6).
    """
    by_type = {
        row.label: {
            "valid": row.valid,
            "invalid": row.invalid,
            "malformed": row.malformed,
            **({"unknown_type": True} if row.unknown else {}),
        }
        for row in tally.rows()
    }
    listed = tally.failures if failures is None else failures
    problems = [record for failure in listed for record in failure_records(failure)]
    not_listed = max(0, tally.invalid + tally.malformed - len(listed))
    return {
        "ok": tally.ok and not stopped and reason is None,
        "reason": reason,
        "result": summary_line(tally, stopped=stopped),
        "schema": schema,
        "strict": strict,
        "summary": {
            "messages": tally.messages,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "unknown_type": tally.unknown_type,
            "malformed": tally.malformed,
            "by_type": by_type,
        },
        "sources": [
            {
                "source": s.name,
                "kind": s.kind,
                "messages": s.messages,
                "valid": s.valid,
                "invalid": s.invalid,
                "malformed": s.malformed,
            }
            for s in tally.sources
        ],
        "problems": problems,
        "failures_listed": len(listed),
        "failures_not_listed": not_listed,
        "note": not_listed_note(not_listed, limit) if not_listed else None,
        "max_errors": limit,
        "elapsed_s": round(elapsed, 3),
        "error": error,
    }


def not_listed_note(count: int, limit: int | None) -> str:
    """``... and 5 more failing messages not listed (--max-errors 1000)``."""
    noun = "message" if count == 1 else "messages"
    bound = f" (--max-errors {limit})" if limit is not None else ""
    return f"... and {count} more failing {noun} not listed{bound}"


# -- JUnit XML ------------------------------------------------------------------------------


def junit_xml(
    tally: Tally,
    *,
    schema: str,
    elapsed: float,
    error: str | None = None,
    stopped: str = "",
    reason: str | None = None,
    failures: list[Failure] | None = None,
) -> bytes:
    """JUnit XML: one test case per message type, failures listing each problem.

    Malformed input is a test case of its own; a run that saw no message has one
    failing ``messages`` case, so a CI viewer never shows an empty green suite. A run
    that ended early (interrupted, terminated, a timeout, a connection error) gets
    an ``<error>`` in a ``run`` case whose type is the machine-readable ``reason``:
    a cut-short run is never green (issue #7). ``failures`` are the listed ones
    (default: the tally's); the rest are counted as "N more not listed". Written by
    :func:`junit_suite`, the one JUnit writer every command uses.
    """
    by_row: dict[str, list[Failure]] = {}
    for failure in tally.failures if failures is None else failures:
        by_row.setdefault(failure.row, []).append(failure)
    junit_cases: list[dict[str, Any]] = []
    for row in tally.rows():
        out = f"{row.messages} messages: {row.valid} valid, {row.invalid} invalid"
        if row.label == MALFORMED_ROW:
            out = f"{row.malformed} malformed inputs"
        case: dict[str, Any] = {"name": row.label, "time": "0", "out": out, "outcome": "passed"}
        junit_cases.append(case)
        bad = row.invalid + row.malformed
        if not bad:
            continue
        kind = MALFORMED if row.malformed else (UNKNOWN_TYPE if row.unknown else "invalid")
        if row.malformed:
            message = f"{row.malformed} malformed inputs (not JSON messages)"
        elif row.unknown:
            message = f"{row.invalid} messages of unknown type {row.label!r}"
        else:
            message = f"{row.invalid} of {row.messages} {row.label} messages invalid"
        listed = by_row.get(row.label, [])
        body = [line for f in listed for line in failure_lines(f)]
        hidden = bad - len(listed)
        if hidden > 0:
            body.append(f"... and {hidden} more not listed")
        case.update(outcome="failure", message=message, type=kind, body="\n".join(body))
    if tally.messages == 0:
        junit_cases.append(
            {
                "name": "messages",
                "time": "0",
                "outcome": "failure",
                "message": NO_MESSAGES,
                "type": "no_messages",
                "body": NO_MESSAGES,
            }
        )
    if stopped or error is not None:
        noun = "message" if tally.messages == 1 else "messages"
        headline = f"run: {stopped or 'stopped'} after {tally.messages} {noun}"
        junit_cases.append(
            {
                "name": "run",
                "time": "0",
                "outcome": "error",
                "message": headline,
                "type": reason or "stopped",
                "body": error or headline,
            }
        )
    properties = [("schema", schema)]
    properties += [("source", source.name) for source in tally.sources]
    properties.append(("result", summary_line(tally, stopped=stopped)))
    return junit_suite(
        JUNIT_SUITE, "wscli.validate", junit_cases, elapsed=elapsed, properties=properties
    )


# -- checking a schema ----------------------------------------------------------------------


def schema_problem_lines(path: str, problems: list[Problem]) -> list[str]:
    """``schema.json#/properties/a/minimum: expected number, got string "5"``."""
    return [f"{escape(path)}#{escape(p.path)}: {escape(p.reason)}" for p in problems]


def schema_check_document(path: str, draft: str, problems: list[Problem]) -> dict[str, Any]:
    return {
        "schema": path,
        "draft": draft,
        "valid": not problems,
        "problems": [{"path": p.path, "reason": p.reason} for p in problems],
    }
