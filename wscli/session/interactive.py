"""``wscli connect`` on a terminal: a prompt at the bottom, frames printed above it.

The only module that imports prompt_toolkit, and only inside functions, so
``--help`` and scripted use never pay for it. :class:`AbovePrompt` draws every
line from the receiver thread above the prompt, so a half-typed line is redrawn
intact after each frame instead of being garbled, and no line is ever dropped.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from wscli.errors import BadUsage, WscliError, interrupt_status
from wscli.frames import OP_BINARY, OP_TEXT, OPCODE_NAMES, escape, hex_preview, human_bytes
from wscli.net.conversation import CLOSE_WAIT, Conversation, Event, Received

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from wscli.net.tap import Tap
    from wscli.net.target import ConnectOptions
    from wscli.recording import RecordingWriter

HELP = """\
  /ping [DATA]            ping, and print the round trip
  /close [CODE] [REASON]  close (default 1000) and quit
  /binary HEX             send a binary frame, e.g. /binary 0a ff
  /send-file PATH         send a file as one frame (text if UTF-8, else binary)
  /quit                   close with 1000 and quit (also Ctrl-D)
  /help                   this list
  //TEXT                  send /TEXT
  Ctrl-C clears the line; at an empty prompt it quits."""


class AbovePrompt:
    """The terminal's lines, drawn above a running prompt and never dropped.

    prompt_toolkit's ``patch_stdout`` hands each write to the running prompt's
    event loop and forgets it. When the prompt ends at that moment (the receiver
    ends it as soon as the server closes, which can be right after the upgrade),
    the loop closes with the write still queued, and the session's last message
    and its close line are lost. Here a line leaves the queue only in the act of
    being written: inside the prompt's loop (``run_in_terminal``) while a prompt
    runs, directly otherwise, and the prompt thread writes whatever is left
    whenever a prompt ends (:meth:`flush`).
    """

    def __init__(self, session: PromptSession[str], stream: IO[str]) -> None:
        self.session = session
        self.stream = stream
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._scheduled = False  # a run_in_terminal is on its way (touched in the loop only)

    def write(self, text: str) -> None:
        """Queue ``text``, then have it written now; safe from any thread."""
        with self._lock:
            self._pending.append(text)
        app = self.session.app
        loop = app.loop
        if app.is_running and loop is not None:
            try:
                loop.call_soon_threadsafe(self._flush_in_prompt)
            except RuntimeError:  # that prompt's loop closed meanwhile: write it here
                pass
            else:
                return  # written in the loop, or by flush() once that prompt ends
        self.flush()

    def flush(self) -> None:
        """Write every queued line, in order (any thread; in the loop, inside run_in_terminal)."""
        with self._lock:
            text = "".join(self._pending)
            self._pending.clear()
            if text:
                try:
                    self.stream.write(text)
                    self.stream.flush()
                except (BrokenPipeError, ValueError):
                    pass  # the terminal is gone: nothing left to show it to

    def prompt_started(self) -> None:
        """``pre_run`` of every prompt: a run_in_terminal of an earlier loop is void."""
        self._scheduled = False
        self._flush_in_prompt()

    def _flush_in_prompt(self) -> None:
        """In the prompt's loop: erase the prompt, write the queue, redraw the prompt."""
        if self._scheduled or not self._pending:
            return
        import asyncio

        from prompt_toolkit.application import run_in_terminal

        self._scheduled = True
        done = asyncio.ensure_future(run_in_terminal(self.flush))
        done.add_done_callback(self._unscheduled)

    def _unscheduled(self, _: object) -> None:
        self._scheduled = False


class FramePrinter:
    """One line (or an indented block with ``--pretty``) per frame: time, direction, opcode."""

    def __init__(
        self, *, pretty: bool, color: bool, emoji: bool, write: Callable[[str], None]
    ) -> None:
        self.pretty = pretty
        self.color = color
        self.marks = {"in": "📥", "out": "📤"} if emoji else {"in": "<", "out": ">"}
        self.write = write

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        head = f"{self._dim(stamp)} {self.marks[direction]} {OPCODE_NAMES.get(opcode, opcode)}"
        self.line(f"{head}  {self.body(opcode, payload)}")

    def body(self, opcode: int, payload: bytes) -> str:
        if opcode == OP_BINARY:
            return f"({human_bytes(len(payload))}) {hex_preview(payload)}"
        text = payload.decode("utf-8", "replace")
        if self.pretty:
            try:
                obj = json.loads(text)
            except ValueError:
                pass
            else:
                lines = json.dumps(obj, indent=2, ensure_ascii=False).splitlines()
                return "\n".join(escape(line) for line in lines)
        return escape(text)

    def note(self, text: str) -> None:
        self.line(self._dim(escape(text)))


