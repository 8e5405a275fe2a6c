"""tail's output is valid input to validate, with the same verdicts (issue #7).

One seeded faulty ``serve`` stream is saved both ways (``tail -o jsonl > f`` and
``tail --record r``); ``validate`` must count both alike, because tail's own wrapper
lines (``{"binary": true, ...}``, ``{"malformed": ..., ...}``) stand for the frames a
recording holds. Also: a cut-off frame in the middle of a recording is named as such,
and transcripts from other tools (``< {...}``) are read.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli, unit
from wscli.frames import OP_BINARY, OP_TEXT
from wscli.recording import frame_record
from wscli.validate.sources import FileSource
from wscli.validate.tally import Malformed

READING = {
    "type": "error",
    "data": {"message": "gateway down", "code": "E1"},
}


def _summary(path: Path) -> dict[str, Any]:
    result = run_wscli("validate", str(path), "-o", "json", expect=1)
    document = json.loads(result.stdout)
    summary: dict[str, Any] = document["summary"]
    return summary


@pytest.mark.slow
def test_jsonl_and_recording_of_one_faulty_stream_agree(serve: Any, tmp_path: Path) -> None:
    """Same seeded stream, saved as tail -o jsonl and as --record: identical counts."""
    server = serve(
        seed=11, rate=0, count=80, malformed_rate=0.2, invalid_rate=0.2, binary_rate=0.15
    )
    jsonl, recording = tmp_path / "f.jsonl", tmp_path / "r.rec"
    result = run_wscli(
        "tail", server.url, "-o", "jsonl", "--record", str(recording),
        "-n", "80", "--no-reconnect",
    )  # fmt: skip
    jsonl.write_text(result.stdout, encoding="utf-8")
    assert any(line.get("binary") is True for line in result.json_lines if line)
    assert any("malformed" in line for line in result.json_lines if line)
    from_jsonl, from_recording = _summary(jsonl), _summary(recording)
    assert from_jsonl["messages"] == from_recording["messages"] == 80
    for key in ("valid", "invalid", "malformed", "unknown_type"):
        assert from_jsonl[key] == from_recording[key], (key, from_jsonl, from_recording)
    assert from_jsonl["invalid"] > 0 and from_jsonl["malformed"] > 0
    reasons_jsonl = _reasons(jsonl)
    assert reasons_jsonl == _reasons(recording)
    assert any(reason.startswith("binary frame (") for reason in reasons_jsonl)


def _reasons(path: Path) -> list[str]:
    result = run_wscli("validate", str(path), "-o", "json", expect=1)
    return [p["reason"] for p in json.loads(result.stdout)["problems"] if p["kind"] == "malformed"]


def test_tail_wrappers_are_binary_and_malformed_frames() -> None:
    """Only tail's exact wrapper shapes stand for frames; other objects stay messages."""
    lines = [
        {"binary": True, "len": 3, "b64": "AAEC"},
        {"malformed": "not JSON: Expecting value", "text": "{oops"},
        {"binary": True, "len": 3, "b64": "AAEC", "type": "x"},
        {"malformed": "x", "text": json.dumps(READING)},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    items = list(FileSource("f", stream=io.BytesIO(data), name="f").items())
    assert items[0][1] == Malformed("binary frame (3 bytes)")
    assert isinstance(items[1][1], Malformed) and "Expecting property name" in items[1][1].reason
    assert items[2][1] == lines[2]  # not tail's shape: a message
    assert items[3][1] == Malformed("x")  # tail said malformed; its text alone passes now


def _recording(tmp_path: Path, payloads: list[bytes], opcodes: list[int] | None = None) -> Path:
    header = {"wscli": "recording", "version": 1, "url": "ws://x/", "started": "t"}
    lines = [json.dumps(header)]
    for i, payload in enumerate(payloads):
        opcode = opcodes[i] if opcodes else OP_TEXT
        lines.append(json.dumps(frame_record(i / 10, "in", opcode, payload)))
    path = tmp_path / "r.rec"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cut_off_frame_mid_recording_has_the_right_reason_and_line(tmp_path: Path) -> None:
    """A truncated frame on line 3 of 4 is a truncated message there, not the last line."""
    good = json.dumps(READING).encode()
    path = _recording(tmp_path, [good, good[:25], good])
    result = run_cli("validate", str(path), expect=1)
    assert f"{path}:3: malformed: truncated message (not JSON): " in result.stdout
    assert "truncated last line" not in result.stdout
    assert "2 valid, 0 invalid, 1 malformed" in result.stdout


def test_truncated_last_line_is_still_named(tmp_path: Path) -> None:
    """A JSON Lines file cut in its last line keeps that reason."""
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(READING) + "\n" + json.dumps(READING)[:30])
    result = run_cli("validate", str(path), expect=1)
    assert f"{path}:2: malformed: truncated last line (no newline at the end)" in result.stdout


