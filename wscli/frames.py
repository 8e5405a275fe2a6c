"""Pure values about frames: opcode names, close codes, terminal-safe text.

No sockets, no terminal probing: everything here takes values and returns values,
so the tap, the renderer and the recording agree on one vocabulary.
"""

from __future__ import annotations

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

OPCODE_NAMES: dict[int, str] = {
    OP_CONT: "cont",
    OP_TEXT: "text",
    OP_BINARY: "binary",
    OP_CLOSE: "close",
    OP_PING: "ping",
    OP_PONG: "pong",
}

# RFC 6455 section 7.4.1 plus the IANA registry entries seen in the wild.
CLOSE_CODE_NAMES: dict[int, str] = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status received",
    1006: "abnormal closure",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}

ABNORMAL_CLOSURE = 1006


def describe_close(code: int | None, reason: str = "") -> str:
    """``1011 (internal error) reason`` — the form every wscli message uses."""
    if code is None:
        code = 1005
    if code in CLOSE_CODE_NAMES:
        name = CLOSE_CODE_NAMES[code]
    elif 3000 <= code <= 3999:
        name = "registered"
    elif 4000 <= code <= 4999:
        name = "application"
    else:
        name = "unknown"
    text = f"{code} ({name})"
    if reason:
        text += f" {reason}"
    return text


def parse_close_payload(payload: bytes) -> tuple[int | None, str]:
    """Split a close frame's payload into (code, reason); RFC 6455 section 5.5.1."""
    if len(payload) < 2:
        return None, ""
    code = int.from_bytes(payload[:2], "big")
    return code, payload[2:].decode("utf-8", errors="replace")


def _escape_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        table[cp] = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(cp, f"\\x{cp:02x}")
    # Bidi controls can reorder what a reader sees (CVE-2021-42574): embeddings,
    # overrides and isolates, and the invisible marks (LRM, RLM, ALM); line and
    # paragraph separators can break a line where a terminal shows none.
    bidi = (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    for cp in bidi:
        table[cp] = f"\\u{cp:04x}"
    return table


_ESCAPES = _escape_table()


def escape(text: str) -> str:
    """Make server text safe for a terminal: C0/C1 controls and bidi controls escaped."""
    return text.translate(_ESCAPES)


def elide(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, marking the cut with an ellipsis."""
    if width <= 0 or len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return text[: width - 1] + "…"


def hex_preview(data: bytes, limit: int = 32) -> str:
    """``746573 74…``-style preview of a binary payload (websockets' house style)."""
    shown = data[:limit].hex(" ", -2)
    return shown + (" …" if len(data) > limit else "")


def payload_preview(opcode: int, data: bytes, width: int) -> str:
    """One-line, escaped, elided view of a payload for the tap and the renderer."""
    if opcode == OP_CLOSE:
        code, reason = parse_close_payload(data)
        return describe_close(code, escape(reason)) if data else "(no status)"
    if opcode == OP_BINARY:
        return elide(hex_preview(data, max(4, width // 3)), width)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return elide("(invalid UTF-8) " + hex_preview(data, max(4, width // 3)), width)
    return elide(escape(text), width)


def human_bytes(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``16.0 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
