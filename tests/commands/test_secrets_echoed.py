"""Secrets a server sends back: close reasons, binary frames, redirect locations (issue #17).

A token echoed in a text frame was already hidden in ``-v`` and ``--tap``; these are
the other places a server can put it. Real peers on loopback: a raw WebSocket peer
that echoes the token where the test wants it, and a raw HTTP peer that redirects.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.support.cli import run_wscli
from tests.support.hostile_server import HostileServer, Peer
from tests.support.raw_peer import PeerConnection, RawPeer
from wscli.redact import REDACTED, Redactor

TOKEN = "ECHOEDTOKEN42xyz"


def _echo_token(conn: PeerConnection) -> None:
    """A binary frame carrying the token, then a close whose reason quotes it."""
    conn.proto.send_binary(b"\x00\x01bin:" + TOKEN.encode() + b"\xff")
    conn._flush()
    conn.close(1008, f"bad token {TOKEN}")


def _tap_text(path: Path) -> str:
    """The tap file, with every base64 payload decoded too (a secret must not hide there)."""
    text = path.read_text()
    decoded = []
    for line in text.splitlines():
        record = json.loads(line)
        if "b64" in record:
            decoded.append(base64.b64decode(record["b64"]).decode("latin-1"))
    return text + "\n".join(decoded)


def test_redactor_hides_secrets_in_binary_and_close_payloads() -> None:
    """Bytes, not decoded text: a close frame's code bytes are not UTF-8 (1000 is 03 e8)."""
    redactor = Redactor([TOKEN])
    close = (1000).to_bytes(2, "big") + f"bad {TOKEN}".encode()
    assert redactor.payload(close, 0x8) == (1000).to_bytes(2, "big") + b"bad " + REDACTED.encode()
    assert redactor.payload(b"\xff" + TOKEN.encode(), 0x2) == b"\xff" + REDACTED.encode()
    assert Redactor([TOKEN], enabled=False).payload(b"\xff" + TOKEN.encode(), 0x2).endswith(b"xyz")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["tail", "validate", "connect", "probe"])
def test_token_echoed_in_close_reason_and_binary_frame_is_hidden(
    command: str, tmp_path: Path
) -> None:
    """-v, --tap and the final error line hide the token, for every command that streams."""
    tap = tmp_path / "tap.jsonl"
    extra = {
        "tail": ["-n", "5", "--no-reconnect"],
        "validate": ["-n", "5"],
        "connect": ["--wait", "2"],
        "probe": ["--within", "1", "--min-count", "3"],
    }[command]
    with RawPeer(_echo_token) as peer:
        result = run_wscli(
            command, peer.url, *extra, "--token", TOKEN, "-v", "--tap", str(tap), expect=8
        )
    assert "1008 (policy violation) bad token [redacted]" in result.stderr
    assert "wscli: error:" in result.stderr
    for name, text in (("stderr", result.stderr), ("tap", _tap_text(tap))):
        assert TOKEN not in text, f"token in {name}:\n{text}"
        assert TOKEN.encode().hex(" ", -2)[:20] not in text, f"token as hex in {name}"
    if command != "connect":  # connect prints frames as they come: its stdout is the data
        assert TOKEN not in result.stdout


def _redirect(location: str) -> object:
    def script(peer: Peer, request: bytes) -> None:
        peer.send(
            b"HTTP/1.1 302 Found\r\nLocation: "
            + location.encode()
            + b"\r\nContent-Length: 0\r\n\r\n"
        )

    return script


@pytest.mark.slow
@pytest.mark.parametrize(
    "location",
    [
        "/login?access_token=LOCSECRET99&next=1",
        "wss://other.example/ws?room=1&refresh_token=LOCSECRET99",
    ],
)
@pytest.mark.parametrize("command", ["tail", "probe"])
def test_redirect_location_with_a_secret_parameter_is_hidden(
    command: str, location: str, tmp_path: Path
) -> None:
    """A 3xx Location's credential parameter is hidden in -v, --tap, the hint and the report."""
    tap = tmp_path / "tap.jsonl"
    extra = ["-n", "1"] if command == "tail" else ["-o", "json"]
    with HostileServer(_redirect(location)) as server:  # type: ignore[arg-type]
        result = run_wscli(command, server.url, *extra, "-v", "--tap", str(tap), expect=6)
    assert "< location: " in result.stderr
    assert "access_token=[redacted]" in result.stderr or "refresh_token=[redacted]" in (
        result.stderr
    )
    assert "redirects to " in result.stderr
    for text in (result.stdout, result.stderr, tap.read_text() if tap.exists() else ""):
        assert "LOCSECRET99" not in text


def test_error_lines_hide_every_credential_the_run_registered() -> None:
    """The last net: safe_line hides what build_connection registered, until the next run."""
    from wscli.errors import safe_line
    from wscli.redact import forget_secrets, remember_secrets

    remember_secrets(["abc", "REGISTERED-1"])  # too short to hide: "abc" is everywhere
    try:
        assert safe_line("closed: bad REGISTERED-1 abc") == "closed: bad [redacted] abc"
    finally:
        forget_secrets()
    assert safe_line("closed: bad REGISTERED-1") == "closed: bad REGISTERED-1"


def test_location_headers_are_redacted_relative_or_absolute() -> None:
    redactor = Redactor()
    assert redactor.header("Location", "/cb?code=c0de&state=1") == "/cb?code=[redacted]&state=1"
    assert (
        redactor.header("location", "wss://u:pw@h/x?sig=s1") == "wss://redacted@h/x?sig=[redacted]"
    )
    assert redactor.header("Content-Location", "cb#access_token=t") == "cb#access_token=[redacted]"
    assert redactor.header("Link", "<https://h/x?token=t1>; rel=next") == (
        "<https://h/x?token=[redacted]>; rel=next"
    )
    assert redactor.header("Server", "nginx") == "nginx"
    assert Redactor(enabled=False).header("Location", "/x?token=t") == "/x?token=t"


def test_a_url_at_the_end_of_a_sentence_keeps_its_punctuation() -> None:
    from wscli.redact import redact_urls_in_text

    text = "redirects to wss://h/x?sig=s1: connect there, or ws://h/y?token=t2."
    assert redact_urls_in_text(text) == (
        "redirects to wss://h/x?sig=[redacted]: connect there, or ws://h/y?token=[redacted]."
    )
