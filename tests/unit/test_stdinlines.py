"""connect's stdin reader: one frame per line, each at most --max-size, memory bounded (#17)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from wscli.errors import BadUsage
from wscli.session import stdinlines
from wscli.session.stdinlines import StdinLines


def _read_all(data: bytes, limit: int) -> tuple[list[bytes], BadUsage | None]:
    lines = StdinLines(io.TextIOWrapper(io.BytesIO(data)), limit)
    lines.start()
    got: list[bytes] = []
    try:
        for line in lines:
            got.append(line)
    except BadUsage as exc:
        return got, exc
    return got, None


def test_lines_lose_their_line_end_and_bad_utf8_is_replaced() -> None:
    """LF and CRLF end a line; a last line without one is still a line; bytes stay UTF-8."""
    got, error = _read_all(b"a\nb\r\n\xff\xfe\nlast", limit=100)
    assert got == [b"a", b"b", "\ufffd\ufffd".encode(), b"last"] and error is None


def test_a_line_of_exactly_max_size_is_sent() -> None:
    """The limit is the frame's size: the line end does not count."""
    got, error = _read_all(b"x" * 10 + b"\r\n" + b"y" * 10, limit=10)
    assert got == [b"x" * 10, b"y" * 10] and error is None


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n", b"z" * 1000])
def test_a_longer_line_ends_the_input_with_exit_2_after_the_lines_before_it(tail: bytes) -> None:
    """The lines before it go out; then one error naming the line, usage exit code."""
    got, error = _read_all(b"ok\n" + b"x" * 11 + tail, limit=10)
    assert got == [b"ok"]
    assert error is not None and error.exit_code == 2
    assert error.message.startswith("stdin line 2 is longer than --max-size (10 B)")


def test_a_text_stream_without_a_buffer_is_read_too() -> None:
    """A stdin replaced by a plain text stream (no .buffer) works the same way."""
    lines = StdinLines(io.StringIO("é\nzz\n"), 10)
    lines.start()
    assert list(lines) == ["é".encode(), b"zz"]


def test_an_unreadable_stdin_ends_the_input_instead_of_hanging() -> None:
    """Any failure of the reading thread reaches the sender as one error."""

    class Broken(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            raise MemoryError("no room")

    lines = StdinLines(Broken(), 10)
    lines.start()
    with pytest.raises(BadUsage, match="cannot read stdin: no room"):
        list(lines)


def test_read_ahead_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines wait in a queue of at most READ_AHEAD_BYTES; the reader waits beyond it."""
    monkeypatch.setattr(stdinlines, "READ_AHEAD_BYTES", 25)
    lines = StdinLines(io.TextIOWrapper(io.BytesIO(b"0123456789\n" * 5)), 100)
    lines.start()
    deadline = time.monotonic() + 5
    while lines._bytes < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the reader had time to queue a third line if it were allowed to
    assert lines._bytes == 20 and len(lines._items) == 2
    taken: list[bytes] = []
    reader = threading.Thread(target=lambda: taken.extend(lines))
    reader.start()
    reader.join(5)
    assert taken == [b"0123456789"] * 5
