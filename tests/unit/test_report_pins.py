"""Exact pins of validate's reports, its tally's explainer cache and the JSON reader.

Direct calls only (no subprocess): the rich table with colour on, the text report of a
label that is not Unicode, the JUnit ``run`` case of a cut-short run with its exact
words and a frozen clock, how often the slow explainer is asked, and where the
streaming JSON reader waits for more input near ``--max-size``.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

import pytest

from wscli.checks.schema import Problem
from wscli.output import junit
from wscli.output.terminal import Output
from wscli.validate.jsonstream import JsonText, document_items
from wscli.validate.reports import TextReport, junit_suite, junit_xml, summary_table
from wscli.validate.tally import Failure, Malformed, Row, SourceSummary, Tally

# 2026-03-04 05:06:07.999998 UTC: the clock the frozen tests see.
INSTANT = datetime(2026, 3, 4, 5, 6, 7, 999998, tzinfo=timezone.utc)


class FrozenClock:
    """``datetime`` on a machine whose local zone is UTC+05:30, stopped at INSTANT."""

    @staticmethod
    def now(tz: tzinfo | None = None) -> datetime:
        if tz is None:  # naive local time, as datetime.now() gives it
            return (INSTANT + timedelta(hours=5, minutes=30)).replace(tzinfo=None)
        return INSTANT.astimezone(tz)


def _bold(text: str) -> str:
    return f"\x1b[1m{text}\x1b[0m"


def _red(text: str) -> str:
    return f"\x1b[31m{text}\x1b[0m"


def _dim(text: str) -> str:
    return f"\x1b[2m{text}\x1b[0m"


# rich pads a bold header or footer cell with bold spaces either side of the gap.
GAP = _bold(" ") + " " + _bold(" ")


# -- the summary table ---------------------------------------------------------------------


def test_summary_table_in_colour_is_exact() -> None:
    """Colour on: bold header and footer, red counts of failures, dim dashes, no highlighting.

    The footer's numbers stay plain bold: rich's number highlighter (cyan) must stay off,
    and colour must not depend on whether the StringIO is a terminal.
    """
    rows = [
        Row("sensor_reading", 3, 1, 0, False),
        Row("zzz", 0, 2, 0, True),
        Row("(malformed)", 0, 0, 2, False),
    ]
    rule = "─" * 59
    blank = " " * 12
    expected = [
        _bold("type          ")
        + GAP
        + _bold("valid")
        + GAP
        + _bold("invalid")
        + GAP
        + _bold("malformed")
        + GAP
        + _bold(blank),
        rule,
        "sensor_reading       3   "
        + _red("      1")
        + "   "
        + _dim("        -")
        + "   "
        + _red(blank),
        "zzz              "
        + _dim("    -")
        + "   "
        + _red("      2")
        + "   "
        + _dim("        -")
        + "   "
        + _red("unknown type"),
        "(malformed)      "
        + _dim("    -")
        + "   "
        + _dim("      -")
        + "   "
        + _red("        2")
        + "   "
        + _red(blank),
        rule,
        _bold("total         ")
        + GAP
        + _bold("    3")
        + GAP
        + _bold("      3")
        + GAP
        + _bold("        2")
        + GAP
        + _bold(blank),
    ]
    assert summary_table(rows, color=True) == "\n".join(expected) + "\n"


def test_summary_table_in_colour_ignores_no_color_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The colour decision is the caller's (Output, maybe given its own env): red stays red."""
    monkeypatch.setenv("NO_COLOR", "1")
    table = summary_table([Row("t", 0, 1, 0, False)], color=True).splitlines()
    dash = _dim("        -")
    assert table[2] == "t       " + _dim("    -") + "   " + _red("      1") + "   " + dash


