"""Everything wscli prints: terminal policy, message lines, summaries.

The only module that imports rich, and only inside functions: JSON Lines output
never pays for it. Terminal facts live in one :class:`Output` that tests build
with ``is_tty=True/False`` instead of faking terminals (httpie's Environment).
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from wscli.filters import MISSING, get_field
from wscli.frames import escape, hex_preview

if TYPE_CHECKING:
    from rich.console import Console

    from wscli.schema import Problem

MODES = ("auto", "pretty", "jsonl", "raw")


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

    @property
    def emoji(self) -> bool:
        return self.is_tty

    @cached_property
    def err_console(self) -> Console:
        """rich console for stderr diagnostics (tables, coloured notes)."""
        from rich.console import Console

        return Console(
            file=self.err,
            force_terminal=True if self.color_choice == "always" else None,
            no_color=self.color_choice == "never" or None,
            highlight=False,
            soft_wrap=True,
        )

    # -- writing -----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        self.out.write(data)

    def flush(self) -> None:
        self.out.flush()

    def note(self, text: str) -> None:
        """One diagnostic line on stderr, terminal-safe."""
        try:
            self.err.write(escape(text) + "\n")
            self.err.flush()
        except (BrokenPipeError, ValueError):
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


MESSAGE_STYLES = {
    "time": "dim",
    "sensor_reading": "green",
    "sensor_status": "cyan",
    "error": "bold red",
    "other": "magenta",
    "value": "bold",
    "invalid": "bold red",
    "malformed": "yellow",
    "binary": "blue",
}


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class MessageRenderer:
    """Writes one line per message in the chosen mode (pretty, jsonl or raw)."""

    def __init__(
        self, output: Output, mode: str, *, field_path: tuple[str | int, ...] | None = None
    ) -> None:
        self.output = output
        self.mode = output.resolve_mode(mode)
        self.field_path = field_path
        self.write = output.write
        self.styles = AnsiStyles(MESSAGE_STYLES, output.color and self.mode == "pretty")
        self.bad_mark = "✗" if output.emoji else "INVALID"
        self.warn_mark = "⚠" if output.emoji else "MALFORMED"

    # -- data messages -----------------------------------------------------------------
    def message(self, data: bytes, obj: Any, problems: list[Problem] | None = None) -> bool:
        """Render a parsed JSON message; False when ``--field`` found nothing to print."""
        if self.field_path is not None:
            return self._field(obj)
        mode = self.mode
        if mode == "jsonl":
            if b"\n" in data:
                data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
            self.write(data + b"\n")
        elif mode == "raw":
            self.write(data + b"\n")
        else:
            self.write(self._pretty(obj, problems).encode("utf-8", "replace") + b"\n")
        return True

    def _field(self, obj: Any) -> bool:
        value = get_field(obj, self.field_path or ())
        if value is MISSING:
            return False
        if self.mode != "jsonl" and isinstance(value, str):
            line = escape(value) if self.mode == "pretty" else value
        else:
            line = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        self.write(line.encode("utf-8", "replace") + b"\n")
        return True

    def malformed(self, data: bytes, reason: str) -> None:
        """A text frame that is not JSON (or not UTF-8): shown, never dropped."""
        if self.field_path is not None:
            return
        text = data.decode("utf-8", errors="replace")
        if self.mode == "jsonl":
            record = {"malformed": reason, "text": text}
            self.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
        elif self.mode == "raw":
            self.write(data + b"\n")
        else:
            s = self.styles
            line = f"{s('time', _clock())}  {s('malformed', self.warn_mark + ' ' + reason)}  "
            self.write((line + escape(text)).encode("utf-8", "replace") + b"\n")

    def binary(self, data: bytes) -> None:
        """Binary frames: elided hex on a terminal, base64 in JSON Lines, bytes in raw."""
        if self.field_path is not None:
            return
        if self.mode == "jsonl":
            record = {"binary": True, "len": len(data), "b64": base64.b64encode(data).decode()}
            self.write(json.dumps(record).encode() + b"\n")
        elif self.mode == "raw":
            self.write(data)
        else:
            s = self.styles
            head = s("binary", f"(binary {len(data)} B)")
            self.write(f"{s('time', _clock())}  {head} {hex_preview(data)}\n".encode())

    # -- pretty ------------------------------------------------------------------------
    def _pretty(self, obj: Any, problems: list[Problem] | None) -> str:
        s = self.styles
        line = f"{s('time', _clock())}  " + self._describe(obj)
        if problems:
            first = problems[0]
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            where = first.path or "/"
            line += "  " + s("invalid", f"{self.bad_mark} {where}: {escape(first.reason)}{more}")
        return line

    def _describe(self, obj: Any) -> str:
        s = self.styles
        kind = obj.get("type") if isinstance(obj, dict) else None
        data = obj.get("data") if isinstance(obj, dict) else None
        if not isinstance(kind, str) or not isinstance(data, dict):
            compact = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            return s("other", escape(compact))
        label = s(kind if kind in MESSAGE_STYLES else "other", f"{escape(kind):<15}")
        if kind == "sensor_reading":
            where = escape(str(data.get("location", "?")))
            what = escape(str(data.get("type", "?")))
            value = s("value", f"{escape(_num(data.get('value', '?'))):>8}")
            unit = f"{escape(str(data.get('unit', ''))):<5}"
            tail = f"sensor {escape(str(data.get('sensor_id', '?')))}"
            if "confidence" in data:
                tail += f"  conf {escape(_num(data['confidence']))}"
            return f"{label} {where:<14} {what:<16} {value} {unit}  {tail}"
        if kind == "sensor_status":
            state = s("value", escape(str(data.get("state", "?"))))
            where = escape(str(data.get("location", "")))
            sensor = f"sensor {escape(str(data.get('sensor_id', '?')))}"
            text = f"{label} {where:<14} {sensor} {state}"
            if data.get("message"):
                text += f"  {escape(str(data['message']))}"
            return text
        if kind == "error":
            code = data.get("code")
            prefix = f"{escape(str(code))}: " if code not in (None, "") else ""
            return f"{label} {prefix}{escape(str(data.get('message', '')))}"
        compact = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f"{label} {escape(compact)}"


def _clock() -> str:
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


@dataclass
class StreamStats:
    """What ``--stats`` and the Ctrl-C summary report."""

    started: float = field(default_factory=time.monotonic)
    total: int = 0
    shown: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    malformed: int = 0
    binary: int = 0
    reconnects: int = 0
    last_message_at: float | None = None  # wall clock

    def uptime(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        elapsed = self.uptime()
        return self.total / elapsed if elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.total,
            "shown": self.shown,
            "by_type": dict(self.by_type),
            "invalid": self.invalid,
            "malformed": self.malformed,
            "binary": self.binary,
            "reconnects": self.reconnects,
            "uptime_s": round(self.uptime(), 3),
            "rate_per_s": round(self.rate(), 1),
            "last_message_at": (
                datetime.fromtimestamp(self.last_message_at).astimezone().isoformat()
                if self.last_message_at
                else None
            ),
        }

    def one_line(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in self.by_type.most_common())
        line = f"{self.total} messages in {self.uptime():.1f} s ({self.rate():.1f}/s)"
        if kinds:
            line += f": {kinds}"
        extras = [
            f"{label} {value}"
            for label, value in (
                ("invalid", self.invalid),
                ("malformed", self.malformed),
                ("binary", self.binary),
                ("reconnects", self.reconnects),
            )
            if value
        ]
        if extras:
            line += "; " + ", ".join(extras)
        return line


def print_stats_table(output: Output, stats: StreamStats) -> None:
    """The ``--stats`` summary as a rich table on stderr."""
    from rich.table import Table

    table = Table(title="wscli tail", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("messages", str(stats.total))
    for kind, count in stats.by_type.most_common():
        table.add_row(f"  {escape(kind)}", str(count))
    table.add_row("shown", str(stats.shown))
    table.add_row("rate", f"{stats.rate():.1f} msg/s")
    table.add_row("uptime", f"{stats.uptime():.1f} s")
    table.add_row("reconnects", str(stats.reconnects))
    table.add_row("invalid", str(stats.invalid))
    table.add_row("malformed", str(stats.malformed))
    if stats.binary:
        table.add_row("binary", str(stats.binary))
    last = (
        datetime.fromtimestamp(stats.last_message_at).strftime("%H:%M:%S.%f")[:-3]
        if stats.last_message_at
        else "-"
    )
    table.add_row("last message", last)
    try:
        output.err_console.print(table)
    except (BrokenPipeError, ValueError):
        pass