class PromptLoop:
    """Reads lines at the prompt and turns them into frames and commands."""

    def __init__(
        self,
        conversation: Conversation,
        printer: FramePrinter,
        session: PromptSession[str],
        terminal: AbovePrompt,
        max_size: int | None,
    ) -> None:
        self.conversation = conversation
        self.printer = printer
        self.session = session
        self.terminal = terminal
        self.max_size = max_size
        self.pings = 0
        self.commands: dict[str, Callable[[str], bool]] = {
            "/ping": self._ping,
            "/close": self._close,
            "/binary": self._binary,
            "/send-file": self._send_file,
            "/quit": self._quit,
            "/exit": self._quit,
            "/help": self._help,
        }

    # -- receiver thread side --------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if isinstance(event, Received):
            self.printer.frame("in", event.opcode, event.payload)
            return
        if event.error is None:
            who = "closed" if event.by_us else "server closed the connection"
            self.printer.note(f"wscli: {who}: {event.describe()}")
        self._wake_prompt()

    def on_pong(self, payload: bytes, rtt: float | None) -> None:
        if rtt is not None:
            shown = escape(payload.decode("utf-8", "replace"))
            self.printer.note(f"pong {shown!s}: round trip {rtt * 1000:.2f} ms")

    def _wake_prompt(self) -> None:
        """End the running prompt from the receiver thread (prompt_toolkit's loop owns it)."""
        app = self.session.app
        loop = app.loop
        if app.is_running and loop is not None:
            try:
                loop.call_soon_threadsafe(self._exit_prompt)
            except RuntimeError:
                pass  # that prompt's loop closed meanwhile; the next one sees ``ended``

    def _exit_prompt(self) -> None:
        app = self.session.app
        if app.is_running and app.future is not None and not app.future.done():
            app.exit()

    # -- prompt thread side ----------------------------------------------------------
    def run(self) -> None:
        """Prompt until the conversation ends; Ctrl-D closes 1000, Ctrl-C quits 130."""
        conversation = self.conversation
        while conversation.ended is None:
            try:
                try:
                    line = self.session.prompt("> ", pre_run=self._prompt_started)
                finally:
                    self.terminal.flush()  # what that prompt's loop had no time to write
            except EOFError:
                conversation.close(1000)
                break
            except KeyboardInterrupt as exc:
                conversation.close(1000, timeout=1.0)
                raise click.exceptions.Exit(interrupt_status(exc)) from None
            if line is None:
                break
            if not self.handle(line):
                break

    def _prompt_started(self) -> None:
        self.terminal.prompt_started()
        if self.conversation.ended is not None:
            self._exit_prompt()

    def handle(self, line: str) -> bool:
        """Act on one line; False ends the session."""
        if line.startswith("/") and not line.startswith("//"):
            name, _, rest = line.partition(" ")
            command = self.commands.get(name)
            if command is None:
                self.printer.note(f"unknown command {name}: /help lists them; //TEXT sends /TEXT")
                return True
            try:
                return command(rest.strip())
            except BadUsage as exc:
                self.printer.note(f"wscli: {exc.message}")
                return True
        text = line[1:] if line.startswith("//") else line
        return self._send(OP_TEXT, text.encode("utf-8"))

    def _send(self, opcode: int, payload: bytes) -> bool:
        try:
            self.conversation.send(opcode, payload)
        except WscliError:
            return False  # the receiver reports how it ended
        return True

    def _ping(self, rest: str) -> bool:
        self.pings += 1
        payload = rest.encode("utf-8") if rest else f"wscli-{self.pings}".encode()
        if len(payload) > 125:
            raise BadUsage("ping data is limited to 125 bytes (RFC 6455 section 5.5)")
        try:
            self.conversation.ping(payload)
        except WscliError:
            return False
        return True

    def _close(self, rest: str) -> bool:
        raw_code, _, reason = rest.partition(" ")
        code = 1000
        if raw_code:
            try:
                code = int(raw_code)
            except ValueError:
                raise BadUsage(f"close code {raw_code!r} is not a number") from None
        if not (
            code == 1000 or 1001 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code < 5000
        ):
            raise BadUsage(f"close code {code} cannot be sent: use 1000 or 3000-4999")
        if len(reason.encode()) > 123:
            raise BadUsage("close reason is limited to 123 bytes")
        self.conversation.close(code, reason)
        return False

    def _binary(self, rest: str) -> bool:
        try:
            payload = bytes.fromhex(rest.replace(" ", "").replace(":", ""))
        except ValueError:
            raise BadUsage(f"not hex: {rest!r} (write e.g. /binary 0a ff)") from None
        if self._send(OP_BINARY, payload):
            self.printer.frame("out", OP_BINARY, payload)
            return True
        return False

    def _send_file(self, rest: str) -> bool:
        if not rest:
            raise BadUsage("/send-file needs a PATH")
        path = Path(rest).expanduser()
        try:
            size = path.stat().st_size
            if self.max_size is not None and size > self.max_size:
                raise BadUsage(f"{rest} is {human_bytes(size)}, over --max-size")
            payload = path.read_bytes()
        except OSError as exc:
            raise BadUsage(f"cannot read {rest}: {exc.strerror or exc}") from None
        try:
            payload.decode("utf-8")
            opcode = OP_TEXT
        except UnicodeDecodeError:
            opcode = OP_BINARY
        if self._send(opcode, payload):
            name = OPCODE_NAMES[opcode]
            self.printer.note(f"sent {rest} as one {name} frame ({human_bytes(len(payload))})")
            return True
        return False

    def _quit(self, rest: str) -> bool:
        self.conversation.close(1000)
        return False

    def _help(self, rest: str) -> bool:
        self.printer.line(HELP)
        return True