def test_summary_table_without_colour_has_no_escape_at_all() -> None:
    """Colour off: the same table as plain text, the note column included."""
    rows = [Row("sensor_reading", 3, 1, 0, False), Row("zzz", 0, 2, 0, True)]
    rule = "─" * 59
    assert summary_table(rows, color=False) == (
        "type             valid   invalid   malformed\n"
        f"{rule}\n"
        "sensor_reading       3         1           -\n"
        "zzz                  -         2           -   unknown type\n"
        f"{rule}\n"
        "total                3         3           0\n"
    )


# -- the text report -------------------------------------------------------------------------


def _unicode_less_tally() -> Tally:
    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    tally.valid_by_type["\udcff"] = 1  # a label that is not Unicode (a lone surrogate)
    tally.invalid_by_type["b"] = 1
    return tally


def test_text_report_shows_a_label_that_is_not_unicode_as_a_question_mark() -> None:
    """A lone surrogate in a type label is written as "?", never a UnicodeEncodeError."""
    buffer = io.BytesIO()
    report = TextReport(Output(stdout=buffer, is_tty=False, color="never"))
    report.finish(_unicode_less_tally(), limit=None, elapsed=None)
    rule = "─" * 35
    assert buffer.getvalue().decode("utf-8") == (
        "type    valid   invalid   malformed\n"
        f"{rule}\n"
        "b           -         1           -\n"
        "?           1         -           -\n"
        f"{rule}\n"
        "total       1         1           0\n"
        "FAILED: 2 messages: 1 valid, 1 invalid, 0 malformed\n"
    )


def test_text_report_in_colour_shows_a_label_that_is_not_unicode_too() -> None:
    """The same with colour: the table's escapes, then a bold red FAILED."""
    buffer = io.BytesIO()
    report = TextReport(Output(stdout=buffer, is_tty=False, color="always"))
    report.finish(_unicode_less_tally(), limit=None, elapsed=None)
    rule = "─" * 35
    expected = [
        _bold("type ") + GAP + _bold("valid") + GAP + _bold("invalid") + GAP + _bold("malformed"),
        rule,
        "b       " + _dim("    -") + "   " + _red("      1") + "   " + _dim("        -"),
        "?           1   " + _dim("      -") + "   " + _dim("        -"),
        rule,
        _bold("total") + GAP + _bold("    1") + GAP + _bold("      1") + GAP + _bold("        0"),
        "\x1b[1;31mFAILED\x1b[0m: 2 messages: 1 valid, 1 invalid, 0 malformed",
    ]
    assert buffer.getvalue().decode("utf-8") == "\n".join(expected) + "\n"


# -- JUnit XML of validate -------------------------------------------------------------------


def _one_source_tally(valid: int) -> Tally:
    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    tally.valid_by_type["sensor_reading"] = valid
    tally.sources.append(SourceSummary("a.jsonl", "file", valid=valid))
    return tally


def _junit_head(tests: int, time: str, result: str) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        f'<testsuites name="wscli validate" tests="{tests}" failures="0" errors="1"'
        f' time="{time}">\n'
        f'  <testsuite name="wscli validate" tests="{tests}" failures="0" errors="1"'
        f' skipped="0" time="{time}" timestamp="2026-03-04T05:06:07">\n'
        "    <properties>\n"
        '      <property name="schema" value="s.json" />\n'
        '      <property name="source" value="a.jsonl" />\n'
        f'      <property name="result" value="{result}" />\n'
        "    </properties>\n"
    )


