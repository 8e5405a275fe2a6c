"""Report counts that CI viewers and people rely on, pinned at their edges.

JUnit's ``tests=``/``failures=``/``errors=`` must agree with the test cases in the
file (a connection error is a case too), and a listing cut by ``--max-errors`` says
how many more there were, in every report format.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from wscli.server.simulator import Simulator
from wscli.validate.tally import Tally

FAST = ("--connect-timeout", "5")


def write_lines(path: Path, valid: int, invalid: int, malformed: int = 0) -> Path:
    sim = Simulator(21)
    lines = [json.dumps(sim.next_message()) for _ in range(valid)]
    lines += [json.dumps(sim.invalid("sensor_id_negative")) for _ in range(invalid)]
    lines += ["{not json"] * malformed
    path.write_text("".join(line + "\n" for line in lines))
    return path


def junit_counts(path: Path) -> tuple[ET.Element, dict[str, int]]:
    """The suite, after checking that both levels' counts match the cases in the file."""
    root = ET.parse(path).getroot()
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    actual = {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
    }
    for element in (root, suite):
        declared = {key: int(element.get(key, "-1")) for key in actual}
        assert declared == actual, (element.tag, declared, actual)
    return suite, actual


def test_junit_tests_count_includes_the_connection_error_case(
    tmp_path: Path, free_port: int
) -> None:
    """A file of 3 valid readings, then a refused URL: 2 cases + 1 error case, tests=3."""
    path = write_lines(tmp_path / "ok.jsonl", valid=3, invalid=0)
    junit = tmp_path / "r.xml"
    run_cli(
        "validate", str(path), f"ws://127.0.0.1:{free_port}/", *FAST, "--junit", str(junit),
        expect=3,
    )  # fmt: skip
    suite, counts = junit_counts(junit)
    assert counts["errors"] == 1
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names[-1] == "run"  # the run's ending is one case (#7)
    assert counts["tests"] == len(set(names)) and "run" in names
    error = suite.find("testcase[@name='run']/error")
    assert error is not None and "connection error after 3 messages" in (error.get("message") or "")
    assert "connection refused" in (error.text or "")


def test_junit_connection_error_with_no_messages(tmp_path: Path, free_port: int) -> None:
    """Nothing received, connection refused: the no-messages failure and the error, tests=2."""
    junit = tmp_path / "r.xml"
    run_cli("validate", f"ws://127.0.0.1:{free_port}/", *FAST, "--junit", str(junit), expect=3)
    _, counts = junit_counts(junit)
    assert counts == {"tests": 2, "failures": 1, "errors": 1}


def test_junit_counts_without_an_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "mixed.jsonl", valid=4, invalid=2, malformed=1)
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--junit", str(junit), "-q", expect=1)
    _, counts = junit_counts(junit)
    assert counts["errors"] == 0 and counts["failures"] == 2  # invalid readings, malformed


# -- --max-errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "note"),
    [
        ("0", "... and 5 more failing messages not listed (--max-errors 0)"),
        ("3", "... and 2 more failing messages not listed (--max-errors 3)"),
        ("4", "... and 1 more failing message not listed (--max-errors 4)"),
    ],
)
def test_the_cut_listing_says_how_many_more(tmp_path: Path, limit: str, note: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5)
    result = run_cli("validate", str(path), "--max-errors", limit, expect=1)
    assert note in result.stdout
    assert result.stdout.count("/data/sensor_id: must be at least 0") == int(limit)
    assert "5 invalid" in result.stdout


@pytest.mark.parametrize("limit", ["5", "6"])
def test_no_note_when_nothing_was_cut(tmp_path: Path, limit: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5)
    result = run_cli("validate", str(path), "--max-errors", limit, expect=1)
    assert "not listed" not in result.stdout
    assert result.stdout.count("/data/sensor_id: must be at least 0") == 5


def test_quiet_report_has_no_note(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5)
    result = run_cli("validate", str(path), "--max-errors", "1", "-q", expect=1)
    assert "not listed" not in result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_junit_failure_says_how_many_more(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5, malformed=2)
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--max-errors", "2", "--junit", str(junit), "-q", expect=1)
    suite, _ = junit_counts(junit)
    reading = suite.find("testcase[@name='sensor_reading']/failure")
    assert reading is not None and (reading.text or "").endswith("... and 3 more not listed")
    malformed = suite.find("testcase[@name='(malformed)']/failure")
    assert malformed is not None and (malformed.text or "").endswith("... and 2 more not listed")


