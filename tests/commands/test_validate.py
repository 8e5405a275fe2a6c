"""`wscli validate` end to end: every source kind, reports, schemas, exit codes, live streams."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_cli, run_wscli, unit, wscli_executable
from wscli.checks.schema import Problem
from wscli.frames import OP_BINARY, OP_TEXT
from wscli.recording import RecordingWriter
from wscli.server.simulator import Simulator
from wscli.validate.sources import FileSource
from wscli.validate.tally import Tally

FAST = ("--connect-timeout", "5")


def dumps(message: Any) -> str:
    return json.dumps(message, ensure_ascii=False)


def mixed_lines(seed: int = 7) -> list[str]:
    """12 lines: 8 valid, 2 invalid (one of unknown type), 1 blank, 1 not JSON."""
    sim = Simulator(seed)
    lines = [dumps(sim.next_message()) for _ in range(4)]
    lines.append(dumps(sim.invalid("value_as_string")))  # line 5: /data/value
    lines.append("")  # line 6: blank, skipped
    lines.append("{not json")  # line 7: malformed
    lines += [dumps(sim.next_message()) for _ in range(4)]
    lines.append(dumps(sim.invalid("unknown_type")))  # line 12: /type
    return lines


def write_mixed(path: Path) -> Path:
    path.write_text("\n".join(mixed_lines()) + "\n", encoding="utf-8")
    return path


def write_recording(path: Path, seed: int = 3) -> Path:
    """5 valid, 1 sent frame, 1 binary, 1 invalid (bad timestamp), events around."""
    sim = Simulator(seed)
    writer = RecordingWriter(path, "ws://example/stream")
    writer.event("connect", url="ws://example/stream")  # line 2
    for _ in range(5):  # lines 3-7
        writer.frame("in", OP_TEXT, dumps(sim.next_message()).encode())
    writer.frame("out", OP_TEXT, b"subscribe")  # line 8
    writer.frame("in", OP_BINARY, b"\x00\x01\x02\x03")  # line 9
    writer.frame("in", OP_TEXT, dumps(sim.invalid("bad_timestamp")).encode())  # line 10
    writer.event("disconnect", reason="done")
    writer.close()
    return path


def document(result: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


# -- sources ------------------------------------------------------------------------------


def test_json_lines_file_gives_exact_counts_and_places(tmp_path: Path) -> None:
    """Valid, invalid, unknown-type and malformed lines are counted exactly, at file:line."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    result = run_cli("validate", str(path), expect=1)
    out = result.stdout
    assert f'{path}:5: sensor_reading: /data/value: expected number, got string "' in out
    assert f"{path}:7: malformed: not JSON" in out
    assert f'{path}:12: sensor_telemetry: /type: unknown message type "sensor_telemetry"' in out
    assert "FAILED: 11 messages: 8 valid, 2 invalid (1 of unknown type), 1 malformed" in out


def test_recording_counts_only_received_text_frames(tmp_path: Path) -> None:
    """Sent frames and events are skipped; a received binary frame is malformed."""
    path = write_recording(tmp_path / "session.jsonl")
    result = run_cli("validate", str(path), "-o", "json", expect=1)
    doc = document(result)
    assert doc["summary"] | {"by_type": None} == {
        "messages": 7,
        "valid": 5,
        "invalid": 1,
        "unknown_type": 0,
        "malformed": 1,
        "by_type": None,
    }
    assert doc["sources"] == [
        {
            "source": str(path),
            "kind": "recording",
            "messages": 7,
            "valid": 5,
            "invalid": 1,
            "malformed": 1,
        }
    ]
    places = {(p["place"], p["kind"], p["path"]) for p in doc["problems"]}
    assert places == {
        (f"{path}:9", "malformed", None),
        (f"{path}:10", "invalid", "/data/timestamp"),
    }


def test_json_array_file_places_are_indexes(tmp_path: Path) -> None:
    """A JSON array file is streamed element by element; places are file[index]."""
    sim = Simulator(5)
    messages = [sim.next_message(), sim.invalid("confidence_out_of_range"), sim.next_message()]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(messages, indent=2))
    result = run_cli("validate", str(path), expect=1)
    assert f"{path}[1]: sensor_reading: /data/confidence: must be at most 1" in result.stdout
    doc = document(run_cli("validate", str(path), "-o", "json", expect=1))
    assert doc["problems"][0]["index"] == 1
    assert doc["sources"][0]["kind"] == "json-array"


def test_pretty_printed_json_file(tmp_path: Path) -> None:
    """An indented message (or several) is recognised and placed at its first line."""
    sim = Simulator(2)
    path = tmp_path / "message.json"
    path.write_text(json.dumps(sim.next_message(), indent=2) + "\n")
    (line,) = run_cli("validate", str(path), "-q").stdout.splitlines()
    assert line.startswith("OK: 1 message, all valid")
    doc = document(run_cli("validate", str(path), "-o", "json"))
    assert doc["sources"][0]["kind"] == "json"


def test_stdin_with_dash(tmp_path: Path) -> None:
    """`-` reads stdin; places are <stdin>:line."""
    text = "\n".join(mixed_lines()) + "\n"
    result = run_cli("validate", "-", input=text, expect=1)
    assert "<stdin>:5: sensor_reading: /data/value" in result.stdout
    assert "<stdin>:7: malformed" in result.stdout


@pytest.mark.slow
def test_stdin_is_the_default_when_piped() -> None:
    """With no SOURCE, piped stdin is read (like jq)."""
    sim = Simulator(1)
    text = "".join(dumps(sim.next_message()) + "\n" for _ in range(20))
    result = run_wscli("validate", input=text)
    assert result.stdout.strip().splitlines()[-1].startswith("OK: 20 messages, all valid")