def test_junit_of_an_interrupted_run_without_an_error_has_a_run_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C with no error: still an error case, "after 1 message", type "stopped".

    The timestamp is UTC whatever the machine's zone (frozen here at +05:30 local).
    """
    monkeypatch.setattr(junit, "datetime", FrozenClock)
    xml = junit_xml(_one_source_tally(1), schema="s.json", elapsed=2.5, stopped="interrupted")
    result = "INTERRUPTED: 1 message: 1 valid, 0 invalid, 0 malformed (interrupted)"
    assert xml.decode("utf-8") == _junit_head(2, "2.500", result) + (
        '    <testcase classname="wscli.validate" name="sensor_reading" time="0">\n'
        "      <system-out>1 messages: 1 valid, 0 invalid</system-out>\n"
        "    </testcase>\n"
        '    <testcase classname="wscli.validate" name="run" time="0">\n'
        '      <error message="run: interrupted after 1 message" type="stopped">'
        "run: interrupted after 1 message</error>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>"
    )


def test_junit_of_a_run_ended_by_an_error_alone_says_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error with no `stopped` word and no reason: "run: stopped after 2 messages"."""
    monkeypatch.setattr(junit, "datetime", FrozenClock)
    xml = junit_xml(_one_source_tally(2), schema="s.json", elapsed=0.0004, error="reset by peer")
    result = "OK: 2 messages, all valid"
    assert xml.decode("utf-8") == _junit_head(2, "0.000", result) + (
        '    <testcase classname="wscli.validate" name="sensor_reading" time="0">\n'
        "      <system-out>2 messages: 2 valid, 0 invalid</system-out>\n"
        "    </testcase>\n"
        '    <testcase classname="wscli.validate" name="run" time="0">\n'
        '      <error message="run: stopped after 2 messages" type="stopped">'
        "reset by peer</error>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>"
    )


def test_junit_of_a_finished_run_has_no_run_case() -> None:
    """No error and no stop: no ``run`` case, errors="0"; passing cases carry no failure."""
    root = ET.fromstring(junit_xml(_one_source_tally(3), schema="s.json", elapsed=1))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    (suite,) = root
    (case,) = suite.findall("testcase")
    assert case.attrib == {"classname": "wscli.validate", "name": "sensor_reading", "time": "0"}
    assert [(child.tag, child.attrib, child.text) for child in case] == [
        ("system-out", {}, "3 messages: 3 valid, 0 invalid")
    ]


# -- the JUnit writer probe and load share -----------------------------------------------------


