"""tap.py's output, exactly: the ``-v`` sink's marks and width, and every line and record
the :class:`Tap` writes (connecting, request, handshake, frames, events).

In-process: the sink writes to an in-memory stream (or the captured stderr), the
recording to ``tmp_path``, and the clock the ``-v`` line stamps is frozen, so each
line is compared whole.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import pytest

import wscli.net.tap as tap_module
from wscli.net.tap import StderrTapSink, Tap
from wscli.redact import Redactor

STAMP = "07:08:09.123"
LONG = b"y" * 300
# The head of a frame line for LONG: mark, stamp, name padded to 6, size right-aligned in 9.
HEAD = f" {STAMP} text       300 B "


def long_line(mark: str, width: int) -> str:
    """The line for a 300-byte text frame on a sink ``width`` columns wide.

    The head is 32 columns; the payload gets ``width - 32 - 2`` and is elided with ``…``.
    """
    room = width - 32 - 2
    return mark + HEAD + "y" * (room - 1) + "…"


class _FrozenNow:
    """Stands in for ``datetime`` in wscli.net.tap: ``now()`` is always the same instant."""

    @staticmethod
    def now() -> datetime:
        return datetime(2024, 5, 6, 7, 8, 9, 123456)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Freeze the stamp of ``-v`` frame lines at 07:08:09.123."""
    monkeypatch.setattr(tap_module, "datetime", _FrozenNow)
    yield


class TtyStream(io.StringIO):
    """An in-memory stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class BareStream:
    """A writable stream with no ``isatty`` at all (some wrappers have none)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def both_ways(sink: StderrTapSink) -> None:
    sink.frame("in", 1, LONG)
    sink.frame("out", 1, LONG)


def terminal_of(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """Make shutil.get_terminal_size report ``columns`` (it reads COLUMNS first)."""
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("LINES", "24")


def read_records(path: Path) -> list[dict[str, Any]]:
    """The recording's lines, parsed; each line's ``t`` checked as a number and dropped."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for record in records[1:]:
        assert isinstance(record.pop("t"), float | int), record
    return records


# -- StderrTapSink: where it writes, which marks, how wide -----------------------------------


def test_the_sink_writes_to_stderr_when_given_no_stream(
    capsys: pytest.CaptureFixture[str], frozen: None
) -> None:
    """No stream means sys.stderr (a pipe here): plain marks, 160 columns, nothing on stdout."""
    sink = StderrTapSink()
    both_ways(sink)
    sink.event("closed", {"code": 1000})
    Tap(verbose=True).event("ended", why="done")
    out = capsys.readouterr()
    lines = [long_line("<", 160), long_line(">", 160), "* closed code=1000", "* ended why=done"]
    assert out.err == "".join(line + "\n" for line in lines)
    assert out.out == ""


def test_a_pipe_gets_plain_marks_and_160_columns_whatever_the_terminal(
    monkeypatch: pytest.MonkeyPatch, frozen: None
) -> None:
    """Not a TTY: ``<``/``>`` and a fixed 160 columns, even when COLUMNS says otherwise."""
    terminal_of(monkeypatch, 77)
    stream = io.StringIO()
    sink = StderrTapSink(stream)
    both_ways(sink)
    assert stream.getvalue() == long_line("<", 160) + "\n" + long_line(">", 160) + "\n"
    assert (sink.fancy, sink.width) == (False, 160)


def test_a_terminal_gets_emoji_marks_and_its_own_width(
    monkeypatch: pytest.MonkeyPatch, frozen: None
) -> None:
    """A TTY: 📥 for received, 📤 for sent, elided to the terminal's columns."""
    terminal_of(monkeypatch, 77)
    stream = TtyStream()
    sink = StderrTapSink(stream)
    both_ways(sink)
    assert stream.getvalue() == long_line("📥", 77) + "\n" + long_line("📤", 77) + "\n"
    assert (sink.fancy, sink.width) == (True, 77)


def test_a_terminal_of_unknown_size_is_taken_as_120_columns(
    monkeypatch: pytest.MonkeyPatch, frozen: None
) -> None:
    """No COLUMNS and no terminal to ask: the fallback width is 120."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    stream = TtyStream()  # says it is a terminal, but has no descriptor to ask
    sink = StderrTapSink(stream)
    both_ways(sink)
    assert stream.getvalue() == long_line("📥", 120) + "\n" + long_line("📤", 120) + "\n"


def test_the_width_is_that_of_the_terminal_the_sink_writes_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``tail -v | jq``: stdout is a pipe, stderr a 93-column terminal; lines fit stderr's."""
    import fcntl
    import struct
    import termios

    monkeypatch.delenv("COLUMNS", raising=False)
    controller, terminal = os.openpty()
    try:
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 93, 0, 0))
        with open(terminal, "w", encoding="utf-8", closefd=False) as stream:
            assert StderrTapSink(stream).width == 93
    finally:
        os.close(controller)
        os.close(terminal)


