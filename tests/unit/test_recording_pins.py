"""Exact pins of the recording writer and reader where the system misbehaves.

Direct calls only: a frozen clock for the header's ``started``, a file whose ``close``
fails (a full disk found at the last flush), a header write and a close that both
fail, and a machine whose locale is Latin-1 (recordings are UTF-8 everywhere).
"""

from __future__ import annotations

import builtins
import errno
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import pytest

from wscli import recording
from wscli.errors import WriteFailed
from wscli.frames import OP_TEXT
from wscli.recording import RecordingWriter, iter_records, rfc3339_now

# 2026-03-04 05:06:07.999998 UTC: 999 ms, where dividing by anything but 1000 shows.
INSTANT = datetime(2026, 3, 4, 5, 6, 7, 999998, tzinfo=timezone.utc)
HEADER = '{"wscli":"recording","version":1,"url":"ws://h/","started":"2026-03-04T05:06:07.999Z"}\n'


class FrozenClock:
    """``datetime`` on a machine whose local zone is UTC+05:30, stopped at INSTANT."""

    @staticmethod
    def now(tz: tzinfo | None = None) -> datetime:
        if tz is None:
            return (INSTANT + timedelta(hours=5, minutes=30)).replace(tzinfo=None)
        return INSTANT.astimezone(tz)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall clock at INSTANT; the monotonic clock at 100 s, then 101.5 s for ever."""
    ticks: Iterator[float] = iter([100.0])
    monkeypatch.setattr(recording, "datetime", FrozenClock)
    monkeypatch.setattr(recording, "time", SimpleNamespace(monotonic=lambda: next(ticks, 101.5)))


def test_rfc3339_now_is_utc_with_milliseconds_truncated(frozen: None) -> None:
    """999998 µs is .999 (truncated, not rounded up into the next second), in UTC, with Z."""
    assert rfc3339_now() == "2026-03-04T05:06:07.999Z"


def test_a_recording_is_exact_line_by_line(frozen: None, tmp_path: Path) -> None:
    """Header with `started`, then a frame at t=1.5, compact JSON, UTF-8 kept as is."""
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, "ws://h/")
    writer.frame("in", OP_TEXT, "ü".encode())
    writer.close()
    assert path.read_bytes().decode("utf-8") == (
        HEADER + '{"t":1.5,"dir":"in","op":"text","len":2,"text":"ü"}\n'
    )


# -- a file system that fails ------------------------------------------------------------------


class FailingFile:
    """A real file whose ``close`` (and optionally ``write``) the system refuses."""

    def __init__(
        self, real: IO[bytes], close_error: OSError, write_error: BaseException | None = None
    ) -> None:
        self.real = real
        self.close_error = close_error
        self.write_error = write_error

    @property
    def closed(self) -> bool:
        return self.real.closed

    def write(self, data: bytes) -> int:
        if self.write_error is not None:
            raise self.write_error
        return self.real.write(data)

    def flush(self) -> None:
        self.real.flush()

    def close(self) -> None:
        self.real.close()
        raise self.close_error


ENOSPC = OSError(errno.ENOSPC, "No space left on device")
EIO = OSError(errno.EIO, "Input/output error")


def _open_failing(
    monkeypatch: pytest.MonkeyPatch, close_error: OSError, write_error: BaseException | None = None
) -> None:
    def fake_open(file: str | Path, mode: str = "r", **kwargs: Any) -> FailingFile:
        return FailingFile(builtins.open(file, mode, **kwargs), close_error, write_error)

    monkeypatch.setattr(recording, "open", fake_open, raising=False)


def test_a_close_that_fails_is_one_error_naming_the_recording(
    frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last flush finds the disk full: "cannot write to recording PATH: no space ..."."""
    _open_failing(monkeypatch, ENOSPC)
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, "ws://h/")
    with pytest.raises(WriteFailed) as caught:
        writer.close()
    assert caught.value.message == f"cannot write to recording {path}: no space left on device"
    assert caught.value.hint == "free some space or write somewhere else"
    assert path.read_text(encoding="utf-8") == HEADER
    writer.close()  # closed already: nothing more to say


def test_a_failed_header_write_is_the_error_reported_not_the_close_after_it(
    frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Header write refused (ENOSPC), then close refused (EIO): the user sees the first."""
    _open_failing(monkeypatch, EIO, ENOSPC)
    path = tmp_path / "r.jsonl"
    with pytest.raises(WriteFailed) as caught:
        RecordingWriter(path, "ws://h/")
    assert caught.value.message == f"cannot write to recording {path}: no space left on device"
    assert caught.value.hint == "free some space or record somewhere else; lines so far are kept"


def test_an_interrupted_header_write_is_not_hidden_by_a_failing_close(
    frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the header write, then close refused: the KeyboardInterrupt goes on."""
    _open_failing(monkeypatch, EIO, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        RecordingWriter(tmp_path / "r.jsonl", "ws://h/")


# -- a Latin-1 locale ----------------------------------------------------------------------------


def _latin1_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """``open`` without an encoding gives Latin-1, as on a machine with that locale."""

    def fake_open(
        file: str | Path, mode: str = "r", *, encoding: str | None = None, **kwargs: Any
    ) -> IO[Any]:
        if "b" in mode:  # bytes: no encoding to get wrong
            return builtins.open(file, mode, **kwargs)
        return builtins.open(file, mode, encoding=encoding or "latin-1", **kwargs)

    monkeypatch.setattr(recording, "open", fake_open, raising=False)


def test_recordings_are_written_in_utf8_whatever_the_locale(
    frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Latin-1 locale "ü" is still the two UTF-8 bytes C3 BC in the file."""
    _latin1_locale(monkeypatch)
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, "ws://h/")
    writer.frame("out", OP_TEXT, "ü".encode())
    writer.close()
    assert path.read_bytes() == (
        HEADER + '{"t":1.5,"dir":"out","op":"text","len":2,"text":"ü"}\n'
    ).encode("utf-8")


def test_recordings_are_read_as_utf8_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Latin-1 locale the bytes C3 BC are still read back as "ü", not "Ã¼"."""
    _latin1_locale(monkeypatch)
    path = tmp_path / "r.jsonl"
    frame = '{"t":0.5,"dir":"in","op":"text","text":"ü"}\n'
    path.write_bytes((HEADER + frame).encode("utf-8"))
    assert list(iter_records(path)) == [
        (1, json.loads(HEADER), HEADER),
        (2, {"t": 0.5, "dir": "in", "op": "text", "text": "ü"}, frame),
    ]