@pytest.mark.parametrize(
    "preamble",
    [
        "Connected (press CTRL+C to quit)\n",  # wscat
        "Connected to ws://127.0.0.1:8000/api/ws/sensor/stream.\n",  # python -m websockets
        "Press Ctrl+C to quit\n",  # wsdump
        "",
    ],
)
def test_transcripts_from_other_tools(tmp_path: Path, preamble: str) -> None:
    """``< `` lines are received messages; ``> `` lines and the tool's chatter are skipped."""
    message = json.dumps(READING)
    path = tmp_path / "session.txt"
    path.write_text(
        f'{preamble}> hello\n< {message}\n< {message}\n> {{"sent": 1}}\n'
        f'< {{"type": "error"}}\n<\n< not json\nConnection closed: 1000 (OK).\n'
    )
    result = run_cli("validate", str(path), "-o", "json", expect=1)
    document = json.loads(result.stdout)
    assert document["sources"][0]["kind"] == "transcript"
    assert document["summary"]["valid"] == 2
    assert document["summary"]["invalid"] == 1
    assert document["summary"]["malformed"] == 1
    places = [p["place"] for p in document["problems"]]
    offset = preamble.count("\n")
    assert places[0].endswith(f":{5 + offset}")
    assert places[-1].endswith(f":{7 + offset}")


def test_prefix_is_named_when_a_transcript_line_is_met_in_json_lines(tmp_path: Path) -> None:
    """A ``< `` line inside JSON Lines says the prefix is the problem."""
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(READING) + "\n< " + json.dumps(READING) + "\n")
    result = run_cli("validate", str(path), expect=1)
    assert "starts with '<' like a transcript from wscat or wsdump" in result.stdout


def test_binary_frames_in_recordings_and_jsonl_read_alike(tmp_path: Path) -> None:
    """A binary frame recorded, or wrapped by tail, is the same malformed item."""
    path = _recording(tmp_path, [b"\x00\x01\x02"], [OP_BINARY])
    recorded = list(FileSource(str(path)).items())
    wrapped = json.dumps({"binary": True, "len": 3, "b64": "AAEC"}).encode() + b"\n"
    from_tail = list(FileSource("f", stream=io.BytesIO(wrapped), name="f").items())
    assert (
        [v for _, v in recorded]
        == [v for _, v in from_tail]
        == [Malformed("binary frame (3 bytes)")]
    )


# -- one judgement: four commands, one verdict per message (issue #18) ---------------------

FAULTY = {
    "rate": 0.0,
    "seed": 5,
    "count": 1000,
    "malformed_rate": 0.05,
    "invalid_rate": 0.1,  # some of them of an unknown type
    "binary_rate": 0.05,
}


