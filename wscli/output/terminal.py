"""Where wscli's output goes and how it may look: the terminal policy.

One :class:`Output` holds the terminal facts (TTY or pipe, colour, ``NO_COLOR``,
width, emoji) so tests build it with ``is_tty=True/False`` instead of faking
terminals (httpie's Environment); stdout is buffered, flushed before every wait,
and a closed pipe or a full disk becomes one line, never a traceback. rich is
imported only inside functions: JSON Lines output never pays for it.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, cast

from wscli.frames import escape
from wscli.output.clock import Clock
from wscli.output.layout import cells, cut

if TYPE_CHECKING:
    from rich.console import Console


MODES = ("auto", "pretty", "jsonl", "raw")
MODE_ALIASES = {"json": "jsonl"}  # `tail -o json` means JSON Lines (issue #10)
WIDE_LAYOUT = 100  # columns a reading takes in the padded layout, with sensor and conf
STDOUT_BUFFER = 256 * 1024  # stdout held between flushes when batching (Output.batch)


def env_columns(env: Mapping[str, str]) -> int | None:
    """``$COLUMNS`` when it is a positive number: the user's word beats the terminal's."""
    try:
        columns = int(env.get("COLUMNS", ""))
    except ValueError:
        return None
    return columns if columns > 0 else None


def stream_columns(stream: Any) -> int | None:
    """The width of the terminal ``stream`` itself is on, or None.

    Not ``shutil.get_terminal_size``: it measures ``sys.__stdout__``, which is a
    pipe in ``wscli tail -v | jq`` while stderr, where ``-v`` writes, is the terminal.
    """
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return None


class Output:
    """Where data and diagnostics go, and how they may look there."""

    def __init__(
        self,
        *,
        stdout: IO[bytes] | None = None,
        stderr: IO[str] | None = None,
        is_tty: bool | None = None,
        err_is_tty: bool | None = None,
        color: str = "auto",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.out: IO[bytes] = stdout if stdout is not None else _buffered_stdout()
        self.err: IO[str] = stderr if stderr is not None else sys.stderr
        self.is_tty = _isatty(self.out) if is_tty is None else is_tty
        self.err_is_tty = _isatty(self.err) if err_is_tty is None else err_is_tty
        self.env = os.environ if env is None else env
        self.color_choice = color
        self.clock = Clock()
        self._status_cells = 0
        # A closed stdout (`| head`) ends tail-like commands quietly, exit 0; a command
        # with a verdict (validate) keeps checking and keeps its exit status (issue #6).
        self.stop_on_closed_pipe = True
        self.stdout_closed = False
        self._before_flush: Callable[[], None] | None = None

    # -- policy ------------------------------------------------------------------------
    def resolve_mode(self, requested: str) -> str:
        """``auto`` is pretty on a terminal and JSON Lines anywhere else."""
        if requested == "auto":
            return "pretty" if self.is_tty else "jsonl"
        return requested

    @cached_property
    def color(self) -> bool:
        if self.color_choice == "never" or "NO_COLOR" in self.env and self.env["NO_COLOR"]:
            return False
        if self.color_choice == "always":
            return True
        return self.is_tty and self.env.get("TERM") != "dumb"

    @cached_property
    def err_color(self) -> bool:
        """The same policy for stderr: any styling at all (bold and dim too), or none."""
        if self.color_choice == "never" or "NO_COLOR" in self.env and self.env["NO_COLOR"]:
            return False
        if self.color_choice == "always":
            return True
        return self.err_is_tty and self.env.get("TERM") != "dumb"

    @cached_property
    def width(self) -> int | None:
        """Columns for pretty lines: ``$COLUMNS``, else the terminal's; None off a terminal."""
        columns = env_columns(self.env)
        if columns or not self.is_tty:
            return columns
        return stream_columns(self.out)

    @cached_property
    def err_width(self) -> int | None:
        """Columns of the terminal stderr is on (``$COLUMNS`` first); None off a terminal."""
        if not self.err_is_tty:
            return None
        return env_columns(self.env) or stream_columns(self.err)

    @property
    def emoji(self) -> bool:
        return self.is_tty

    @cached_property
    def err_console(self) -> Console:
        """rich console for stderr diagnostics (tables, coloured notes).

        ``color_system=None`` when styling is off: ``no_color`` alone still lets
        bold and italic through (issue #10). Markup and emoji codes are off: server
        text is never markup (issue #6), so a message type of ``[/]`` or
        ``[link=https://evil/]`` stays literal wherever a string reaches this
        console; wscli styles with ``Text``/``Style`` objects.
        """
        from rich.console import Console

        if not self.err_color:
            return Console(
                file=self.err,
                color_system=None,
                highlight=False,
                soft_wrap=True,
                markup=False,
                emoji=False,
            )
        return Console(
            file=self.err,
            force_terminal=True if self.color_choice == "always" else None,
            highlight=False,
            soft_wrap=True,
            markup=False,
            emoji=False,
        )

    # -- writing -----------------------------------------------------------------------
    def keep_verdict_on_closed_pipe(self) -> None:
        """After stdout closes, drop further output instead of ending the run."""
        self.stop_on_closed_pipe = False

    def write(self, data: bytes) -> None:
        try:
            self.out.write(data)
        except OSError as exc:
            self._write_error(exc)

    def flush(self) -> None:
        """stdout's held lines to the kernel; what :meth:`batch` names goes first."""
        if self._before_flush is not None:
            self._before_flush()
        try:
            self.out.flush()
        except OSError as exc:
            self._write_error(exc, flushing=True)

    def batch(self, before: Callable[[], None] | None = None) -> None:
        """Hold stdout in a large buffer between flushes: a ``write(2)`` per batch.

        ``tail`` flushes before each wait for the network and at least every 50 ms;
        in between, lines gather here instead of in the interpreter's 8 KiB buffer.

        ``before`` runs at every flush and ahead of each ``write(2)`` to stdout, whether
        :meth:`flush` asked for it or the buffer filled up between two flushes. That is
        ``tail --record``'s promise (issue #21): with the recording's flush there, every
        message printed is already in the recording, even after SIGKILL, while both
        are written in batches.
        """
        self.flush()
        self._before_flush = before
        target: IO[bytes] = self.out
        try:  # straight to the file descriptor, past the old buffer (empty now)
            target = io.FileIO(self.out.fileno(), "wb", closefd=False)
        except (AttributeError, OSError, ValueError):
            pass  # not a file (a test's BytesIO): written through
        self.out = io.BufferedWriter(_WriteThrough(target, before), buffer_size=STDOUT_BUFFER)

    def _write_error(self, exc: OSError, *, flushing: bool = False) -> None:
        """A closed pipe ends quietly or is ignored; any other failure is one line, exit 2.

        Either way stdout is swapped for a sink first, so summaries and the final
        flush cannot fail a second time. A closed pipe found by a flush (which may
        run inside the network read, see ``before_block``) is raised by the next
        write instead, in the command's own loop.
        """
        if isinstance(exc, BrokenPipeError):
            self.stdout_closed = True
            _point_stdout_at_devnull()
            if not self.stop_on_closed_pipe:
                self.out = cast("IO[bytes]", _Discard())
                return
            self.out = cast("IO[bytes]", _Closed())
            if flushing:
                return
            raise exc
        from wscli.output.files import write_failed

        self.out = cast("IO[bytes]", _Discard())
        _point_stdout_at_devnull()
        raise write_failed("stdout", exc) from exc

    def note(self, text: str) -> None:
        """One diagnostic line on stderr, terminal-safe."""
        try:
            self.err.write(escape(text) + "\n")
            self.err.flush()
        except (BrokenPipeError, ValueError):
            pass

    def begin_status(self, text: str) -> None:
        """A dim, transient stderr line (``connecting to HOST:PORT...``), on a terminal only."""
        if not self.err_is_tty:
            return
        text = self._one_row(escape(text))
        self._status_cells = cells(text)
        self._err_write(self._dim(text))

    def end_status(self, text: str | None = None) -> None:
        """Replace the transient line with ``text`` (kept), or erase it (``None``)."""
        if not self._status_cells:
            return
        shown = self._one_row(escape(text)) if text else ""
        pad = " " * max(0, self._status_cells - cells(shown))
        # Overwritten with spaces, not an erase-line code: no escape codes without colour.
        self._err_write("\r" + (self._dim(shown) if shown else "") + pad + ("\n" if text else "\r"))
        self._status_cells = 0

    def _one_row(self, text: str) -> str:
        """A status line never wraps: ``\r`` only rewinds one row, so a wrapped
        ``connecting to ...`` would stay on screen above ``connected``."""
        width = self.err_width
        return cut(text, width - 1) if width else text

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.err_color else text

    def _err_write(self, text: str) -> None:
        try:
            self.err.write(text)
            self.err.flush()
        except (BrokenPipeError, ValueError):
            pass


