"""Exit statuses and the errors that carry them.

Every failure a user can meet is a :class:`WscliError` subclass whose class
decides the exit status (SPEC "Exit codes"), so commands never pick numbers and
the one-line rendering lives in one place.
"""

from __future__ import annotations

import errno
import sys
from enum import IntEnum, unique
from typing import IO, Any

import click


@unique
class ExitStatus(IntEnum):
    """SPEC.md's exit-code table, exactly."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    REFUSED = 3
    NAME_RESOLUTION = 4
    TLS = 5
    HANDSHAKE = 6
    TIMEOUT = 7
    CONNECTION_LOST = 8
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODE_HELP = """\b
Exit codes:
  0    success
  1    a check failed: invalid messages, expectation not met
  2    usage error
  3    connection refused or host unreachable
  4    name resolution failed
  5    TLS failure
  6    handshake rejected (HTTP status other than 101)
  7    timeout (connect, idle, or fewer messages than asked in time)
  8    connection lost or closed abnormally, protocol error
  130  interrupted (Ctrl-C), after printing the summary
  143  terminated (SIGTERM, e.g. a CI timeout), after printing the summary
       and writing every report"""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the handler ``cli.main`` installs.

    A KeyboardInterrupt subclass on purpose: every path that already ends a run
    cleanly on Ctrl-C (summaries, reports, recordings) then runs for a CI
    timeout or cancel too, and only the exit status differs (issue #7).
    """


def interrupt_status(exc: BaseException) -> ExitStatus:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return ExitStatus.TERMINATED if isinstance(exc, Terminated) else ExitStatus.INTERRUPTED


def safe_line(text: str) -> str:
    """``text`` made fit for one stderr line: URLs redacted, server text escaped.

    The one escaping function for diagnostics. Errors quote server text (close
    reasons, status lines, headers, body snippets) and URLs (with their
    credentials); this runs on every error line, so no raise site can forget.
    """
    from wscli.frames import escape
    from wscli.redact import redact_urls_in_text, remembered_secrets

    return escape(redact_urls_in_text(text, remembered_secrets()))


def warn(text: str, file: IO[Any] | None = None) -> None:
    """``wscli: warning: <text>`` on stderr: the run goes on, the user should know."""
    stream = file if file is not None else sys.stderr
    try:
        stream.write(safe_line(f"wscli: warning: {text}") + "\n")
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass


class WscliError(click.ClickException):
    """A failure with its exit status, rendered as one line on stderr.

    ``wscli: error: <what failed> (<where>): <what to try>``
    """

    exit_code = ExitStatus.CHECK_FAILED

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.where = where
        self.hint = hint

    def one_line(self) -> str:
        """The error as one terminal-safe line, with any URL in it redacted."""
        text = f"wscli: error: {self.message}"
        if self.where:
            text += f" ({self.where})"
        if self.hint:
            text += f": {self.hint}"
        return safe_line(text)

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        try:
            stream.write(self.one_line() + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


class CheckFailed(WscliError):
    """A check the user asked for did not pass (invalid messages, expectation not met)."""

    exit_code = ExitStatus.CHECK_FAILED


class BadUsage(WscliError):
    """Options that cannot work together, a file that cannot be read, a bad schema."""

    exit_code = ExitStatus.USAGE


class ConnectionRefused(WscliError):
    """Nothing accepted the TCP connection, or the host could not be reached."""

    exit_code = ExitStatus.REFUSED


class NameResolutionFailed(WscliError):
    """DNS (or /etc/hosts) could not turn the host name into an address."""

    exit_code = ExitStatus.NAME_RESOLUTION


class TLSFailure(WscliError):
    """The TLS handshake failed: certificate verification, protocol mismatch."""

    exit_code = ExitStatus.TLS


class HandshakeRejected(WscliError):
    """The server answered the HTTP upgrade with a status other than 101."""

    exit_code = ExitStatus.HANDSHAKE

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, where=where, hint=hint)
        self.status = status


class TimedOut(WscliError):
    """A deadline passed: connect, idle, or not enough messages in time.

    ``reason`` says which, for machine-readable reports (issue #7): a plain
    ``TimedOut`` is a connect timeout; the idle and ``--duration`` deadlines
    name theirs (see :mod:`wscli.endings`).
    """

    exit_code = ExitStatus.TIMEOUT

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        reason: str = "connect_timeout",
    ) -> None:
        super().__init__(message, where=where, hint=hint)
        self.reason = reason


class ConnectionLost(WscliError):
    """The connection dropped, closed abnormally, or broke the protocol."""

    exit_code = ExitStatus.CONNECTION_LOST

    def __init__(
        self,
        message: str,
        *,
        close_code: int | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, where=where, hint=hint)
        self.close_code = close_code


class WriteFailed(BadUsage):
    """The system refused a write: stdout, a report or a recording (full disk, read-only).

    Exit 2 like other problems the user fixes on their side, never "a bug in wscli";
    built by :func:`wscli.output.files.write_failed` so every writer words it alike.
    """


_HINTS = {
    errno.ENOSPC: "free some space or write somewhere else",
    errno.EDQUOT: "free some space or write somewhere else",
    errno.EFBIG: "the file is too large for this file system: write somewhere else",
    errno.EROFS: "the file system is read-only: write somewhere else",
    errno.EACCES: "check the permissions, or write somewhere else",
    errno.EPERM: "check the permissions, or write somewhere else",
    errno.ENOENT: "create the folder first",
    errno.EISDIR: "give a file name, not a folder",
}


def describe_os_error(exc: OSError) -> str:
    """``no space left on device``: the system's words, as the rest of a wscli line."""
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def write_failed(target: str, exc: OSError, *, hint: str | None = None) -> WriteFailed:
    """The one-line error (exit 2) for a write to ``target`` that the system refused.

    ``target`` names what was written, as the user gave it: ``stdout``,
    ``--junit report.xml``, ``recording session.jsonl``.
    """
    if hint is None and exc.errno is not None:
        hint = _HINTS.get(exc.errno)
    return WriteFailed(f"cannot write to {target}: {describe_os_error(exc)}", hint=hint)
