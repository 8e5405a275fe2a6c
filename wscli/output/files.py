"""Writing files a user asked for (reports, recordings) and failing in one clear line.

Three jobs, shared by every command that writes a file:

- :func:`check_writable` fails before a run, not after it, when the folder is missing.
- :func:`write_atomic` puts a whole report in place or nothing: the bytes go to a
  temporary file in the same folder, which is then renamed over the target. A run
  killed mid-write never leaves a half-written XML or JSON for a CI system to parse.
- :func:`write_failed` turns an ``OSError`` from any writer (stdout, a report, a
  recording, the tap) into one line, ``cannot write to stdout: no space left on
  device``, with exit 2: a full disk is the user's problem to fix, not a wscli bug.
- :class:`ReportFiles` writes every report of a run's ending, keeps going past one
  that fails, and fails the run (exit 2) once all were tried (issue 17 item 6).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Re-exported: every writer's callers reach the one-line error through this module.
from wscli.errors import BadUsage, WriteFailed, WscliError, describe_os_error, write_failed

__all__ = ["check_writable", "describe_os_error", "write_atomic", "write_failed"]


def check_writable(path: str, option: str) -> str:
    """Fail before the run, not after it, when ``path``'s folder does not exist.

    Raises:
        BadUsage: no such folder (exit 2).
    """
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise BadUsage(f"cannot write {option} {path}: no folder {folder}", hint="create it first")
    return path


def write_atomic(path: str | Path, data: bytes, *, target: str | None = None) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file beside it, then a rename.

    The temporary file is created with the same permissions a plain ``open`` would
    give (0666 less the umask), so the report looks like any other file. A symlink
    is followed (the link stays, its target is replaced). Something that is not a
    regular file (``/dev/stdout``, a FIFO, a device) is written in place: renaming
    over it would replace the device itself. A failure removes the temporary file
    and raises :class:`WriteFailed` naming ``target`` (default: the path).

    Raises:
        WriteFailed: the folder is missing or read-only, the disk is full, ... (exit 2).
    """
    label = target or str(path)
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        _write_in_place(Path(path), data, label)
        return
    final = Path(os.path.realpath(path))
    temp = final.parent / f".{final.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise write_failed(label, exc) from exc
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
    except OSError as exc:
        _remove(temp)
        raise write_failed(label, exc) from exc
    except BaseException:
        _remove(temp)
        raise


def _write_in_place(path: Path, data: bytes, label: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise write_failed(label, exc) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class ReportFiles:
    """The report files of one run (``--junit``, ``--html``, ``--csv``, ``--stats-json``).

    Each is written whole (:func:`write_atomic`) on every ending; one that cannot be
    written is kept, not raised, so the others and the summary still come out, and
    :meth:`ending` then fails the run with one line per file (exit 2): a CI job must
    never pass while its report is missing.
    """

    def __init__(self) -> None:
        self.failed: list[WriteFailed] = []

    def write(self, path: str | Path, data: bytes, *, option: str) -> bool:
        """Write one report; False (and the failure kept) when the system refused."""
        try:
            write_atomic(path, data, target=f"{option} {path}")
        except WriteFailed as exc:
            self.failed.append(exc)
            return False
        return True

    @contextmanager
    def guard(self, target: str) -> Iterator[None]:
        """A writer of its own (Locust's CSV and HTML): its ``OSError`` names ``target``."""
        try:
            yield
        except WriteFailed as exc:
            self.failed.append(exc)
        except OSError as exc:
            self.failed.append(write_failed(target, exc))

    def ending(self, verdict: WscliError | None, note: Callable[[str], None]) -> WscliError | None:
        """The error the run ends with, once every report was tried.

        A report that could not be written turns a pass or a failed check (exit 0 or
        1) into exit 2, after the check's own line; a connection error (3-8) keeps
        its code, the write failures each get their line. ``note`` prints a line.
        """
        if not self.failed:
            return verdict
        if verdict is not None and int(verdict.exit_code) not in (0, 1):
            for failure in self.failed:
                note(failure.one_line())
            return verdict
        if verdict is not None:
            note(verdict.one_line())
        for failure in self.failed[:-1]:
            note(failure.one_line())
        return self.failed[-1]

    def signalled(self, note: Callable[[str], None]) -> None:
        """A run ended by a signal keeps 130/143; each failed report still gets its line."""
        for failure in self.failed:
            note(failure.one_line())