class _WriteThrough(io.RawIOBase):
    """The raw writer under :meth:`Output.batch`'s buffer: runs ``before``, then writes.

    Closing it (the buffer being collected) leaves the target open: it is stdout.
    """

    def __init__(self, target: IO[bytes], before: Callable[[], None] | None) -> None:
        super().__init__()
        self.target = target
        self.before = before

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int | None:
        if self.before is not None:
            self.before()
        # None from a non-blocking stdout means "would block": the buffer above says so.
        return self.target.write(data)

    def fileno(self) -> int:
        return self.target.fileno()


class _Discard(io.RawIOBase):
    """Where output goes once stdout has failed: nowhere, without complaint."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


class _Closed(_Discard):
    """stdout after `| head` closed it, for commands that stop there (tail)."""

    def write(self, data: Any) -> int:
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")


def _point_stdout_at_devnull() -> None:
    """So the interpreter's last flush of ``sys.stdout`` cannot fail either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _buffered_stdout() -> IO[bytes]:
    """stdout's bytes, buffered even under PYTHONUNBUFFERED (one write per message
    otherwise); wscli flushes before every wait on the network, so a quiet stream
    is never held back."""
    out = sys.stdout.buffer
    if isinstance(out, io.RawIOBase):
        raw = io.FileIO(out.fileno(), "wb", closefd=False)
        return io.BufferedWriter(raw, buffer_size=64 * 1024)
    return out


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class AnsiStyles:
    """ANSI prefixes rendered once by rich; per line we only concatenate strings.

    rich's ``Console.print`` costs ~1 ms a line with markup and highlighting; a
    stream needs thousands of lines a second, so styles are rendered up front and
    disabled styling is plain text.
    """

    def __init__(self, names: Mapping[str, str], enabled: bool) -> None:
        self.names = names
        self.codes: dict[str, tuple[str, str]] = {}
        if not enabled:
            return
        from rich.color import ColorSystem
        from rich.style import Style

        for name, spec in names.items():
            rendered = Style.parse(spec).render("\0", color_system=ColorSystem.STANDARD)
            before, _, after = rendered.partition("\0")
            self.codes[name] = (before, after)

    def __call__(self, name: str, text: str) -> str:
        codes = self.codes.get(name)
        return f"{codes[0]}{text}{codes[1]}" if codes else text
