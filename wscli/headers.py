"""What may go into an upgrade request header, checked before anything is sent.

websocket-client writes header values as given: a CR/LF inside ``--token`` or
``-H`` becomes extra header lines on the wire (header injection), while ``-v``
shows one escaped header. RFC 9110 section 5.5 allows visible characters,
spaces and tabs in a value, and a token in a name; anything else is refused up
front, for flags and profile values alike. Pure and ``re`` only: the config
loader uses it too.
"""

from __future__ import annotations

import re

# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Controls other than horizontal tab, and DEL (section 5.5: not in a field value).
_BAD_VALUE_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NAMES = {"\r": "a carriage return (\\r)", "\n": "a line feed (\\n)", "\x00": "a NUL byte"}


def value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a header value, or None when it can."""
    found = _BAD_VALUE_CHAR.search(value)
    if found is None:
        return None
    char = found.group(0)
    what = _NAMES.get(char) or "a control character (\\x" + format(ord(char), "02x") + ")"
    return f"holds {what}, which a header cannot carry"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a header name, or None when it can."""
    if _TOKEN.fullmatch(name):
        return None
    if not name:
        return "has an empty header name"
    bad = next(ch for ch in name if not _TOKEN.fullmatch(ch))
    return f"has {bad!r} in the header name {name!r}, which a header name cannot carry"


def raw_header_problem(raw: str) -> str | None:
    """Why ``raw`` (``Name: value``, as ``-H`` takes it) cannot be sent, or None."""
    name, sep, value = raw.partition(":")
    if not sep:
        return "is not 'Name: value'"
    return name_problem(name.strip()) or value_problem(value.strip())


def hint(problem: str) -> str:
    """What to do about a problem :func:`raw_header_problem` or :func:`value_problem` found."""
    if "header name" in problem or "Name: value" in problem:
        return "write headers as 'Name: value', the name in letters, digits and -"
    return (
        "remove line breaks and control characters"
        " (a value read from a file keeps its final newline: strip it)"
    )
