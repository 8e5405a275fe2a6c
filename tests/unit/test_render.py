"""Rendering: modes, terminal safety, colour policy (pure: Output is injected)."""

from __future__ import annotations

import io
import json

from wscli.output.terminal import Output
from wscli.session.render import MessageRenderer, StreamStats

HOSTILE = {
    "type": "error",
    "data": {"message": "boom \x1b[2J\x1b]0;owned\x07 [red]not markup[/red]", "code": "E1"},
}


def render(is_tty: bool, mode: str = "auto", env: dict[str, str] | None = None) -> str:
    buffer = io.BytesIO()
    output = Output(stdout=buffer, stderr=io.StringIO(), is_tty=is_tty, env=env or {})
    renderer = MessageRenderer(output, mode)
    raw = json.dumps(HOSTILE).encode()
    renderer.message(raw, HOSTILE)
    renderer.binary(b"\x00\x01\x02")
    renderer.malformed(b"{oops\x1b", "not JSON: x")
    return buffer.getvalue().decode()


def test_pretty_escapes_control_characters_and_keeps_markup_literal() -> None:
    """Escape sequences in a message never reach the terminal; [red] stays text."""
    screen = render(is_tty=True, env={"TERM": "xterm"})
    payload_part = screen.split("E1: ", 1)[1].splitlines()[0]
    assert "\x1b[2J" not in screen and "\x07" not in screen
    assert "\\x1b[2J" in payload_part
    assert "[red]not markup[/red]" in payload_part
    assert "(binary 3 B)" in screen and " 0001 02" in screen
    assert "\\x1b" in screen.splitlines()[2]


def test_pipe_gets_json_lines_without_colour() -> None:
    """In a pipe: one JSON value per line, binary as base64, malformed wrapped."""
    lines = [json.loads(line) for line in render(is_tty=False).splitlines()]
    assert lines[0] == HOSTILE
    assert lines[1] == {"binary": True, "len": 3, "b64": "AAEC"}
    assert lines[2]["malformed"] == "not JSON: x" and lines[2]["text"] == "{oops\x1b"


def test_no_color_and_never() -> None:
    """NO_COLOR (or --color never) keeps the pretty layout without ANSI codes."""
    assert "\x1b[" in render(is_tty=True, env={"TERM": "xterm"}).replace("\\x1b", "")
    plain = render(is_tty=True, env={"NO_COLOR": "1", "TERM": "xterm"})
    assert "\x1b[" not in plain.replace("\\x1b", "")


def test_multiline_json_is_compacted_in_jsonl() -> None:
    """A pretty-printed message becomes one line in JSON Lines."""
    buffer = io.BytesIO()
    renderer = MessageRenderer(Output(stdout=buffer, is_tty=False, env={}), "jsonl")
    renderer.message(b'{\n  "a": 1\n}', {"a": 1})
    assert buffer.getvalue() == b'{"a":1}\n'


def test_stats_one_line() -> None:
    """The Ctrl-C summary names counts by type and the extras that happened."""
    stats = StreamStats(total=3, invalid=1, reconnects=2)
    stats.by_type.update({"sensor_reading": 2, "error": 1})
    line = stats.one_line()
    assert line.startswith("3 messages in")
    assert "sensor_reading 2, error 1" in line and "invalid 1" in line and "reconnects 2" in line