def test_fancy_overrides_the_terminal_check_but_not_the_width(
    monkeypatch: pytest.MonkeyPatch, frozen: None
) -> None:
    """``fancy=True`` on a pipe gives emoji at 160 columns; ``fancy=False`` on a TTY gives
    plain marks at the terminal's width."""
    terminal_of(monkeypatch, 77)
    pipe = io.StringIO()
    both_ways(StderrTapSink(pipe, fancy=True))
    assert pipe.getvalue() == long_line("📥", 160) + "\n" + long_line("📤", 160) + "\n"
    tty = TtyStream()
    both_ways(StderrTapSink(tty, fancy=False))
    assert tty.getvalue() == long_line("<", 77) + "\n" + long_line(">", 77) + "\n"


def test_a_stream_without_isatty_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, frozen: None
) -> None:
    """A stream lacking ``isatty`` is written to as a pipe, not refused or taken for a TTY."""
    terminal_of(monkeypatch, 77)
    stream = BareStream()
    both_ways(StderrTapSink(cast(IO[str], stream)))
    assert stream.getvalue() == long_line("<", 160) + "\n" + long_line(">", 160) + "\n"


# -- Tap: the -v lines -----------------------------------------------------------------------


def test_connecting_line_names_the_target_with_secrets_hidden() -> None:
    """``* connecting to HOST:PORT``, a known secret in the target replaced."""
    stream = io.StringIO()
    tap = Tap(verbose=True, stderr=stream, redactor=Redactor(["s3cr3t-host"]))
    tap.connecting("127.0.0.1:8000")
    tap.connecting("s3cr3t-host.example:443")
    assert stream.getvalue() == (
        "* connecting to 127.0.0.1:8000\n* connecting to [redacted].example:443\n"
    )
    quiet = Tap(stderr=stream)  # without -v there is no line at all
    quiet.connecting("127.0.0.1:8000")
    assert stream.getvalue().count("\n") == 2


def test_request_lines_are_printed_whole_with_credentials_hidden() -> None:
    """``> GET target HTTP/1.1`` then ``> Name: value`` per header: the target's credential
    parameters and secret headers redacted, values trimmed, a port's colon kept."""
    stream = io.StringIO()
    tap = Tap(verbose=True, stderr=stream, redactor=Redactor(["hunter22"]))
    tap.request(
        [
            "GET /ws?token=abc&room=1 HTTP/1.1",
            "Host: 127.0.0.1:8000",
            "Authorization: Bearer abc.def",
            "X-Note:   says hunter22  ",
            "Upgrade: websocket",
        ]
    )
    assert stream.getvalue() == (
        "> GET /ws?token=[redacted]&room=1 HTTP/1.1\n"
        "> Host: 127.0.0.1:8000\n"
        "> Authorization: Bearer [redacted]\n"
        "> X-Note: says [redacted]\n"
        "> Upgrade: websocket\n"
    )


def test_a_request_target_is_split_at_the_last_space() -> None:
    """The method ends at the first space and the version starts after the last, so a
    target with a space in it is redacted whole, its token never half shown."""
    stream = io.StringIO()
    tap = Tap(verbose=True, stderr=stream)
    tap.request(["GET /x?token=a b HTTP/1.1"])
    tap.request(["GET /plain HTTP/1.1"])
    assert stream.getvalue() == "> GET /x?token=[redacted] HTTP/1.1\n> GET /plain HTTP/1.1\n"


def test_an_empty_request_or_no_verbose_prints_nothing() -> None:
    """No lines (nothing was sent) or no ``-v``: request() writes nothing and never fails."""
    stream = io.StringIO()
    Tap(verbose=True, stderr=stream).request([])
    Tap(stderr=stream).request(["GET / HTTP/1.1"])
    assert stream.getvalue() == ""


def test_events_print_and_record_their_strings_redacted_and_other_values_as_given(
    tmp_path: Path,
) -> None:
    """``* name k=v ...`` on stderr and ``{"event": name, ...}`` in the file: a secret
    inside a string field is hidden, numbers and None pass through untouched."""
    stream = io.StringIO()
    path = tmp_path / "tap.jsonl"
    tap = Tap(
        verbose=True,
        stderr=stream,
        tap_file=str(path),
        url="ws://h/",
        redactor=Redactor(["tok-12345"]),
    )
    tap.event("reconnect", attempt=2, note="using tok-12345", gap=0.5, code=None)
    tap.close()
    assert stream.getvalue() == "* reconnect attempt=2 note=using [redacted] gap=0.5 code=None\n"
    records = read_records(path)
    assert records[1:] == [
        {"event": "reconnect", "attempt": 2, "note": "using [redacted]", "gap": 0.5, "code": None}
    ]