@pytest.mark.slow
def test_tail_probe_load_and_validate_agree_on_1000_messages(serve: Any, tmp_path: Path) -> None:
    """The same 1,000 seeded messages (valid, invalid, of unknown type, malformed, binary)
    to ``tail --validate``, ``probe --validate``, ``load --validate`` and ``validate``:
    every command counts the same failing messages, because all four ask
    :func:`wscli.checks.judgement.judge`. Each connection of a fresh server gets the same seed."""
    import importlib.util

    servers = [serve(**FAULTY) for _ in range(4)]
    stats_file = tmp_path / "tail.json"
    tail = run_wscli(
        "tail", servers[0].url, "--validate", "-n", "1000", "--no-reconnect", "-o", "jsonl",
        "--stats-json", str(stats_file), expect=1,
    )  # fmt: skip
    tailed = json.loads(stats_file.read_text())
    validated = json.loads(
        run_wscli("validate", servers[1].url, "-n", "1000", "-o", "json", expect=1).stdout
    )["summary"]
    # The server closes after its 1,000th message, inside probe's window: exit 8.
    probed = json.loads(
        run_wscli(
            "probe", servers[2].url, "--validate", "--within", "20", "-o", "json", expect=8
        ).stdout
    )
    sent = servers[0].wait_for_connections(1, unit(10))[0]
    bad = sent.invalid + sent.malformed + sent.binary
    assert sent.invalid and sent.malformed and sent.binary, sent
    assert "sensor_telemetry" in tailed["by_type"]  # an unknown type, judged invalid

    assert tailed["messages"] == 1000
    assert tailed["invalid"] + tailed["malformed"] + tailed["binary"] == bad
    assert f"{bad} of 1000 messages failed validation" in tail.stderr

    assert validated["messages"] == 1000 and validated["valid"] == 1000 - bad
    assert validated["invalid"] + validated["malformed"] == bad
    assert validated["invalid"] == tailed["invalid"]
    assert validated["unknown_type"] > 0

    check = next(a for a in probed["assertions"] if a["name"] == "validate")
    assert check["ok"] is False
    assert probed["window"]["validated"] == probed["window"]["messages"] == 1000
    assert probed["window"]["invalid"] == bad
    assert check["measured"].startswith("validated 1,000 of 1,000 in ")
    assert f": {bad} invalid" in check["measured"]

    if importlib.util.find_spec("locust") is None:
        return
    loaded = json.loads(
        run_wscli(
            "load", servers[3].url, "-o", "json", "-u", "1", "-r", "10", "-t", "3", "--validate",
            expect=None, timeout=60,
        ).stdout
    )  # fmt: skip
    # load's exit and "ok" for invalid messages are issue #17 item 4 (load's verdict).
    assert loaded["messages"] == 1000 and loaded["failures"] == bad
    assert loaded["by_type"]["(binary)"] == tailed["binary"]
    assert loaded["by_type"]["(malformed)"] == tailed["malformed"]


@pytest.mark.slow
def test_one_check_spec_names_the_check_in_probe_and_tail(serve: Any, tmp_path: Path) -> None:
    """The validate check comes from one spec (wscli.checks.specs.VALIDATE): probe's JSON and
    JUnit and tail's --stats-json name it alike, and agree that it failed."""
    import xml.etree.ElementTree as ET

    from wscli.checks.specs import JUNIT_PREFIX, VALIDATE

    server = serve(rate=200.0, seed=2, invalid_rate=0.2)
    stats_file, junit_file = tmp_path / "tail.json", tmp_path / "probe.xml"
    run_wscli(
        "tail", server.url, "--validate", "-n", "50", "--no-reconnect", "-o", "jsonl",
        "--stats-json", str(stats_file), expect=1,
    )  # fmt: skip
    (tail_check,) = json.loads(stats_file.read_text())["checks"]
    probed = json.loads(
        run_wscli(
            "probe", server.url, "--validate", "--within", "0.5", "-o", "json",
            "--junit", str(junit_file), expect=1,
        ).stdout
    )  # fmt: skip
    (probe_check,) = probed["assertions"]
    assert tail_check["name"] == probe_check["name"] == VALIDATE.name == "validate"
    assert tail_check["ok"] is probe_check["ok"] is False
    names = {case.get("name") for case in ET.parse(junit_file).getroot().iter("testcase")}
    assert VALIDATE.case_name() in names and JUNIT_PREFIX + "validate" in names