def test_several_files_and_stdin_at_once(tmp_path: Path) -> None:
    """Counts add up across sources; each source is listed in the JSON document."""
    mixed = write_mixed(tmp_path / "mixed.jsonl")
    recording = write_recording(tmp_path / "rec.jsonl")
    sim = Simulator(9)
    text = "".join(dumps(sim.next_message()) + "\n" for _ in range(3))
    result = run_cli(
        "validate", str(mixed), str(recording), "-", "-o", "json", input=text, expect=1
    )
    doc = document(result)
    assert [s["messages"] for s in doc["sources"]] == [11, 7, 3]
    assert [s["kind"] for s in doc["sources"]] == ["jsonl", "recording", "jsonl"]
    summary = doc["summary"]
    assert (summary["messages"], summary["valid"], summary["invalid"], summary["malformed"]) == (
        21,
        16,
        3,
        2,
    )


def test_all_valid_exits_0(tmp_path: Path) -> None:
    """A file of valid messages passes with a one-line verdict and a table."""
    sim = Simulator(11)
    path = tmp_path / "ok.jsonl"
    path.write_text("".join(dumps(sim.next_message()) + "\n" for _ in range(50)))
    result = run_cli("validate", str(path))
    assert "sensor_reading" in result.stdout  # the table
    assert result.stdout.rstrip().splitlines()[-1].startswith("OK: 50 messages, all valid")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "malformed: empty file"),
        ('{"wscli": "recording", "version": 1, "url": "ws://x", "started": "t"}\n', None),
        ("[]\n", None),
    ],
)
def test_empty_input_fails(tmp_path: Path, content: str, expected: str | None) -> None:
    """An empty file, a recording without messages, or [] is exit 1 and says so."""
    path = tmp_path / "input"
    path.write_text(content)
    result = run_cli("validate", str(path), expect=1)
    if expected:
        assert f"{path}: {expected}" in result.stdout
    else:
        assert "FAILED: expected messages, got none" in result.stdout


def test_invalid_utf8_and_truncated_last_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 and a cut-off last line are malformed at their lines."""
    sim = Simulator(4)
    path = tmp_path / "bad.jsonl"
    good = dumps(sim.next_message()).encode()
    path.write_bytes(good + b"\n" + b'{"type": "\xff"}\n' + good + b"\n" + good[:40])
    result = run_cli("validate", str(path), expect=1)
    assert f"{path}:2: malformed: invalid UTF-8" in result.stdout
    assert f"{path}:4: malformed: truncated last line" in result.stdout
    assert "2 valid, 0 invalid, 2 malformed" in result.stdout


def test_terminal_hostile_text_is_escaped(tmp_path: Path) -> None:
    """Control characters from a message never reach the terminal raw."""
    path = tmp_path / "evil.jsonl"
    path.write_text(dumps({"type": "\x1b[2J\u202eevil", "data": {}}) + "\n")
    result = run_cli("validate", str(path), expect=1)
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J\\u202eevil" in result.stdout


# -- report formats -----------------------------------------------------------------------


def test_quiet_prints_only_the_summary_line(tmp_path: Path) -> None:
    """-q: one line, the verdict with the counts."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    result = run_cli("validate", str(path), "-q", expect=1)
    (line,) = result.stdout.splitlines()
    assert line.startswith("FAILED: 11 messages: 8 valid, 2 invalid")


def test_max_errors_cuts_the_listing_but_not_the_counts(tmp_path: Path) -> None:
    """--max-errors 2 lists two failing messages; the summary still counts all of them."""
    sim = Simulator(6)
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(dumps(sim.invalid("sensor_id_negative")) + "\n" for _ in range(30)))
    result = run_cli("validate", str(path), "--max-errors", "2", expect=1)
    assert result.stdout.count("/data/sensor_id: must be at least 0") == 2
    assert "... and 28 more failing messages not listed (--max-errors 2)" in result.stdout
    assert "30 invalid" in result.stdout
    doc = document(run_cli("validate", str(path), "--max-errors", "2", "-o", "json", expect=1))
    assert len(doc["problems"]) == 2
    assert doc["summary"]["invalid"] == 30
    assert (doc["failures_listed"], doc["failures_not_listed"]) == (2, 28)


def test_json_document_parses_and_holds_every_problem(tmp_path: Path) -> None:
    """-o json: one document with the summary, the sources and every problem's place."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    result = run_cli("validate", str(path), "-o", "json", expect=1)
    doc = document(result)
    assert doc["ok"] is False
    assert doc["summary"]["by_type"]["sensor_telemetry"] == {
        "valid": 0,
        "invalid": 1,
        "malformed": 0,
        "unknown_type": True,
    }
    by_line = {p["line"]: p for p in doc["problems"]}
    assert by_line[5]["type"] == "sensor_reading" and by_line[5]["path"] == "/data/value"
    assert by_line[7]["kind"] == "malformed" and by_line[7]["path"] is None
    assert by_line[12]["kind"] == "unknown_type"
    assert doc["schema"] == "built-in sensor_stream.schema.json"


def test_junit_report_parses_with_the_right_counts(tmp_path: Path) -> None:
    """--junit: one test case per message type, failures list the problems with places."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    sim = Simulator(8)
    extra = tmp_path / "more.jsonl"
    extra.write_text(dumps(sim.status(sim.sensors[0])) + "\n")
    junit = tmp_path / "report.xml"
    run_cli("validate", str(path), str(extra), "--junit", str(junit), "-q", expect=1)
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert {"sensor_reading", "sensor_status", "sensor_telemetry", "(malformed)"} <= set(cases)
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "3"
    assert root.get("tests") == str(len(cases)) and root.get("failures") == "3"
    assert cases["sensor_status"].find("failure") is None
    reading = cases["sensor_reading"].find("failure")
    assert reading is not None and reading.get("type") == "invalid"
    readings = sum('"type": "sensor_reading"' in line for line in mixed_lines())
    assert reading.get("message") == f"1 of {readings} sensor_reading messages invalid"
    assert f"{path}:5: sensor_reading: /data/value" in (reading.text or "")
    unknown = cases["sensor_telemetry"].find("failure")
    assert unknown is not None and unknown.get("type") == "unknown_type"
    malformed = cases["(malformed)"].find("failure")
    assert malformed is not None and f"{path}:7: malformed" in (malformed.text or "")