def test_junit_suite_timestamp_is_utc_and_properties_are_property_elements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Byte for byte with a frozen clock: UTC timestamp, ``<property>`` children."""
    monkeypatch.setattr(junit, "datetime", FrozenClock)
    xml = junit_suite(
        "wscli probe",
        "wscli.probe",
        [{"name": "tcp", "outcome": "passed", "time": 0.25}],
        elapsed=0.5,
        properties={"url": "ws://x/", "tls": "no"},
    )
    assert xml.decode("utf-8") == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<testsuites name="wscli probe" tests="1" failures="0" errors="0" time="0.500">\n'
        '  <testsuite name="wscli probe" tests="1" failures="0" errors="0" skipped="0"'
        ' time="0.500" timestamp="2026-03-04T05:06:07">\n'
        "    <properties>\n"
        '      <property name="url" value="ws://x/" />\n'
        '      <property name="tls" value="no" />\n'
        "    </properties>\n"
        '    <testcase classname="wscli.probe" name="tcp" time="0.250" />\n'
        "  </testsuite>\n"
        "</testsuites>"
    )


# -- the tally asks the slow explainer only when it must ---------------------------------------


@dataclass
class CountingChecker:
    """Rejects everything; blames ``/type`` for the types in ``unknown``; counts explanations."""

    unknown: frozenset[str] = frozenset()
    asked: list[object] = field(default_factory=list)

    def is_valid(self, message: object) -> bool:
        return False

    def problems(self, message: object) -> list[Problem]:
        self.asked.append(message)
        kind = message.get("type") if isinstance(message, dict) else None
        msg_type = kind if isinstance(kind, str) else None
        if msg_type in self.unknown:
            return [Problem("/type", "unknown type", msg_type)]
        return [Problem("/data", "bad", msg_type)]


@dataclass
class ListSource:
    """A source of ready-made values, one per line."""

    values: list[object]
    name: str = "s.jsonl"
    kind: str = "file"
    unit: str = "line"

    def place(self, position: int) -> str:
        return f"{self.name}:{position}"

    def items(self) -> Iterator[tuple[int, object]]:
        return iter(enumerate(self.values, 1))


def test_unlisted_failures_reuse_each_types_verdict() -> None:
    """Past --max-errors, a type already explained is not explained again; untyped never is.

    The counts stay exact: "a" is of unknown type both times, "b" is not.
    """
    a1, a2, b1, b2 = {"type": "a", "n": 1}, {"type": "a"}, {"type": "b", "n": 1}, {"type": "b"}
    untyped1, untyped2 = {"data": 1}, {"data": 2}
    checker = CountingChecker(frozenset({"a"}))
    tally = Tally(checker, limit=1)
    tally.check(ListSource([a1, a2, b1, b2, untyped1, untyped2]))
    assert checker.asked == [a1, b1]  # a1 to list it, b1 to classify the new type
    assert tally.invalid_by_type == {"a": 2, "b": 2, "(no type)": 2}
    assert (tally.unknown_type, tally.unknown_types) == (2, {"a"})
    assert (tally.listed, tally.not_listed) == (1, 5)
    (failure,) = tally.failures
    assert (failure.place, failure.kind, failure.msg_type) == ("s.jsonl:1", "unknown_type", "a")
    assert failure.problems == (Problem("/type", "unknown type", "a"),)


def test_the_explainer_cache_holds_at_most_1000_types() -> None:
    """A hostile stream of distinct types cannot grow the cache: the 1001st is not kept.

    With nothing listed, each new type is explained once; the 1001st type (past the
    cap) is explained again when it comes back, the first one is not.
    """
    messages: list[object] = [{"type": f"t{i}"} for i in range(1001)]
    messages += [{"type": "t1000"}, {"type": "t0"}]
    checker = CountingChecker()
    tally = Tally(checker, listing=False)
    tally.check(ListSource(messages))
    assert len(checker.asked) == 1002
    assert checker.asked[-1] == {"type": "t1000"}
    assert (tally.invalid, tally.unknown_type, tally.not_listed) == (1003, 0, 1003)


@dataclass
class SniffingSource(ListSource):
    """A file source that knows its kind (``jsonl``) only once it starts reading."""

    kind: str = "file"
    stop_after: int | None = None  # raise KeyboardInterrupt after this many items

    def items(self) -> Iterator[tuple[int, object]]:
        self.kind = "jsonl"
        for position, value in enumerate(self.values, 1):
            if position - 1 == self.stop_after:
                raise KeyboardInterrupt
            yield position, value


class RejectsBad:
    """Valid unless the value is an object with a "bad" key."""

    def is_valid(self, message: object) -> bool:
        return not (isinstance(message, dict) and "bad" in message)

    def problems(self, message: object) -> list[Problem]:
        kind = message.get("type") if isinstance(message, dict) else None
        return [Problem("/bad", "must not be there", kind if isinstance(kind, str) else None)]


def test_check_counts_each_source_exactly_and_lists_what_failed() -> None:
    """Two sources: per-source counts (not running totals), kinds known after reading."""
    bad_a = {"type": "a", "bad": 1}
    one = SniffingSource(
        [{"type": "a"}, {"type": "a"}, Malformed("not JSON"), bad_a, [1], {"type": 7}, {}],
        name="one.jsonl",
    )
    one.values.append(Malformed("cut"))
    two = SniffingSource(
        [{"type": "b"}, Malformed("x"), {"type": "b", "bad": 1}, {"bad": 1}], name="two.jsonl"
    )
    tally = Tally(RejectsBad(), limit=3)
    first, second = tally.check(one), tally.check(two)
    assert first == SourceSummary("one.jsonl", "jsonl", valid=5, invalid=1, malformed=2)
    assert second == SourceSummary("two.jsonl", "jsonl", valid=1, invalid=2, malformed=1)
    assert tally.sources == [first, second]
    assert tally.valid_by_type == {"a": 2, "(no type)": 3, "b": 1}
    assert tally.invalid_by_type == {"a": 1, "b": 1, "(no type)": 1}
    assert (tally.malformed, tally.listed, tally.not_listed) == (3, 3, 3)
    problem = Problem("/bad", "must not be there", "a")
    assert tally.failures == [
        Failure("one.jsonl", "one.jsonl:3", 3, "line", "malformed", None, reason="not JSON"),
        Failure("one.jsonl", "one.jsonl:4", 4, "line", "invalid", "a", (problem,)),
        Failure("one.jsonl", "one.jsonl:8", 8, "line", "malformed", None, reason="cut"),
    ]


def test_check_lumps_types_past_the_fiftieth_into_other_types() -> None:
    """Types 51 and 52 (and 51 again) are all counted in "(other types)": 3 of them."""
    values: list[object] = [{"type": f"t{i}"} for i in range(52)]
    values.append({"type": "t50"})
    tally = Tally(RejectsBad())
    tally.check(ListSource(values))
    assert tally.valid_by_type == {**{f"t{i}": 1 for i in range(50)}, "(other types)": 3}


def test_check_interrupted_mid_source_keeps_what_was_counted() -> None:
    """Ctrl-C after two items: the source's summary already holds them (Ctrl-C safe)."""
    source = SniffingSource([{"type": "a"}, Malformed("x"), {"type": "a"}], stop_after=2)
    tally = Tally(RejectsBad())
    with pytest.raises(KeyboardInterrupt):
        tally.check(source)
    assert tally.sources == [SourceSummary("s.jsonl", "jsonl", valid=1, invalid=0, malformed=1)]