def test_junit_failure_without_a_cut_has_no_note(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=2)
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--max-errors", "2", "--junit", str(junit), "-q", expect=1)
    suite, _ = junit_counts(junit)
    reading = suite.find("testcase[@name='sensor_reading']/failure")
    assert reading is not None and "not listed" not in (reading.text or "")
    assert (reading.text or "").count("/data/sensor_id") == 2


@pytest.mark.parametrize(
    ("limit", "note"),
    [
        ("4", "... and 1 more failing message not listed (--max-errors 4)"),
        ("3", "... and 2 more failing messages not listed (--max-errors 3)"),
    ],
)
def test_json_report_counts_what_was_not_listed(tmp_path: Path, limit: str, note: str) -> None:
    """-o json: exact counts and the note, "message" for one and "messages" for more."""
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5)
    result = run_cli("validate", str(path), "--max-errors", limit, "-o", "json", expect=1)
    doc = json.loads(result.stdout)
    cut = int(limit)
    assert (doc["failures_listed"], doc["failures_not_listed"], doc["max_errors"]) == (
        cut,
        5 - cut,
        cut,
    )
    assert len(doc["problems"]) == cut
    assert doc["note"] == note


def test_json_report_without_a_cut_has_no_note(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=2, invalid=5)
    doc = json.loads(run_cli("validate", str(path), "-o", "json", expect=1).stdout)
    assert (doc["failures_listed"], doc["failures_not_listed"], doc["note"]) == (5, 0, None)


@pytest.mark.parametrize(
    ("count", "limit", "note"),
    [
        (1, None, "... and 1 more failing message not listed"),
        (2, None, "... and 2 more failing messages not listed"),
        (1, 7, "... and 1 more failing message not listed (--max-errors 7)"),
        (2, 0, "... and 2 more failing messages not listed (--max-errors 0)"),
    ],
)
def test_not_listed_note_names_the_limit_only_when_one_applies(
    count: int, limit: int | None, note: str
) -> None:
    """Without a limit the note says nothing about --max-errors (nor any stray text)."""
    from wscli.validate.reports import not_listed_note

    assert not_listed_note(count, limit) == note


def test_junit_failure_with_one_hidden(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=1, invalid=3)
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--max-errors", "2", "--junit", str(junit), "-q", expect=1)
    suite, _ = junit_counts(junit)
    reading = suite.find("testcase[@name='sensor_reading']/failure")
    assert reading is not None and (reading.text or "").endswith("... and 1 more not listed")


# -- the JUnit writer probe and load share -----------------------------------------------------


def test_junit_suite_writes_each_outcome_and_the_counts_ci_viewers_read() -> None:
    """Every attribute pinned: CI systems read these names and numbers, not the prose."""
    import re

    from wscli.validate.reports import junit_suite

    cases = [
        {"name": "resolve", "time": 0.0123, "outcome": "passed", "out": "127.0.0.1"},
        {"name": "tcp", "outcome": "failure", "message": "refused", "type": "exit 3"},
        {"name": "upgrade", "time": None, "outcome": "error", "message": "m", "body": "b\x01"},
        {"name": "ping\x02", "outcome": "skipped", "message": "not run"},
        {"name": "close", "outcome": "failure"},
    ]
    xml = junit_suite(
        "wscli probe", "wscli.probe", cases, elapsed=1.23456, properties={"url": "ws://x/\x03"}
    )
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<testsuites")
    assert b"\n  <testsuite " in xml  # indented for people reading the artifact
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "wscli probe",
        "tests": "5",
        "failures": "2",
        "errors": "1",
        "time": "1.235",
    }
    (suite,) = root
    timestamp = suite.attrib.pop("timestamp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", timestamp)
    assert suite.tag == "testsuite"
    assert suite.attrib == {
        "name": "wscli probe",
        "tests": "5",
        "failures": "2",
        "errors": "1",
        "skipped": "1",
        "time": "1.235",
    }
    properties, *testcases = list(suite)
    assert properties.tag == "properties"
    assert [p.attrib for p in properties] == [{"name": "url", "value": "ws://x/\\u0003"}]
    assert [case.tag for case in testcases] == ["testcase"] * 5
    assert [case.attrib for case in testcases] == [
        {"classname": "wscli.probe", "name": "resolve", "time": "0.012"},
        {"classname": "wscli.probe", "name": "tcp", "time": "0.000"},
        {"classname": "wscli.probe", "name": "upgrade", "time": "0.000"},
        {"classname": "wscli.probe", "name": "ping\\u0002", "time": "0.000"},
        {"classname": "wscli.probe", "name": "close", "time": "0.000"},
    ]
    passed, failed, errored, skipped, bare = testcases
    (out,) = passed
    assert (out.tag, out.text, out.attrib) == ("system-out", "127.0.0.1", {})
    (failure,) = failed
    assert (failure.tag, failure.attrib, failure.text) == (
        "failure",
        {"message": "refused", "type": "exit 3"},
        "refused",
    )
    (error,) = errored
    assert (error.tag, error.attrib, error.text) == (
        "error",
        {"message": "m", "type": "error"},
        "b\\u0001",
    )
    (skip,) = skipped
    assert (skip.tag, skip.attrib, skip.text) == ("skipped", {"message": "not run"}, None)
    (plain,) = bare
    assert (plain.tag, plain.attrib, plain.text) == (
        "failure",
        {"message": "", "type": "failure"},
        None,
    )


