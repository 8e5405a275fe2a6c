"""frames.py at its edges: every escaped code point, close-code ranges, cut widths."""

from __future__ import annotations

import pytest

from wscli import frames
from wscli.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    describe_close,
    elide,
    escape,
    hex_preview,
    human_bytes,
    parse_close_payload,
    payload_preview,
)

# Embeddings, overrides, isolates, the invisible marks (ALM, LRM, RLM) and the
# line/paragraph separators (issue #6: server text must not reorder or break lines).
BIDI = (
    0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
    0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
)  # fmt: skip


def expected_escape(cp: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
    if cp in named:
        return named[cp]
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def test_escape_table_is_exactly_controls_and_bidi_overrides() -> None:
    controls = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    table = frames._escape_table()
    assert table == {cp: expected_escape(cp) for cp in [*controls, *BIDI]}


@pytest.mark.parametrize("cp", [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *BIDI])
def test_each_control_is_escaped(cp: int) -> None:
    assert escape(f"a{chr(cp)}b") == f"a{expected_escape(cp)}b"


@pytest.mark.parametrize("text", [" ", "~", "\xa0", "é", "\u200b", "日本", "😀", "\\x1b"])
def test_everything_else_is_left_alone(text: str) -> None:
    assert escape(text) == text


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (1000, "normal closure"),
        (1004, "unknown"),
        (1015, "TLS handshake failure"),
        (1016, "unknown"),
        (2999, "unknown"),
        (3000, "registered"),
        (3999, "registered"),
        (4000, "application"),
        (4999, "application"),
        (5000, "unknown"),
        (0, "unknown"),
    ],
)
def test_close_code_ranges(code: int, name: str) -> None:
    assert describe_close(code) == f"{code} ({name})"
    assert describe_close(code, "why") == f"{code} ({name}) why"


def test_parse_close_payload_edges() -> None:
    assert parse_close_payload(b"\x03") == (None, "")
    assert parse_close_payload(b"\x03\xe8") == (1000, "")
    assert parse_close_payload(b"\x0f\xa1ok") == (4001, "ok")
    assert parse_close_payload(b"\x03\xe8\xff") == (1000, "\ufffd")


@pytest.mark.parametrize(
    ("text", "width", "cut"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdef", 5, "abcd…"),
        ("abcdef", 2, "a…"),
        ("abcdef", 1, "…"),
        ("abcdef", 0, "abcdef"),
        ("abcdef", -3, "abcdef"),
        ("", 1, ""),
    ],
)
def test_elide_widths(text: str, width: int, cut: str) -> None:
    assert elide(text, width) == cut


def test_hex_preview_limit_and_grouping() -> None:
    assert hex_preview(b"") == ""
    assert hex_preview(bytes(range(4))) == "0001 0203"
    assert hex_preview(bytes(32)) == " ".join(["0000"] * 16)
    assert hex_preview(bytes(33)) == " ".join(["0000"] * 16) + " …"
    assert hex_preview(b"\x01\x02\x03", limit=2) == "0102 …"
    assert hex_preview(b"\x01\x02", limit=2) == "0102"


def test_payload_previews_at_their_widths() -> None:
    assert payload_preview(OP_CLOSE, b"", 40) == "(no status)"
    assert payload_preview(OP_CLOSE, b"\x03", 40) == "1005 (no status received)"
    assert payload_preview(OP_CLOSE, b"\x03\xf3bad\x1b", 40) == "1011 (internal error) bad\\x1b"
    # Binary: max(4, width // 3) bytes of hex, then cut to the width.
    assert payload_preview(OP_BINARY, bytes(range(10)), 12) == "0001 0203 …"
    assert payload_preview(OP_BINARY, bytes(range(10)), 30) == "0001 0203 0405 0607 0809"
    assert payload_preview(OP_BINARY, bytes(range(10)), 10) == "0001 0203…"
    assert payload_preview(OP_BINARY, bytes(range(40)), 300).endswith("2627")
    assert payload_preview(OP_TEXT, b"\xff" * 8, 40) == "(invalid UTF-8) ffff ffff ffff ffff"
    assert payload_preview(OP_TEXT, b"\xff" * 8, 12) == "(invalid UT…"
    assert payload_preview(OP_TEXT, b"abc\ndef", 40) == "abc\\ndef"
    assert payload_preview(OP_TEXT, b"abcdef", 4) == "abc…"
    assert payload_preview(OP_PING, b"ping", 40) == "ping"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1024.0 KiB"),
        (1024**2, "1.0 MiB"),
        (16 * 1024**2, "16.0 MiB"),
        (1024**3, "1.0 GiB"),
        (1024**4, "1024.0 GiB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


def test_invalid_utf8_preview_shows_a_third_of_the_width_in_bytes() -> None:
    data = b"\xff" * 45
    shown = payload_preview(OP_TEXT, data, 150)  # max(4, 150 // 3) = 50 bytes: all 45
    assert shown == "(invalid UTF-8) " + hex_preview(data, 50)
    assert not shown.endswith("…")
    cut = payload_preview(OP_TEXT, data, 102)  # 34 bytes, then " …", 102 wide
    assert cut == "(invalid UTF-8) " + hex_preview(data, 34)