def test_rows_are_exact_and_in_report_order() -> None:
    """Types by message count then name, then (no type), (other types), (malformed)."""
    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    tally.valid_by_type.update({"b": 1, "a": 1, "(no type)": 5, "(other types)": 9, "c": 3})
    tally.invalid_by_type["a"] = 2
    tally.unknown_types.add("a")
    tally.malformed = 2
    assert tally.rows() == [
        Row("a", 1, 2, 0, True),
        Row("c", 3, 0, 0, False),
        Row("b", 1, 0, 0, False),
        Row("(no type)", 5, 0, 0, False),
        Row("(other types)", 9, 0, 0, False),
        Row("(malformed)", 0, 0, 2, False),
    ]


# -- the streaming JSON reader near --max-size -------------------------------------------------


def feeder(*chunks: str) -> Callable[[int], bytes]:
    """A read function handing out exactly ``chunks`` (then b""), whatever size is asked."""
    queue = [chunk.encode() for chunk in chunks]

    def read(size: int) -> bytes:
        return queue.pop(0) if queue else b""

    return read


def documents(*chunks: str, limit: int) -> list[tuple[int, object]]:
    """What ``document_items`` yields, a malformed item shown as its reason."""
    text = JsonText(feeder(*chunks), limit=limit)
    return [
        (line, value.reason if isinstance(value, Malformed) else value)
        for line, value in document_items(text)
    ]


def test_a_document_cut_after_earlier_ones_is_measured_from_its_own_start() -> None:
    """What was already read before a cut document does not count against --max-size."""
    first = '{"a":"xxxxxxxxxx"}'  # 18 characters, under the limit of 20
    assert documents(first + '\n{"b":', "1}\n", limit=20) == [
        (1, {"a": "xxxxxxxxxx"}),
        (2, {"b": 1}),
    ]


def test_a_number_cut_after_earlier_documents_waits_for_its_digits() -> None:
    """`12` at the end of a chunk, `3` in the next: one number 123, not 12 and 3."""
    first = '{"a":"xxxxxxxxxx"}'
    assert documents(first + "\n12", "3\n", limit=20) == [(1, {"a": "xxxxxxxxxx"}), (2, 123)]


def test_a_number_exactly_at_the_limit_still_waits_for_its_digits() -> None:
    """`1234` (4 bytes, limit 4) then `5`: the number is 12345, over the limit, not 1234."""
    assert documents("1234", "5\n", limit=4) == [
        (1, "a JSON value larger than 4 B (--max-size)"),
    ]