def test_junit_suite_without_properties_or_output_has_neither() -> None:
    from wscli.validate.reports import junit_suite

    root = ET.fromstring(junit_suite("s", "c", [{"name": "n", "outcome": "passed"}], elapsed=0))
    (suite,) = root
    assert [child.tag for child in suite] == ["testcase"]
    (case,) = suite
    assert list(case) == []
    assert root.attrib["time"] == "0.000" and suite.attrib["skipped"] == "0"


# -- the text report's ending ------------------------------------------------------------------


def test_text_report_of_a_run_cut_by_a_connection_error_is_never_ok(
    tmp_path: Path, free_port: int
) -> None:
    """3 valid readings, then a refused URL: the verdict is STOPPED, red, and says why."""
    path = write_lines(tmp_path / "ok.jsonl", valid=3, invalid=0)
    url = f"ws://127.0.0.1:{free_port}/"
    result = run_cli("--color", "always", "validate", str(path), url, *FAST, expect=3)
    last = result.stdout.splitlines()[-1]
    assert last.startswith(
        "\x1b[1;31mSTOPPED\x1b[0m: 3 messages from 2 sources: 3 valid, 0 invalid, 0 malformed in "
    )
    assert last.endswith(" s (connection error)")


def test_color_always_dims_the_not_listed_note(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", valid=0, invalid=3)
    result = run_cli("--color", "always", "validate", str(path), "--max-errors", "1", expect=1)
    note = "... and 2 more failing messages not listed (--max-errors 1)"
    assert f"\x1b[2m{note}\x1b[0m" in result.stdout.splitlines()


def test_text_report_by_default_shows_the_table_and_a_finished_verdict() -> None:
    """TextReport(output).finish(...) with no quiet= and no stopped=: table, then OK."""
    import io

    from wscli.output.terminal import Output
    from wscli.validate.reports import TextReport
    from wscli.validate.tally import Tally

    buffer = io.BytesIO()
    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    tally.valid_by_type["sensor_reading"] = 2
    TextReport(Output(stdout=buffer, is_tty=False, color="never")).finish(
        tally, limit=None, elapsed=None
    )
    lines = buffer.getvalue().decode().splitlines()
    assert lines[0].split() == ["type", "valid", "invalid", "malformed"]
    assert lines[2].split() == ["sensor_reading", "2", "-", "-"]
    assert lines[-1] == "OK: 2 messages, all valid"


# -- the summary line and the table, called directly ---------------------------------------------


def _tally(valid: int = 0, invalid: int = 0) -> Tally:
    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    if valid:
        tally.valid_by_type["sensor_reading"] = valid
    if invalid:
        tally.invalid_by_type["sensor_reading"] = invalid
    return tally


@pytest.mark.parametrize(
    ("stopped", "line"),
    [
        ("interrupted", "INTERRUPTED: 2 messages: 2 valid, 0 invalid, 0 malformed (interrupted)"),
        ("terminated", "TERMINATED: 2 messages: 2 valid, 0 invalid, 0 malformed (terminated)"),
        ("idle timeout", "STOPPED: 2 messages: 2 valid, 0 invalid, 0 malformed (idle timeout)"),
    ],
)
def test_summary_line_names_how_the_run_was_stopped(stopped: str, line: str) -> None:
    from wscli.validate.reports import summary_line

    assert summary_line(_tally(valid=2), stopped=stopped) == line


def test_summary_line_without_a_stop_is_the_plain_verdict() -> None:
    from wscli.validate.reports import summary_line

    assert summary_line(_tally(valid=2)) == "OK: 2 messages, all valid"
    assert summary_line(_tally(valid=1, invalid=1), 0.5) == (
        "FAILED: 2 messages: 1 valid, 1 invalid, 0 malformed in 0.50 s"
    )


def test_summary_table_has_no_note_column_when_every_type_is_known() -> None:
    from wscli.validate.reports import summary_table
    from wscli.validate.tally import Row

    rows = [Row("sensor_reading", 3, 1, 0, False), Row("(malformed)", 0, 0, 2, False)]
    rule = "─" * 44
    assert summary_table(rows, color=False) == (
        "type             valid   invalid   malformed\n"
        f"{rule}\n"
        "sensor_reading       3         1           -\n"
        "(malformed)          -         -           2\n"
        f"{rule}\n"
        "total                3         1           2\n"
    )


def test_summary_table_is_100_columns_wide_whatever_the_terminal(monkeypatch: Any) -> None:
    """A 50-character type fits in full; a 150-character one is cut at 100 columns."""
    from wscli.validate.reports import summary_table
    from wscli.validate.tally import Row

    monkeypatch.setenv("COLUMNS", "60")
    fits = summary_table([Row("t" * 50, 1, 0, 0, False)], color=False).splitlines()
    assert fits[2] == "t" * 50 + "       1         -           -"
    cut = summary_table([Row("u" * 150, 1, 0, 0, True)], color=False).splitlines()
    assert cut[1] == "─" * 100
    assert max(len(line) for line in cut) == 100
    assert cut[2].startswith("u" * 40) and "…" in cut[2] and cut[2].endswith("unknown type")


def test_color_always_paints_the_table_even_on_a_dumb_terminal(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """`--color always` means colour: TERM=dumb does not drop it from the table."""
    monkeypatch.setenv("TERM", "dumb")
    path = write_lines(tmp_path / "bad.jsonl", valid=1, invalid=2)
    out = run_cli("--color", "always", "validate", str(path), "-q", "--max-errors", "0", expect=1)
    assert out.stdout.startswith("\x1b[1;31mFAILED\x1b[0m")
    table = run_cli("--color", "always", "validate", str(path), "--max-errors", "0", expect=1)
    assert "\x1b[31m      2\x1b[0m" in table.stdout  # the invalid count, red


def test_cut_listing_of_malformed_lines_counts_them_too(tmp_path: Path) -> None:
    """Malformed input past --max-errors is counted in the note, one by one."""
    path = write_lines(tmp_path / "bad.jsonl", valid=1, invalid=0, malformed=4)
    result = run_cli("validate", str(path), "--max-errors", "1", expect=1)
    assert "... and 3 more failing messages not listed (--max-errors 1)" in result.stdout
    assert result.stdout.count(": malformed: not JSON") == 1


@pytest.mark.parametrize("args", [("-q",), ("--max-errors", "0"), ("--max-errors", "1")])
def test_unlisted_failures_still_count_unknown_types_exactly(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Failures that are not listed are classified too: 3 of unknown type, not 0 or 6."""
    sim = Simulator(21)
    lines = [json.dumps(sim.invalid("unknown_type")) for _ in range(3)]
    lines += ['{"data": {}}', "[1]", json.dumps(sim.invalid("sensor_id_negative"))]
    lines.append(json.dumps(sim.invalid("unknown_type")))
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    result = run_cli("validate", str(path), *args, expect=1)
    last = result.stdout.splitlines()[-1]
    assert last.startswith(
        "FAILED: 7 messages: 0 valid, 7 invalid (4 of unknown type), 0 malformed"
    )
