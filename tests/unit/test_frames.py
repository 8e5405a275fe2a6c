"""Pure frame helpers: close codes, escaping, previews."""

from __future__ import annotations

from wscli.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_TEXT,
    describe_close,
    elide,
    escape,
    hex_preview,
    parse_close_payload,
    payload_preview,
)


def test_describe_close_names_known_codes() -> None:
    """Known close codes read as words, with the reason after them."""
    assert describe_close(1011, "boom") == "1011 (internal error) boom"
    assert describe_close(1006) == "1006 (abnormal closure)"
    assert describe_close(None) == "1005 (no status received)"
    assert describe_close(4001) == "4001 (application)"


def test_parse_close_payload() -> None:
    """A close payload splits into code and UTF-8 reason."""
    assert parse_close_payload(b"\x03\xf3bye") == (1011, "bye")
    assert parse_close_payload(b"") == (None, "")


def test_escape_neutralises_terminal_controls() -> None:
    """ESC, BEL, C1 controls and bidi overrides never reach the terminal raw."""
    hostile = "a\x1b[31mred\x07\x9b\u202eb"
    safe = escape(hostile)
    assert "\x1b" not in safe and "\x07" not in safe and "\x9b" not in safe
    assert "\u202e" not in safe
    assert safe.startswith("a\\x1b[31mred")


def test_elide_marks_the_cut() -> None:
    """Long text is cut to the width with an ellipsis."""
    assert elide("abcdef", 4) == "abc…"
    assert elide("abc", 4) == "abc"


def test_previews() -> None:
    """Binary shows as hex, text escaped, close as code and reason."""
    assert hex_preview(b"tea") == "7465 61"
    assert payload_preview(OP_BINARY, b"tea", 40) == "7465 61"
    assert payload_preview(OP_TEXT, b"hi\x1b", 40) == "hi\\x1b"
    assert payload_preview(OP_CLOSE, b"\x03\xe8", 40) == "1000 (normal closure)"
    assert payload_preview(OP_TEXT, b"\xff\xfe", 40).startswith("(invalid UTF-8)")