def test_junit_with_control_characters_is_still_xml(tmp_path: Path) -> None:
    """Characters XML 1.0 cannot hold are shown escaped, so CI viewers can load the file."""
    path = tmp_path / "evil.jsonl"
    path.write_text(dumps({"type": "bad\x00\x07type", "data": {}}) + "\n")
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--junit", str(junit), "-q", expect=1)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_junit_for_an_empty_run_fails_visibly(tmp_path: Path) -> None:
    """No messages: the JUnit file has a failing "messages" case, never an empty suite."""
    path = tmp_path / "empty.json"
    path.write_text("[]")
    junit = tmp_path / "r.xml"
    run_cli("validate", str(path), "--junit", str(junit), expect=1)
    case = ET.parse(junit).getroot().find("testsuite/testcase[@name='messages']")
    assert case is not None and case.find("failure") is not None


# -- schemas ------------------------------------------------------------------------------


def test_strict_rejects_undeclared_properties(tmp_path: Path) -> None:
    """--strict: a property the schema does not name is a problem at its own path."""
    sim = Simulator(12)
    message = sim.reading(sim.sensors[0])
    message["data"]["firmware"] = "1.2.3"
    path = tmp_path / "m.jsonl"
    path.write_text(dumps(message) + "\n")
    run_cli("validate", str(path), "-q")
    result = run_cli("validate", str(path), "--strict", expect=1)
    assert '/data/firmware: unexpected field "firmware"' in result.stdout


DRAFT7 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["type", "value"],
    "properties": {"type": {"type": "string"}, "value": {"$ref": "#/definitions/level"}},
    "definitions": {"level": {"type": "integer", "minimum": 0, "maximum": 10}},
}


def test_draft_07_schema(tmp_path: Path) -> None:
    """--schema takes a draft-07 schema (definitions, $ref) and reports paths in plain words."""
    schema = tmp_path / "level.schema.json"
    schema.write_text(json.dumps(DRAFT7))
    path = tmp_path / "m.jsonl"
    lines = [{"type": "level", "value": 3}, {"type": "level", "value": 11}, {"type": "level"}]
    path.write_text("".join(dumps(m) + "\n" for m in lines))
    result = run_cli("validate", str(path), "--schema", str(schema), expect=1)
    assert f"{path}:2: level: /value: must be at most 10, got 11" in result.stdout
    assert f'{path}:3: level: /: missing required field "value"' in result.stdout
    assert "1 valid, 2 invalid" in result.stdout
    strict = run_cli(
        "validate",
        "-",
        "--schema",
        str(schema),
        "--strict",
        input=dumps({"type": "level", "value": 1, "x": 0}) + "\n",
        expect=1,
    )
    assert '/x: unexpected field "x"' in strict.stdout


