"""Fitting text to a terminal: cell widths, cutting, wrapping, decimal alignment.

Pure functions over strings (no terminal probing here: :class:`~wscli.output.terminal.Output`
knows the width). ASCII, the common case, is measured with ``len``; anything else
goes through rich's cell tables, so wide characters count as two columns.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cells(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, ending in an ellipsis when something was cut."""
    if cells(text) <= width:
        return text
    if width <= 0:
        return ""
    if text.isascii():
        return text[: width - 1] + ELLIPSIS
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1) + ELLIPSIS


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` columns (words kept whole if they fit)."""
    width = max(width, 1)
    if cells(text) != len(text):  # wide characters: cut by columns, not at spaces
        from rich.cells import chop_cells

        return list(chop_cells(text, width)) or [""]
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


class DecimalColumn:
    """Numbers lined up on the decimal point: ``  45  `` above ``  44.6``.

    A stream's column cannot be measured in advance, so it starts at a typical
    width and only ever grows: earlier lines never move, later ones line up.
    """

    __slots__ = ("int_width", "frac_width")

    def __init__(self, int_width: int = 1, frac_width: int = 0) -> None:
        self.int_width = int_width
        self.frac_width = frac_width  # the point included

    def __call__(self, text: str) -> str:
        if _NUMBER.match(text):
            whole, dot, frac = text.partition(".")
            frac = dot + frac
        else:
            whole, frac = text, ""
        self.int_width = max(self.int_width, len(whole))
        self.frac_width = max(self.frac_width, len(frac))
        return whole.rjust(self.int_width) + frac.ljust(self.frac_width)


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def visible_cells(text: str) -> int:
    """Columns ``text`` takes once its colour codes (SGR) are left out."""
    return cells(_SGR.sub("", text) if "\x1b" in text else text)


def fit_lines(text: str, width: int | None, indent: int = 4) -> str:
    """Every line of a report in ``width`` columns: long lines wrap at spaces, indented.

    Colour codes are not counted. Lines that fit are kept byte for byte (columns
    and alignment included); ``None`` (not a terminal) keeps everything.
    """
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if visible_cells(line) <= width:
            out.append(line)
        else:
            out.extend(_wrap_styled(line, width, min(indent, width // 2)))
    return "\n".join(out)


def _wrap_styled(line: str, width: int, indent: int) -> list[str]:
    pad = " " * indent
    rows: list[str] = []
    current, used, count = "", 0, 0
    for word in line.split(" "):  # a run of spaces is empty words: kept on the first row
        size = visible_cells(word)
        if rows and not count and not word:
            continue  # a continuation row does not start with the spaces of a gap
        gap = 1 if count else 0
        if count and word and used + gap + size > width:
            if current.strip():
                rows.append(current.rstrip())
            current, used, count, gap = pad, indent, 0, 0
        if size > width - indent and "\x1b" in word:
            word = _SGR.sub("", word)  # too long for any row: broken below, uncoloured
        # A word longer than a whole row is broken where the row ends.
        while word and used + gap + size > width and size > width - indent:
            room = width - used - gap
            if room > 0:
                head = _take(word, room)
                rows.append((current + " " * gap + head).rstrip())
                word = word[len(head) :]
                size = visible_cells(word)
            else:
                rows.append(current.rstrip())
            current, used, count, gap = pad, indent, 0, 0
        current += " " * gap + word
        used += gap + size
        count += 1
    if current.strip():
        rows.append(current.rstrip())
    return rows


def _take(word: str, columns: int) -> str:
    """The start of ``word`` that fills ``columns`` (wide characters count two)."""
    if word.isascii():
        return word[:columns]
    from rich.cells import chop_cells

    return chop_cells(word, columns)[0]
