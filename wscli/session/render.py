"""What wscli prints: message lines, summaries and the --stats table.

With :mod:`wscli.output.terminal` (the terminal policy), the only modules that import
rich, and only inside functions: JSON Lines output never pays for it.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wscli.filters import MISSING, get_field
from wscli.frames import escape, hex_preview
from wscli.output.clock import rfc3339
from wscli.output.layout import DecimalColumn, cells, cut, wrap
from wscli.output.terminal import MODE_ALIASES, WIDE_LAYOUT, AnsiStyles, Output

if TYPE_CHECKING:
    from wscli.checks.schema import Problem

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


HUGE = 1 << 20  # bytes: a message this large is written without a copy
_LONG_NUMBER = re.compile(rb"\d{19}")  # orjson reads integers past 64 bits as floats


def one_line(data: bytes) -> bytes:
    """A JSON text compacted onto one line, every value untouched (issue #6).

    Whitespace outside strings is dropped and strings are copied as they are: no
    number is re-read (``12345678901234567890123`` stays itself, where a round trip
    through a parser made it ``1.2345678901234568e+22``) and no string re-escaped.
    Only called on text that already parsed as JSON, so strings are well formed.
    """
    return _JSON_SPACE.sub(_keep_strings, data)


_JSON_SPACE = re.compile(rb'("(?:[^"\\]+|\\.)*")|[ \t\r\n]+')


def _keep_strings(match: re.Match[bytes]) -> bytes:
    return match.group(1) or b""


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class MessageRenderer:
    """Writes one line per message in the chosen mode (pretty, jsonl or raw).

    Pretty lines fit ``output.width`` (cut with an ellipsis; a validation problem
    wraps onto indented lines below), numbers line up on the decimal point, and
    times follow ``output.clock``. ``received_at`` wraps each JSON Lines record as
    ``{"received_at": RFC 3339 UTC, "message": ...}``, the message unchanged.
    """

    def __init__(
        self,
        output: Output,
        mode: str,
        *,
        field_path: tuple[str | int, ...] | None = None,
        received_at: bool = False,
    ) -> None:
        self.output = output
        self.mode = output.resolve_mode(MODE_ALIASES.get(mode, mode))
        self.field_path = field_path
        self.received_at = received_at and self.mode == "jsonl"
        self.write = output.write
        self.styles = AnsiStyles(MESSAGE_STYLES, output.color and self.mode == "pretty")
        self.field_seen = False
        self.field_warned = False
        self.bad_mark = "✗" if output.emoji else "INVALID"
        self.warn_mark = "⚠" if output.emoji else "MALFORMED"
        self.width = output.width if self.mode == "pretty" else None
        self.narrow = self.width is not None and self.width < WIDE_LAYOUT
        self.clock = output.clock
        self.value_column = DecimalColumn(4, 3)
        self.conf_column = DecimalColumn(1, 3)
        if self.mode == "jsonl" and field_path is None and not self.received_at:
            self.message = self._jsonl_line  # type: ignore[method-assign]

    # -- data messages -----------------------------------------------------------------
    def message(self, data: bytes, obj: Any, problems: list[Problem] | None = None) -> bool:
        """Render a parsed JSON message; False when ``--field`` found nothing to print."""
        if self.field_path is not None:
            return self._field(obj, data)
        mode = self.mode
        if mode == "jsonl":
            if b"\n" in data or b"\r" in data:
                data = one_line(data)
            if self.received_at:
                data = b'{"received_at":"' + _received_at() + b'","message":' + data + b"}"
            self.write(data + b"\n")
        elif mode == "raw":
            self._write_line(data)
        else:
            self.write(self._pretty(obj, problems).encode("utf-8", "replace") + b"\n")
        return True

    def _write_line(self, data: bytes) -> None:
        """``data`` and a newline; a huge message is not copied just to add one."""
        if len(data) < HUGE:
            self.write(data + b"\n")
        else:
            self.write(data)
            self.write(b"\n")

    def _jsonl_line(self, data: bytes, obj: Any, problems: list[Problem] | None = None) -> bool:
        """:meth:`message` for plain JSON Lines (no --field, no --with-received-at), the
        commonest case on a fast stream: the same line without the checks per message."""
        if b"\n" in data or b"\r" in data:
            data = one_line(data)
        self._write_line(data)
        return True

    def _field(self, obj: Any, data: bytes = b"") -> bool:
        """The field's value; a message without it prints ``null`` (jq) or an empty line.

        Skipping such messages made ``--field data.nosuch -n 5`` wait forever in
        silence (issue #7); a warning names the path once if the first message
        lacks it, the usual sign of a typo.
        """
        value = get_field(obj, self.field_path or ())
        if value is MISSING:
            if not self.field_seen and not self.field_warned:
                self.field_warned = True
                self.output.note(
                    f"wscli: warning: --field {_path_text(self.field_path or ())}: not in the"
                    " first message; messages without it print "
                    + ("null" if self.mode == "jsonl" else "an empty line")
                )
            self.write(b"null\n" if self.mode == "jsonl" else b"\n")
            return True
        self.field_seen = True
        if isinstance(value, (float, list, dict)) and _LONG_NUMBER.search(data):
            value = get_field(json.loads(data), self.field_path or ())  # exact big integers
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
        if self.mode == "raw":
            self._write_line(data)
            return
        if self.mode == "jsonl":
            # {"malformed": ..., "text": ...} written in pieces: a huge frame's text is
            # escaped once (json.dumps of a lone string), never joined into a record.
            head = json.dumps(self._stamped({"malformed": reason}), ensure_ascii=False)
            text = json.dumps(data.decode("utf-8", "replace"), ensure_ascii=False)
            self.write(head[:-1].encode() + b', "text": ')
            for start in range(0, len(text), HUGE):  # encoded a piece at a time
                self.write(text[start : start + HUGE].encode())
            self.write(b"}\n")
            return
        text = data.decode("utf-8", errors="replace")
        line = self._fit(
            [
                ("time", self.clock.now()),
                (None, "  "),
                ("malformed", f"{self.warn_mark} {reason}"),
                (None, "  "),
                (None, escape(text)),
            ]
        )
        self.write(line.encode("utf-8", "replace") + b"\n")

    def binary(self, data: bytes) -> None:
        """Binary frames: elided hex on a terminal, base64 in JSON Lines, bytes in raw."""
        if self.field_path is not None:
            return
        if self.mode == "jsonl":
            record = {"binary": True, "len": len(data), "b64": base64.b64encode(data).decode()}
            self.write(json.dumps(self._stamped(record)).encode() + b"\n")
        elif self.mode == "raw":
            self.write(data)
        else:
            line = self._fit(
                [
                    ("time", self.clock.now()),
                    (None, "  "),
                    ("binary", f"(binary {len(data)} B)"),
                    (None, f" {hex_preview(data)}"),
                ]
            )
            self.write(line.encode() + b"\n")

    def _stamped(self, record: dict[str, Any]) -> dict[str, Any]:
        """wscli's own records (malformed, binary) carry ``received_at`` as a field."""
        if self.received_at:
            return {"received_at": _received_at().decode(), **record}
        return record

    # -- pretty ------------------------------------------------------------------------
    def _fit(self, parts: list[tuple[str | None, str]]) -> str:
        """Join styled parts, cut to the terminal width (visible columns, not bytes)."""
        s, width = self.styles, self.width
        if width is not None:
            parts = _shrink_names(parts, width)
        out: list[str] = []
        used = 0
        for name, text in parts:
            if width is not None:
                size = cells(text)
                if used + size > width:
                    text = cut(text, width - used)
                    out.append(s(name, text) if name else text)
                    break
                used += size
            out.append(s(name, text) if name else text)
        return "".join(out)

    def _pretty(self, obj: Any, problems: list[Problem] | None) -> str:
        parts: list[tuple[str | None, str]] = [("time", self.clock.now()), (None, "  ")]
        parts += self._describe(obj)
        if not problems:
            return self._fit(parts)
        first = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        detail = f"{self.bad_mark} {first.path or '/'}: {escape(first.reason)}{more}"
        width = self.width
        if width is None or sum(cells(text) for _, text in parts) + 2 + cells(detail) <= width:
            return self._fit([*parts, (None, "  "), ("invalid", detail)])
        # Too long for one line: the message is cut, the problem wraps below it, indented.
        indent = "    "
        lines = [self._fit(parts)]
        lines += [indent + self.styles("invalid", chunk) for chunk in wrap(detail, width - 4)]
        return "\n".join(lines)

    def _describe(self, obj: Any) -> list[tuple[str | None, str]]:
        kind = obj.get("type") if isinstance(obj, dict) else None
        data = obj.get("data") if isinstance(obj, dict) else None
        if not isinstance(kind, str) or not isinstance(data, dict):
            compact = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            return [("other", escape(compact))]
        label = (kind if kind in MESSAGE_STYLES else "other", f"{escape(kind):<15}")
        if kind == "sensor_reading":
            where = escape(str(data.get("location", "?")))
            what = escape(str(data.get("type", "?")))
            value = self.value_column(escape(_num(data.get("value", "?"))))
            unit = f"{escape(str(data.get('unit', ''))):<5}"
            tail = f"sensor {escape(str(data.get('sensor_id', '?'))):<3}"
            if "confidence" in data:
                tail += f" conf {self.conf_column(escape(_num(data['confidence'])))}"
            if self.narrow:
                # Value first: on a narrow terminal the cut falls on the names, not the number.
                return [
                    ("value", value),
                    (None, f" {unit} "),
                    (SHRINK, f"{what} @ {where}"),  # cut before the sensor and confidence
                    (None, f"  {tail}"),
                ]
            return [
                label,
                (None, f" {where:<14} {what:<16} "),
                ("value", value),
                (None, f" {unit}  {tail}"),
            ]
        if kind == "sensor_status":
            where = escape(str(data.get("location", "")))
            sensor = f"sensor {escape(str(data.get('sensor_id', '?')))}"
            parts = [
                label,
                (None, f" {where:<14} {sensor} "),
                ("value", escape(str(data.get("state", "?")))),
            ]
            if data.get("message"):
                parts.append((None, f"  {escape(str(data['message']))}"))
            return parts
        if kind == "error":
            code = data.get("code")
            prefix = f"{escape(str(code))}: " if code not in (None, "") else ""
            return [label, (None, f" {prefix}{escape(str(data.get('message', '')))}")]
        compact = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return [label, (None, f" {escape(compact)}")]


SHRINK = "shrink"  # a part _fit cuts first, so what follows it stays in view


def _shrink_names(parts: list[tuple[str | None, str]], width: int) -> list[tuple[str | None, str]]:
    """Cut the :data:`SHRINK` part by what the line is too long (to one cell at least)."""
    over = sum(cells(text) for _, text in parts) - width
    if over <= 0:
        return parts
    return [
        (name, cut(text, max(1, cells(text) - over)) if name == SHRINK else text)
        for name, text in parts
    ]


def host_port(url: str) -> str:
    """``HOST:PORT`` of a ws:// or wss:// URL, the default port filled in."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        return parts.netloc
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _received_at() -> bytes:
    return rfc3339(time.time()).encode()


def _path_text(path: tuple[str | int, ...]) -> str:
    """``data.readings.0`` back from its parsed parts."""
    return ".".join(str(part) for part in path)


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

    def as_dict(self, *, utc: bool = False) -> dict[str, Any]:
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
                rfc3339(self.last_message_at, utc=utc) if self.last_message_at else None
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


def plain_text(text: str) -> Any:
    """Server text as a rich ``Text``: controls escaped, never read as markup or emoji.

    Use it for every cell or line that holds text from a message or a server.
    """
    from rich.text import Text

    return Text(escape(text))


def print_stats_table(output: Output, stats: StreamStats) -> None:
    """The ``--stats`` summary as a rich table on stderr (message types are server text)."""
    from rich.table import Table

    table = Table(title="wscli tail", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("messages", str(stats.total))
    for kind, count in stats.by_type.most_common():
        table.add_row(plain_text(f"  {kind}"), str(count))
    table.add_row("shown", str(stats.shown))
    table.add_row("rate", f"{stats.rate():.1f} msg/s")
    table.add_row("uptime", f"{stats.uptime():.1f} s")
    table.add_row("reconnects", str(stats.reconnects))
    table.add_row("invalid", str(stats.invalid))
    table.add_row("malformed", str(stats.malformed))
    if stats.binary:
        table.add_row("binary", str(stats.binary))
    last = output.clock.format(stats.last_message_at) if stats.last_message_at else "-"
    table.add_row("last message", last)
    try:
        output.err_console.print(table)
    except (BrokenPipeError, ValueError):
        pass