HISTORY_MODE = 0o600  # what was typed can hold tokens: for the user's eyes only


def history_file() -> Path | None:
    """``connect_history`` under the user's state directory, or None when unusable.

    Created 0600 whatever the umask, and an older one readable by others is
    tightened: lines typed at the prompt can carry tokens and passwords.
    """
    import os
    import stat

    try:
        from platformdirs import user_state_path

        folder = user_state_path("wscli", appauthor=False)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "connect_history"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, HISTORY_MODE))
        if stat.S_IMODE(path.stat().st_mode) & ~HISTORY_MODE:
            path.chmod(HISTORY_MODE)
        return path
    except OSError:
        return None  # an unwritable or foreign file: the session keeps history in memory


def _key_bindings() -> Any:
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("c-c")
    def _interrupt(event: Any) -> None:
        """Ctrl-C clears a typed line; at an empty prompt it quits (like a shell)."""
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    return bindings


def run_interactive(
    conn: ConnectOptions,
    tap: Tap,
    *,
    recorder: RecordingWriter | None,
    pretty: bool,
    color: str,
    history: bool,
) -> None:
    """Run the prompt session; raises the connection's error when it ends badly."""
    import os

    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    no_color = color == "never" or bool(os.environ.get("NO_COLOR"))
    path = history_file() if history else None
    store: History = FileHistory(str(path)) if path is not None else InMemoryHistory()
    session: PromptSession[str] = PromptSession(history=store, key_bindings=_key_bindings())
    terminal = AbovePrompt(session, sys.stdout)
    printer = FramePrinter(pretty=pretty, color=not no_color, emoji=True, write=terminal.write)
    conversation = Conversation(conn, tap, recorder=recorder)
    loop = PromptLoop(conversation, printer, session, terminal, conn.max_size)
    conversation.on_pong = loop.on_pong
    try:
        conversation.open(
            loop.on_event,
            on_open=lambda: printer.note(
                f"connected to {tap.redactor.url(conn.url)} (/help for commands, Ctrl-D to close)"
            ),
        )
        loop.run()
        # The receiver prints how the session ended (its sink runs before ``finished``).
        conversation.finished.wait(CLOSE_WAIT)
    finally:
        conversation.shutdown()
        terminal.flush()
    ended = conversation.ended
    if ended is not None and ended.error is not None and not ended.by_us:
        raise ended.error
