"""Writing files a user asked for (reports, recordings) and failing in one clear line.

Three jobs, shared by every command that writes a file:

- :func:`check_writable` fails before a run, not after it, when the folder is missing.
- :func:`write_atomic` puts a whole report in place or nothing: the bytes go to a
  temporary file in the same folder, which is then renamed over the target. A run
  killed mid-write never leaves a half-written XML or JSON for a CI system to parse.
- :func:`write_failed` turns an ``OSError`` from any writer (stdout, a report, a
  recording, the tap) into one line, ``cannot write to stdout: no space left on
  device``, with exit 2: a full disk is the user's problem to fix, not a wscli bug.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Re-exported: every writer's callers reach the one-line error through this module.
from wscli.errors import BadUsage, describe_os_error, write_failed

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