# -- Tap: the recording ----------------------------------------------------------------------


def test_the_handshake_record_holds_url_request_status_and_response(tmp_path: Path) -> None:
    """One ``handshake`` line, keys in order, credentials hidden in the URL and headers."""
    path = tmp_path / "tap.jsonl"
    url = "ws://user:pw@h:8000/ws?token=abc&room=1"
    tap = Tap(tap_file=str(path), url=url, redactor=Redactor(["sekrit-value"]))
    tap.handshake(
        url=url,
        request=[("Authorization", "Bearer sekrit-value"), ("Host", "h:8000")],
        status=101,
        response=[("Upgrade", "websocket"), ("Set-Cookie", "sid=1"), ("X-Echo", "sekrit-value")],
    )
    tap.close()
    records = read_records(path)
    header = records[0]
    assert {k: header[k] for k in ("wscli", "version", "url")} == {
        "wscli": "recording",
        "version": 1,
        "url": "ws://redacted@h:8000/ws?token=[redacted]&room=1",
    }
    assert records[1:] == [
        {
            "event": "handshake",
            "url": "ws://redacted@h:8000/ws?token=[redacted]&room=1",
            "request": {"Authorization": "Bearer [redacted]", "Host": "h:8000"},
            "status": 101,
            "response": {
                "Upgrade": "websocket",
                "Set-Cookie": "[redacted]",
                "X-Echo": "[redacted]",
            },
        }
    ]
    assert list(records[1]) == ["event", "url", "request", "status", "response"]


def test_frames_are_recorded_with_direction_op_and_payload(tmp_path: Path) -> None:
    """Each frame the tap sees is one line: dir, op name, length, then text, b64 or close
    code; a secret in a text or a binary payload is hidden (issue #17)."""
    path = tmp_path / "tap.jsonl"
    tap = Tap(tap_file=str(path), url="ws://h/", redactor=Redactor(["SECRET1"]))
    tap.frame("in", 1, b"tok SECRET1")
    tap.frame("out", 2, b"SECRET1")
    tap.frame("out", 9, b"hb")
    tap.frame("in", 8, b"\x03\xe9bye")
    tap.close()
    assert read_records(path)[1:] == [
        {"dir": "in", "op": "text", "len": 14, "text": "tok [redacted]"},
        {"dir": "out", "op": "binary", "len": 10, "b64": "W3JlZGFjdGVkXQ=="},
        {"dir": "out", "op": "ping", "len": 2, "text": "hb"},
        {"dir": "in", "op": "close", "len": 5, "code": 1001, "reason": "bye"},
    ]


# -- environment_secrets: proxy passwords from every variable websocket-client reads --------


PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


@pytest.mark.parametrize("name", PROXY_VARIABLES)
def test_a_proxy_password_in_any_proxy_variable_is_a_secret(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Each variable, in either case, alone: its password is hidden from taps."""
    from wscli.net.tap import environment_secrets

    for other in PROXY_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, f"http://user:pw-{name}@proxy.example:3128")
    assert environment_secrets() == [f"pw-{name}"]


def test_proxy_variables_without_a_password_give_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy with no password, or an empty variable, adds nothing."""
    from wscli.net.tap import environment_secrets

    for other in PROXY_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv("http_proxy", "http://user@proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "")
    assert environment_secrets() == []


# -- Tap: which sinks, and the recording header -------------------------------------------


def test_a_tap_is_enabled_only_when_it_has_a_sink(tmp_path: Path) -> None:
    """No -v and no --tap: disabled, so the plain WebSocket class is used."""
    assert Tap().enabled is False
    assert Tap(verbose=True, stderr=io.StringIO()).enabled is True
    recorded = Tap(tap_file=str(tmp_path / "t.jsonl"))
    assert recorded.enabled is True
    recorded.close()


def test_the_recording_header_hides_known_secrets_even_in_the_path(tmp_path: Path) -> None:
    """A --token value anywhere in the URL is hidden in the header; no URL given means ""."""
    secret_path = tmp_path / "secret.jsonl"
    tap = Tap(
        tap_file=str(secret_path),
        url="ws://h:8000/rooms/sekrit-value",
        redactor=Redactor(["sekrit-value"]),
    )
    tap.close()
    assert read_records(secret_path)[0]["url"] == "ws://h:8000/rooms/[redacted]"
    bare_path = tmp_path / "bare.jsonl"
    bare = Tap(tap_file=str(bare_path))
    bare.close()
    assert read_records(bare_path)[0]["url"] == ""
