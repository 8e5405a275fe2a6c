"""The debug tap: handshake and every frame both ways, credentials never written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_wscli
from wscli.tap import REDACTED, Redactor


def test_redactor_hides_credentials() -> None:
    """Secret headers, credential query parameters, userinfo and known secrets are hidden."""
    redactor = Redactor(["hunter2-secret"])
    assert redactor.header("Authorization", "Bearer abc.def") == f"Bearer {REDACTED}"
    assert redactor.header("Cookie", "session=1") == REDACTED
    assert redactor.header("X-Note", "hunter2-secret inside") == f"{REDACTED} inside"
    url = redactor.url("wss://user:pw@host/ws?token=abc&room=1")
    assert "pw" not in url and "abc" not in url and "room=1" in url
    assert Redactor(["x" * 8], enabled=False).text("x" * 8) == "x" * 8
    assert redactor.payload(b'{"echo": "hunter2-secret"}') == b'{"echo": "[redacted]"}'
    assert redactor.payload(b"\xffhunter2-secret") == b"\xffhunter2-secret"  # not text


def test_tap_file_holds_handshake_and_every_frame(serve: Any, tmp_path: Path) -> None:
    """--tap records the handshake, data, ping/pong both ways and close; no token."""
    token = "tap-token-9f8e7d"
    server = serve(rate=8, require_token=token, ping_interval=0.3)
    tap = tmp_path / "tap.jsonl"
    result = run_wscli(
        "tail",
        server.url,
        "-n",
        "12",
        "--token",
        token,
        "--tap",
        str(tap),
        "--ping-interval",
        "0.25",
    )
    assert len(result.json_lines) == 12
    text = tap.read_text()
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["wscli"] == "recording"
    handshake = next(line for line in lines if line.get("event") == "handshake")
    assert handshake["status"] == 101
    assert handshake["request"]["Authorization"] == f"Bearer {REDACTED}"
    assert handshake["response"]
    seen = {(line["dir"], line["op"]) for line in lines if "op" in line}
    assert ("in", "text") in seen
    assert ("out", "ping") in seen and ("in", "pong") in seen
    assert ("in", "ping") in seen and ("out", "pong") in seen
    assert ("out", "close") in seen and ("in", "close") in seen
    texts = [line for line in lines if line.get("op") == "text"]
    assert len(texts) >= 12


def test_verbose_prints_frames_to_stderr(serve: Any) -> None:
    """-v shows the handshake and frames on stderr, stdout stays pure data."""
    server = serve()
    result = run_wscli("tail", server.url, "-n", "3", "-v", "--token", "abcdefgh")
    assert len(result.json_lines) == 3
    assert "GET /api/ws/sensor/stream HTTP/1.1" in result.stderr
    assert "Authorization: Bearer [redacted]" in result.stderr
    assert "abcdefgh" not in result.stderr
    assert result.stderr.count("< ") >= 3