def test_relative_ref_resolves_beside_the_schema(tmp_path: Path, monkeypatch: Any) -> None:
    """A $ref to a sibling file resolves from the schema's folder, whatever the cwd."""
    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "reading.json").write_text(
        json.dumps(
            {"type": "object", "required": ["value"], "properties": {"value": {"type": "number"}}}
        )
    )
    (folder / "main.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"type": {"const": "reading"}, "data": {"$ref": "reading.json"}},
                "required": ["type", "data"],
            }
        )
    )
    data = tmp_path / "m.jsonl"
    data.write_text(
        dumps({"type": "reading", "data": {"value": 1.5}})
        + "\n"
        + dumps({"type": "reading", "data": {"value": "1.5"}})
        + "\n"
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_cli("validate", str(data), "--schema", str(folder / "main.json"), expect=1)
    assert f'{data}:2: reading: /data/value: expected number, got string "1.5"' in result.stdout


def test_ref_to_the_network_is_refused(tmp_path: Path) -> None:
    """A $ref to http(s) is refused with exit 2: validation never fetches schemas."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"$ref": "https://example.com/other.json"}))
    path = tmp_path / "m.jsonl"
    path.write_text("{}\n")
    result = run_cli("validate", str(path), "--schema", str(schema), expect=2)
    assert "never fetches" in result.stderr


def test_check_schema_reports_the_error_location(tmp_path: Path) -> None:
    """--check-schema on a broken schema: exit 2, each problem at its place in the schema."""
    schema = tmp_path / "broken.json"
    schema.write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"value": {"type": "number", "minimum": "5"}},
                "required": "value",
            }
        )
    )
    result = run_cli("validate", "--check-schema", str(schema), expect=2)
    assert f'{schema}#/properties/value/minimum: expected number, got string "5"' in result.stdout
    assert f"{schema}#/required: expected array" in result.stdout
    assert "FAILED" in result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("wscli: error: invalid schema") and "#/" in line
    doc = document(run_cli("validate", "--check-schema", str(schema), "-o", "json", expect=2))
    assert doc["valid"] is False
    assert {p["path"] for p in doc["problems"]} == {"/properties/value/minimum", "/required"}


def test_check_schema_speaks_of_schema_keywords(tmp_path: Path) -> None:
    """A schema's own "type" keyword is not called a message type in the explanation."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "nope"}))
    result = run_cli("validate", "--check-schema", str(schema), expect=2)
    assert f"{schema}#/type: " in result.stdout
    assert "unknown message type" not in result.stdout


def test_check_schema_passes_good_schemas(tmp_path: Path) -> None:
    """The built-in schema and a draft-07 schema check fine (exit 0) and say which draft."""
    from wscli.checks.schema import builtin_schema_path

    result = run_cli("validate", "--check-schema", str(builtin_schema_path()))
    assert "is a valid JSON Schema (draft 2020-12)" in result.stdout
    schema = tmp_path / "d7.json"
    schema.write_text(json.dumps(DRAFT7))
    assert "(draft-07)" in run_cli("validate", "--check-schema", str(schema)).stdout


def test_check_schema_on_broken_json_names_line_and_column(tmp_path: Path) -> None:
    """A schema that is not JSON: exit 2 with the line and column of the syntax error."""
    schema = tmp_path / "s.json"
    schema.write_text('{\n  "type": "object",\n  "properties": {,}\n}\n')
    result = run_cli("validate", "--check-schema", str(schema), expect=2)
    assert "line 3 column" in result.stderr


def test_bad_schema_for_validation_exits_2(tmp_path: Path) -> None:
    """--schema with an invalid schema stops before reading anything (exit 2, one line)."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "nope"}))
    result = run_cli("validate", "-", "--schema", str(schema), input="{}\n", expect=2)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


# -- usage errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.jsonl"], "cannot read missing.jsonl"),
        (["."], "is a directory"),
        (["http://example.com/"], "only ws:// and wss:// URLs are streams"),
        (["-", "-"], "only once"),
        (["x.jsonl", "-n", "5"], "-n and --duration bound live streams only"),
        (["--schema", "nope.json", "x.jsonl"], "cannot read schema nope.json"),
        (["x.jsonl", "--junit", "no/such/dir/r.xml"], "cannot write --junit"),
        (["--check-schema", "s.json", "x.jsonl"], "--check-schema checks one schema"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: Any, args: list[str], needle: str
) -> None:
    """Bad usage and unreadable files: exit 2, one clear line on stderr, no traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text("{}\n")
    (tmp_path / "s.json").write_text("{}")
    result = run_cli("validate", *args, input="", expect=2)
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_help_imports_nothing_heavy() -> None:
    """`wscli validate --help` loads neither rich nor a validator nor a network library."""
    probe = (
        "import sys\n"
        "from wscli.cli import main\n"
        "try:\n    main(['validate', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('rich', 'jsonschema', 'jsonschema_rs', 'websockets', 'websocket')\n"
        "print(','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=unit(60)
    )
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_help_has_examples_and_exit_codes() -> None:
    """--help shows examples and SPEC's exit codes."""
    result = run_cli("validate", "--help")
    assert "Examples:" in result.stdout and "wscli validate --check-schema" in result.stdout
    assert "Exit codes:" in result.stdout and "130" in result.stdout


# -- live streams -------------------------------------------------------------------------


def test_live_url_counts_what_the_server_sent(serve: Any) -> None:
    """Against --invalid-rate 0.2 --count 200, validate reports as many invalid as were sent."""
    server = serve(invalid_rate=0.2, count=200, rate=0, seed=42)
    result = run_cli("validate", server.url, *FAST, "-o", "json", expect=1)
    (stats,) = server.wait_for_connections(1, unit(10))
    assert stats.done
    doc = document(result)
    assert stats.invalid > 0
    assert doc["summary"]["invalid"] == stats.invalid
    assert doc["summary"]["messages"] == 200 == stats.sent
    assert doc["summary"]["valid"] == sum(stats.by_type.values())
    assert doc["sources"][0]["kind"] == "live"
    assert all(p["place"] == f"{server.url}#{p['message']}" for p in doc["problems"])


def test_live_malformed_and_binary_frames_are_malformed(serve: Any) -> None:
    """Malformed text frames and binary frames from a server count as malformed."""
    server = serve(malformed_rate=0.1, binary_rate=0.1, invalid_rate=0.1, count=150, rate=0)
    result = run_cli("validate", server.url, *FAST, "-q", expect=1)
    (stats,) = server.wait_for_connections(1, unit(10))
    valid = sum(stats.by_type.values())
    assert result.stdout.startswith(f"FAILED: 150 messages: {valid} valid, {stats.invalid} invalid")
    assert f"{stats.malformed + stats.binary} malformed" in result.stdout


def test_live_count_stops_after_n_valid_messages(serve: Any) -> None:
    """-n 25 from a clean stream: 25 messages, all valid, exit 0."""
    server = serve(rate=0)
    result = run_cli("validate", server.url, *FAST, "-n", "25", "-q")
    assert result.stdout.startswith("OK: 25 messages, all valid")


def test_live_server_closing_before_count_exits_1(serve: Any) -> None:
    """The server's normal close before -n messages is a failed expectation (exit 1)."""
    server = serve(count=5, rate=0)
    result = run_cli("validate", server.url, *FAST, "-n", "50", expect=1)
    assert "after 5 of 50 messages" in result.stderr
    assert result.stdout.splitlines()[-1].startswith(
        "STOPPED: 5 messages: 5 valid, 0 invalid, 0 malformed in "
    )
    assert "(fewer messages than -n)" in result.stdout


def test_live_duration_before_count_exits_7(serve: Any) -> None:
    """--duration passing before -n messages arrived is a timeout (exit 7)."""
    server = serve(rate=10)
    result = run_cli("validate", server.url, *FAST, "-n", "1000", "--duration", "0.5", expect=7)
    assert "of 1000 messages within 0.5 s" in result.stderr


def test_live_duration_alone_validates_what_arrived(serve: Any) -> None:
    """--duration without -n: whatever arrived in that time is the verdict."""
    server = serve(rate=50)
    result = run_cli("validate", server.url, *FAST, "--duration", "0.4", "-q")
    assert result.stdout.startswith("OK: ") and "all valid" in result.stdout


def test_live_connection_refused_exits_3(free_port: int, tmp_path: Path) -> None:
    """A closed port is exit 3 with one line; the JUnit file still records the error."""
    junit = tmp_path / "r.xml"
    result = run_cli(
        "validate", f"ws://127.0.0.1:{free_port}/", *FAST, "--junit", str(junit), expect=3
    )
    assert "connection refused" in result.stderr
    assert result.stdout == ""
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"


@pytest.mark.slow
def test_live_ctrl_c_prints_the_summary_and_exits_130(serve: Any) -> None:
    """SIGINT during a live run: the summary so far, then exit 130."""
    server = serve(rate=20)
    proc = subprocess.Popen(
        [wscli_executable(), "validate", server.url, *FAST, "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    try:
        deadline = time.monotonic() + unit(10)
        while not server.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=unit(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert out.startswith(b"INTERRUPTED: ") and b"0 invalid" in out


def test_live_token_is_not_shown_in_places(serve: Any) -> None:
    """Credentials in the URL's query are redacted in every place a report prints."""
    server = serve(invalid_rate=1.0, count=3, rate=0)
    result = run_cli("validate", f"{server.url}?token=s3cret", *FAST, expect=1)
    assert "s3cret" not in result.stdout
    assert "#1:" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="uses a shell pipeline")
def test_tail_piped_into_validate(serve: Any) -> None:
    """`wscli tail -o jsonl -n 30 URL | wscli validate` passes on a clean stream."""
    server = serve(rate=0)
    wscli = wscli_executable()
    proc = subprocess.run(
        f"'{wscli}' tail '{server.url}' -o jsonl -n 30 | '{wscli}' validate -q",
        shell=True,
        capture_output=True,
        text=True,
        timeout=unit(30),
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: 30 messages, all valid")


# -- the counting core (validation.Tally), where only a unit test reaches -----------------------


class Disagreeing:
    """A checker whose fast check rejects what its explainer finds nothing wrong with."""

    def is_valid(self, message: object) -> bool:
        return False

    def problems(self, message: object) -> list[Problem]:
        return []


def test_a_rejection_nothing_explains_is_listed_as_a_wscli_bug() -> None:
    """The two schema engines disagreeing must show up, not list a failure with no reason."""
    tally = Tally(Disagreeing())
    data = b'{"type": "sensor_reading"}\n[1]\n'
    tally.check(FileSource("m", stream=io.BytesIO(data), name="m"))
    assert tally.invalid == 2
    assert [failure.problems for failure in tally.failures] == [
        (
            Problem(
                "",
                "rejected by the fast check, but jsonschema names no problem (a wscli bug)",
                "sensor_reading",
            ),
        ),
        (
            Problem(
                "",
                "rejected by the fast check, but jsonschema names no problem (a wscli bug)",
                None,
            ),
        ),
    ]


# -- exact report records -------------------------------------------------------------------


def test_json_failure_records_hold_exactly_these_keys_and_values(tmp_path: Path) -> None:
    """-o json: each problem is {place, source, line, kind, type, path, reason}, nothing else."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    doc = document(run_cli("validate", str(path), "-o", "json", expect=1))
    common = {"source": str(path)}
    assert doc["problems"] == [
        {
            "place": f"{path}:5",
            **common,
            "line": 5,
            "kind": "invalid",
            "type": "sensor_reading",
            "path": "/data/value",
            "reason": 'expected number, got string "31.0"',
        },
        {
            "place": f"{path}:7",
            **common,
            "line": 7,
            "kind": "malformed",
            "type": None,
            "path": None,
            "reason": "not JSON: Expecting property name enclosed in double quotes (column 2)",
        },
        {
            "place": f"{path}:12",
            **common,
            "line": 12,
            "kind": "unknown_type",
            "type": "sensor_telemetry",
            "path": "/type",
            "reason": 'unknown message type "sensor_telemetry"'
            " (expected one of: error, sensor_reading, sensor_status)",
        },
    ]


def test_check_schema_json_document_is_exactly_schema_draft_valid_problems(
    tmp_path: Path,
) -> None:
    """--check-schema -o json: the four keys machines read, for a broken and a good schema."""
    schema = tmp_path / "broken.json"
    schema.write_text(json.dumps({"type": "object", "required": "value"}))
    result = run_cli("validate", "--check-schema", str(schema), "-o", "json", expect=2)
    assert document(result) == {
        "schema": str(schema),
        "draft": "draft 2020-12, the default without $schema",
        "valid": False,
        "problems": [{"path": "/required", "reason": 'expected array, got string "value"'}],
    }
    good = tmp_path / "d7.json"
    good.write_text(json.dumps(DRAFT7))
    assert document(run_cli("validate", "--check-schema", str(good), "-o", "json")) == {
        "schema": str(good),
        "draft": "draft-07",
        "valid": True,
        "problems": [],
    }


def test_color_always_styles_each_part_of_a_failure_line(tmp_path: Path) -> None:
    """`wscli --color always validate`: place bold, type cyan, path yellow, malformed magenta."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    result = run_cli("--color", "always", "validate", str(path), expect=1)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"\x1b[1m{path}:5\x1b[0m: \x1b[36msensor_reading\x1b[0m: \x1b[33m/data/value\x1b[0m:"
        ' expected number, got string "31.0"'
    )
    assert lines[1] == (
        f"\x1b[1m{path}:7\x1b[0m: \x1b[35mmalformed\x1b[0m:"
        " not JSON: Expecting property name enclosed in double quotes (column 2)"
    )
    assert lines[-1].startswith("\x1b[1;31mFAILED\x1b[0m: 11 messages:")


def test_a_file_name_that_is_not_utf8_does_not_break_the_text_report(tmp_path: Path) -> None:
    """A name with a byte that is not UTF-8 (a lone surrogate in Python) prints as "?"."""
    path = tmp_path / "g\udcff.jsonl"  # the file system name is b"g\xff.jsonl"
    path.write_text(dumps({"type": "sensor_status"}) + "\n")
    result = run_cli("validate", str(path), expect=1)
    shown = str(tmp_path / "g?.jsonl")
    assert result.stdout.startswith(f"{shown}:1: sensor_status: /: missing required field")
    assert result.stdout.splitlines()[-1].startswith("FAILED: 1 message: 0 valid, 1 invalid")


def _without_time(text: str) -> str:
    """The report with the summary line's " in 0.00 s" cut (the only varying part)."""
    head, sep, took = text.rpartition(" in ")
    assert sep and took.endswith(" s\n"), text[-200:]
    return head + "\n"


def test_text_report_is_listing_blank_line_table_then_verdict(tmp_path: Path) -> None:
    """The whole plain report, byte for byte: what people read and scripts grep."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    out = _without_time(run_cli("validate", str(path), expect=1).stdout)
    rule = "─" * 61
    assert out == (
        f'{path}:5: sensor_reading: /data/value: expected number, got string "31.0"\n'
        f"{path}:7: malformed: not JSON: Expecting property name enclosed in double quotes"
        " (column 2)\n"
        f'{path}:12: sensor_telemetry: /type: unknown message type "sensor_telemetry"'
        " (expected one of: error, sensor_reading, sensor_status)\n"
        "\n"
        "type               valid   invalid   malformed\n"
        f"{rule}\n"
        "sensor_reading         7         1           -\n"
        "error                  1         -           -\n"
        "sensor_telemetry       -         1           -   unknown type\n"
        "(malformed)            -         -           1\n"
        f"{rule}\n"
        "total                  8         2           1\n"
        "FAILED: 11 messages: 8 valid, 2 invalid (1 of unknown type), 1 malformed\n"
    )


def test_color_always_marks_bad_counts_red_and_empty_cells_dim(tmp_path: Path) -> None:
    """In colour, the table's non-zero invalid/malformed counts and "unknown type" are red."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    out = run_cli("--color", "always", "validate", str(path), expect=1).stdout
    red, dim, end = "\x1b[31m", "\x1b[2m", "\x1b[0m"
    blank = f"   {red}{' ' * 12}{end}"
    rows = [
        f"sensor_reading         7   {red}      1{end}   {dim}        -{end}{blank}",
        f"error                  1   {dim}      -{end}   {dim}        -{end}{blank}",
        f"sensor_telemetry   {dim}    -{end}   {red}      1{end}   {dim}        -{end}"
        f"   {red}unknown type{end}",
        f"(malformed)        {dim}    -{end}   {dim}      -{end}   {red}        1{end}{blank}",
    ]
    lines = out.splitlines()
    start = lines.index(rows[0])
    assert lines[start : start + 4] == rows


def test_color_always_shows_ok_in_bold_green(tmp_path: Path) -> None:
    sim = Simulator(11)
    path = tmp_path / "ok.jsonl"
    path.write_text("".join(dumps(sim.next_message()) + "\n" for _ in range(3)))
    out = run_cli("--color", "always", "validate", str(path), "-q").stdout
    assert out.startswith("\x1b[1;32mOK\x1b[0m: 3 messages, all valid in ")


def test_color_never_writes_no_escape_sequence(tmp_path: Path) -> None:
    path = write_mixed(tmp_path / "mixed.jsonl")
    out = run_cli("--color", "never", "validate", str(path), expect=1).stdout
    assert "\x1b" not in out and "unknown type" in out


# -- the JSON document, key by key ----------------------------------------------------------


def _counted_tally() -> Tally:
    """A tally as validate leaves it: 8 valid, 2 invalid (1 of unknown type), 1 malformed."""
    from wscli.validate.tally import Failure, SourceSummary

    tally = Tally(checker=None)  # type: ignore[arg-type]  # counts only: nothing is checked
    tally.valid_by_type.update({"sensor_reading": 7, "sensor_status": 1})
    tally.invalid_by_type.update({"sensor_reading": 1, "sensor_telemetry": 1})
    tally.unknown_types.add("sensor_telemetry")
    tally.unknown_type = 1
    tally.malformed = 1
    tally.sources.append(SourceSummary("a.jsonl", "jsonl", valid=8, invalid=2, malformed=1))
    problem = Problem("/data/value", "expected number", "sensor_reading")
    tally.failures.append(
        Failure("a.jsonl", "a.jsonl:5", 5, "line", "invalid", "sensor_reading", (problem,))
    )
    return tally


def test_json_document_of_a_stopped_run_key_by_key() -> None:
    """Every key of `-o json`, for a run cut short: never ok, the reason, the note, the error."""
    from wscli.validate.reports import json_document

    doc = json_document(
        _counted_tally(),
        schema="s.json",
        strict=True,
        elapsed=1.23456,
        limit=None,
        error="wscli: error: connection refused",
        stopped="connection error",
        reason="connection_error",
    )
    assert doc == {
        "ok": False,
        "reason": "connection_error",
        "result": "STOPPED: 11 messages: 8 valid, 2 invalid (1 of unknown type), 1 malformed"
        " (connection error)",
        "schema": "s.json",
        "strict": True,
        "summary": {
            "messages": 11,
            "valid": 8,
            "invalid": 2,
            "unknown_type": 1,
            "malformed": 1,
            "by_type": {
                "sensor_reading": {"valid": 7, "invalid": 1, "malformed": 0},
                "sensor_status": {"valid": 1, "invalid": 0, "malformed": 0},
                "sensor_telemetry": {
                    "valid": 0,
                    "invalid": 1,
                    "malformed": 0,
                    "unknown_type": True,
                },
                "(malformed)": {"valid": 0, "invalid": 0, "malformed": 1},
            },
        },
        "sources": [
            {
                "source": "a.jsonl",
                "kind": "jsonl",
                "messages": 11,
                "valid": 8,
                "invalid": 2,
                "malformed": 1,
            }
        ],
        "problems": [
            {
                "place": "a.jsonl:5",
                "source": "a.jsonl",
                "line": 5,
                "kind": "invalid",
                "type": "sensor_reading",
                "path": "/data/value",
                "reason": "expected number",
            }
        ],
        "failures_listed": 1,
        "failures_not_listed": 2,
        "note": "... and 2 more failing messages not listed",
        "max_errors": None,
        "elapsed_s": 1.235,
        "error": "wscli: error: connection refused",
    }
    assert list(doc["summary"]["by_type"]) == [
        "sensor_reading",
        "sensor_status",
        "sensor_telemetry",
        "(malformed)",
    ]


def test_json_document_lists_the_failures_it_is_given_and_defaults() -> None:
    """`failures=` overrides the tally's; with no error, stop or reason the run is ok."""
    from wscli.validate.reports import json_document

    tally = _counted_tally()
    doc = json_document(tally, schema="s", strict=False, elapsed=0.0004, limit=3, failures=[])
    assert (doc["problems"], doc["failures_listed"], doc["failures_not_listed"]) == ([], 0, 3)
    assert doc["note"] == "... and 3 more failing messages not listed (--max-errors 3)"
    assert (doc["reason"], doc["error"], doc["elapsed_s"], doc["strict"]) == (
        None,
        None,
        0.0,
        False,
    )
    assert doc["result"] == (
        "FAILED: 11 messages: 8 valid, 2 invalid (1 of unknown type), 1 malformed"
    )
    assert doc["ok"] is False  # invalid messages, even with no reason given
    passing = Tally(checker=None)  # type: ignore[arg-type]
    passing.valid_by_type["sensor_reading"] = 2
    doc = json_document(passing, schema="s", strict=False, elapsed=0, limit=None)
    assert (doc["ok"], doc["result"], doc["note"], doc["problems"]) == (
        True,
        "OK: 2 messages, all valid",
        None,
        [],
    )
    stopped = json_document(passing, schema="s", strict=False, elapsed=0, limit=None, stopped="x")
    assert stopped["ok"] is False
    refused = json_document(passing, schema="s", strict=False, elapsed=0, limit=None, reason="r")
    assert refused["ok"] is False


def test_junit_failure_bodies_are_plain_text_even_with_color_always(tmp_path: Path) -> None:
    """The JUnit file gets the report's lines without ANSI styling, whatever the terminal."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    junit = tmp_path / "r.xml"
    run_cli("--color", "always", "validate", str(path), "--junit", str(junit), expect=1)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    bodies = {
        case.get("name"): (case.find("failure").text or "")  # type: ignore[union-attr]
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    }
    assert bodies == {
        "sensor_reading": f"{path}:5: sensor_reading: /data/value:"
        ' expected number, got string "31.0"',
        "sensor_telemetry": f"{path}:12: sensor_telemetry: /type: unknown message type"
        ' "sensor_telemetry" (expected one of: error, sensor_reading, sensor_status)',
        "(malformed)": f"{path}:7: malformed: not JSON: Expecting property name enclosed in"
        " double quotes (column 2)",
    }


def test_a_file_name_that_is_not_utf8_does_not_break_the_json_reports(tmp_path: Path) -> None:
    """-o json and --check-schema -o json print "?" for the byte, as the text report does."""
    path = tmp_path / "g\udcff.jsonl"  # the file system name is b"g\xff.jsonl"
    path.write_text(dumps({"type": "sensor_status"}) + "\n")
    doc = document(run_cli("validate", str(path), "-o", "json", expect=1))
    shown = str(tmp_path / "g?.jsonl")
    assert doc["sources"][0]["source"] == shown
    assert doc["problems"][0]["place"] == f"{shown}:1"
    schema = tmp_path / "s\udcff.json"
    schema.write_text(json.dumps({"type": "object"}))
    checked = document(run_cli("validate", "--check-schema", str(schema), "-o", "json"))
    assert checked == {
        "schema": str(tmp_path / "s?.json"),
        "draft": "draft 2020-12, the default without $schema",
        "valid": True,
        "problems": [],
    }


# -- counting: rows and the type cap ------------------------------------------------------------


def test_rows_are_types_by_count_then_no_type_then_other_types_then_malformed() -> None:
    """The table's order: busiest types first, the three special rows last, in this order."""
    tally = Tally(Disagreeing())
    tally.valid_by_type.update({"a": 1, "(no type)": 5, "(other types)": 9, "b": 3, "c": 3})
    tally.malformed = 7
    assert [row.label for row in tally.rows()] == [
        "b",
        "c",
        "a",
        "(no type)",
        "(other types)",
        "(malformed)",
    ]


def _accept_anything(tmp_path: Path) -> Path:
    schema = tmp_path / "any.json"
    schema.write_text("{}")
    return schema


def test_valid_messages_that_are_not_typed_objects_count_as_no_type(tmp_path: Path) -> None:
    """With a schema that accepts anything, 5, [1] and {"type": 7} are "(no type)" rows."""
    path = tmp_path / "m.jsonl"
    path.write_text('5\n[1]\n{"type": 7}\n{"type": "a"}\n"text"\n')
    schema = _accept_anything(tmp_path)
    doc = document(run_cli("validate", str(path), "--schema", str(schema), "-o", "json"))
    assert doc["summary"]["by_type"] == {
        "a": {"valid": 1, "invalid": 0, "malformed": 0},
        "(no type)": {"valid": 4, "invalid": 0, "malformed": 0},
    }
    assert doc["result"] == "OK: 5 messages, all valid"


def test_types_past_the_50_row_cap_are_counted_together(tmp_path: Path) -> None:
    """A stream of many types cannot flood the table: from the 51st on, one exact row."""
    lines = [dumps({"type": f"t{i:02d}"}) for i in range(50)]
    lines += [dumps({"type": "late1"}), dumps({"type": "late2"}), dumps({"type": "late2"})]
    lines += ["5", dumps({"type": "t00"}), dumps({"type": "t01", "bad": 1})]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    schema = tmp_path / "no-bad.json"  # anything goes, except a "bad" property
    schema.write_text(json.dumps({"properties": {"bad": False}}))
    doc = document(run_cli("validate", str(path), "--schema", str(schema), "-o", "json", expect=1))
    by_type = doc["summary"]["by_type"]
    assert len(by_type) == 51
    assert list(by_type)[:2] == ["t00", "t01"] and list(by_type)[-1] == "(other types)"
    assert by_type["t00"] == {"valid": 2, "invalid": 0, "malformed": 0}
    assert by_type["t01"] == {"valid": 1, "invalid": 1, "malformed": 0}  # a known type stays
    assert by_type["(other types)"] == {"valid": 4, "invalid": 0, "malformed": 0}


# -- the JUnit file, byte for byte --------------------------------------------------------------


def _junit_tally() -> Tally:
    """Two types with failures, one passing type, malformed input; one failure unlisted each."""
    from wscli.validate.tally import Failure, SourceSummary

    tally = Tally(Disagreeing())
    tally.valid_by_type.update({"sensor_reading": 7, "sensor_status": 2})
    tally.invalid_by_type.update({"sensor_reading": 2, "sensor_telemetry": 2})
    tally.unknown_types.add("sensor_telemetry")
    tally.unknown_type = 2
    tally.malformed = 2
    tally.sources.append(SourceSummary("a.jsonl", "jsonl", valid=9, invalid=4, malformed=2))
    problems = (
        Problem("/data/value", "expected number", "sensor_reading"),
        Problem("/data/id", "must be at least 1", "sensor_reading"),
    )
    tally.failures.append(
        Failure("a.jsonl", "a.jsonl:5", 5, "line", "invalid", "sensor_reading", problems)
    )
    tally.failures.append(
        Failure("a.jsonl", "a.jsonl:7", 7, "line", "malformed", None, reason="not JSON")
    )
    return tally


def _junit_text(xml: bytes) -> str:
    import re

    text, count = re.subn(r'timestamp="[0-9T:-]{19}"', 'timestamp="T"', xml.decode())
    assert count == 1, text
    return text


_JUNIT_HEAD = """<?xml version='1.0' encoding='utf-8'?>
<testsuites name="wscli validate" tests="{tests}" failures="3" errors="{errors}" time="{time}">
  <testsuite name="wscli validate" tests="{tests}" failures="3" errors="{errors}" skipped="0" \
time="{time}" timestamp="T">
    <properties>
      <property name="schema" value="s.json" />
      <property name="source" value="a.jsonl" />
      <property name="result" value="{result}" />
    </properties>
"""

_JUNIT_CASES = """\
    <testcase classname="wscli.validate" name="sensor_reading" time="0">
      <failure message="2 of 9 sensor_reading messages invalid" type="invalid">{reading}</failure>
      <system-out>9 messages: 7 valid, 2 invalid</system-out>
    </testcase>
    <testcase classname="wscli.validate" name="sensor_status" time="0">
      <system-out>2 messages: 2 valid, 0 invalid</system-out>
    </testcase>
    <testcase classname="wscli.validate" name="sensor_telemetry" time="0">
      <failure message="2 messages of unknown type 'sensor_telemetry'" type="unknown_type">\
... and 2 more not listed</failure>
      <system-out>2 messages: 0 valid, 2 invalid</system-out>
    </testcase>
    <testcase classname="wscli.validate" name="(malformed)" time="0">
      <failure message="2 malformed inputs (not JSON messages)" type="malformed">\
{malformed}</failure>
      <system-out>2 malformed inputs</system-out>
    </testcase>
"""


def test_junit_xml_of_a_finished_run_byte_for_byte() -> None:
    """Defaults: the tally's own failures, no error case; listed lines, then what is not."""
    from wscli.validate.reports import junit_xml

    result = "FAILED: 15 messages: 9 valid, 4 invalid (2 of unknown type), 2 malformed"
    head = _JUNIT_HEAD.format(tests=4, errors=0, time="1.235", result=result)
    reading = (
        "a.jsonl:5: sensor_reading: /data/value: expected number\n"
        "a.jsonl:5: sensor_reading: /data/id: must be at least 1\n"
        "... and 1 more not listed"
    )
    cases = _JUNIT_CASES.format(
        reading=reading, malformed="a.jsonl:7: malformed: not JSON\n... and 1 more not listed"
    )
    expected = head + cases + "  </testsuite>\n</testsuites>"
    assert _junit_text(junit_xml(_junit_tally(), schema="s.json", elapsed=1.23456)) == expected


def test_junit_xml_of_a_run_cut_short_byte_for_byte() -> None:
    """An error case named "run" whose type is the reason; `failures=[]` lists none."""
    from wscli.validate.reports import junit_xml

    result = (
        "STOPPED: 15 messages: 9 valid, 4 invalid (2 of unknown type), 2 malformed"
        " (connection error)"
    )
    head = _JUNIT_HEAD.format(tests=5, errors=1, time="0.000", result=result)
    cases = _JUNIT_CASES.format(
        reading="... and 2 more not listed", malformed="... and 2 more not listed"
    )
    run = """\
    <testcase classname="wscli.validate" name="run" time="0">
      <error message="run: connection error after 15 messages" type="connection_error">\
connection refused</error>
    </testcase>
"""
    xml = junit_xml(
        _junit_tally(),
        schema="s.json",
        elapsed=0,
        error="connection refused",
        stopped="connection error",
        reason="connection_error",
        failures=[],
    )
    assert _junit_text(xml) == head + cases + run + "  </testsuite>\n</testsuites>"


def test_junit_xml_of_an_empty_run_has_one_failing_case() -> None:
    from wscli.validate.reports import junit_xml

    xml = _junit_text(junit_xml(Tally(Disagreeing()), schema="s.json", elapsed=0))
    assert xml.endswith(
        """\
      <property name="result" value="FAILED: expected messages, got none" />
    </properties>
    <testcase classname="wscli.validate" name="messages" time="0">
      <failure message="expected messages, got none" type="no_messages">\
expected messages, got none</failure>
    </testcase>
  </testsuite>
</testsuites>"""
    )
    assert 'tests="1" failures="1" errors="0" skipped="0"' in xml
