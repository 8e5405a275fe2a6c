"""Exact pins of wscli.validate.jsonstream: places, reasons, limits and chunk boundaries.

The reader behind ``wscli validate`` for JSON arrays and pretty-printed documents is
fed here through a read function that hands out chosen chunks, so that every case of
"the value is cut by the end of what has arrived" is reached on purpose. Each test
names the behaviour a user sees: the place and words of a malformed item, the last
document found after garbage, a value at exactly ``--max-size``.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator

import pytest

from tests.support.cli import count_json_decodes
from wscli.frames import human_bytes
from wscli.messages import MAX_DEPTH, TOO_DEEP
from wscli.validate import jsonstream
from wscli.validate.jsonstream import NESTED, JsonText, array_items, document_items
from wscli.validate.tally import Malformed

PAD = ', "padding": "......................"}'  # puts a break well before the chunk end
REST = "; the rest of the array was not read"
FILE_REST = "; the rest of the file was not read"
Reader = Callable[[JsonText], Iterator[tuple[int, object]]]


def feeder(*chunks: str | bytes) -> tuple[Callable[[int], bytes], list[int]]:
    """A read function handing out exactly ``chunks`` (then b""), and the sizes asked."""
    queue = [c.encode() if isinstance(c, str) else c for c in chunks]
    asked: list[int] = []

    def read(size: int) -> bytes:
        asked.append(size)
        return queue.pop(0) if queue else b""

    return read, asked


def split(data: str | bytes, size: int) -> list[bytes]:
    raw = data.encode() if isinstance(data, str) else data
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def verdicts(items: Iterable[tuple[int, object]]) -> list[tuple[int, object]]:
    """Items with a malformed one shown as its reason (what validate reports)."""
    return [(pos, v.reason if isinstance(v, Malformed) else v) for pos, v in items]


def run(
    reader: Reader, *chunks: str | bytes, limit: int = 1 << 20, most: int = 50
) -> list[tuple[int, object]]:
    """What ``reader`` yields for the text arriving in ``chunks`` (at most ``most`` items)."""
    read, _ = feeder(*chunks)
    # A reader that never ends (a mutant looping at end of input) is cut off by
    # pytest-timeout; a signal-based deadline here would cancel that plugin's alarm.
    return verdicts(itertools.islice(reader(JsonText(read, limit=limit)), most))


def docs(*chunks: str | bytes, limit: int = 1 << 20) -> list[tuple[int, object]]:
    return run(document_items, *chunks, limit=limit)


def array(*chunks: str | bytes, limit: int = 1 << 20) -> list[tuple[int, object]]:
    return run(array_items, *chunks, limit=limit)


# -- places: lines and columns --------------------------------------------------------


BAD_KEY = "not JSON: Expecting property name enclosed in double quotes"


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        # the first line of the input: its start is known, so is the column
        (["{x: 1" + PAD + "\n"], [(1, f"{BAD_KEY} (line 1 column 2)")]),
        # the newline before the line was consumed with the previous chunk
        (
            ['{"a": 1}  \n', "{x: 1" + PAD + "\n"],
            [(1, {"a": 1}), (2, f"{BAD_KEY} (line 2 column 2)")],
        ),
        # the line started in a chunk already dropped: the column cannot be told
        (['{"a": 1}   ', "{x: 1" + PAD + "\n"], [(1, {"a": 1}), (1, f"{BAD_KEY} (line 1)")]),
        # the newline is the first character of the new chunk
        (
            ['{"a": 1}   ', "\n{x: 1" + PAD + "\n"],
            [(1, {"a": 1}), (2, f"{BAD_KEY} (line 2 column 2)")],
        ),
        # a blank first line: the input's first line is line 1 by default
        (["\n{x: 1" + PAD + "\n"], [(2, f"{BAD_KEY} (line 2 column 2)")]),
    ],
)
def test_where_a_break_is_named_across_chunk_boundaries(
    chunks: list[str], expected: list[tuple[int, object]]
) -> None:
    """Line and column of a break stay exact whichever chunk held the line's start."""
    assert docs(*chunks) == expected


def test_column_counts_from_the_last_newline_before_the_break() -> None:
    """A break on line 3 of a document is at its column there, lines after it aside."""
    text = '{\n  "a": 1,\n  "b": x,\n  "c": 2\n}\n{"ok": 1}\n'
    assert docs(text) == [
        (1, "not JSON: Expecting value (line 3 column 8)"),
        (6, {"ok": 1}),
    ]


def test_first_line_sets_the_numbering() -> None:
    """Lines count from ``first_line`` (where the sniffed header left off)."""
    read, _ = feeder('{"a": 1}\n\n{"b": 2}\n')
    assert verdicts(document_items(JsonText(read, first_line=7))) == [(7, {"a": 1}), (9, {"b": 2})]


def test_value_decodes_the_first_value_without_a_peek() -> None:
    """``value()`` on a fresh text reads what it needs and decodes the first value."""
    read, _ = feeder('{"a": ', '1}\n{"b": 2}\n')
    text = JsonText(read)
    assert text.value() == {"a": 1}
    assert text.peek() == "{"
    assert text.value() == {"b": 2}
    assert text.peek() is None


# -- documents: truncation, resumption ------------------------------------------------


def test_truncated_at_the_end_of_the_file_is_reported_once() -> None:
    """A document cut by the end of the file is "truncated", even if its last line
    starts with [ or {: reading does not resume inside it."""
    assert docs('{"a":\n[1, 2,') == [
        (1, "truncated at the end of the file: Expecting value (line 2 column 7)")
    ]
    assert docs('{"a":\n[1, 2,\n') == [
        (1, "truncated at the end of the file: Expecting value (line 3 column 1)")
    ]


def test_a_break_before_the_end_of_the_file_is_not_truncation() -> None:
    """A break before the end is "not JSON", and reading resumes, whether the rest of the
    file has been read already or not."""
    assert docs('{"a": x}\n{"b": 2}\n') == [
        (1, "not JSON: Expecting value (line 1 column 7)"),
        (2, {"b": 2}),
    ]
    text = '{"a": x' + PAD + '\n{"b": 2}\n' + '{"c": 3}\n' * 4
    assert docs(*split(text, 40)) == [
        (1, "not JSON: Expecting value (line 1 column 7)"),
        *[(n, {"b": 2} if n == 2 else {"c": 3}) for n in range(2, 7)],
    ]


def test_reading_resumes_at_the_first_value_line_after_the_break() -> None:
    """Lines inside the broken document before its break are not taken for documents."""
    text = '{\n  "a": [\n[1, 2],\n    nope\n  ]\n}\n{"ok": true}\n'
    assert docs(text) == [
        (1, "not JSON: Expecting value (line 4 column 5)"),
        (7, {"ok": True}),
    ]


def test_resuming_never_goes_back_to_earlier_documents() -> None:
    """After a break in the third document, the first two are not read again."""
    text = '{"n": 1}\n{"n": 2}\n{"n": x' + PAD + '\n{"n": 4}\n'
    assert docs(text) == [
        (1, {"n": 1}),
        (2, {"n": 2}),
        (3, "not JSON: Expecting value (line 3 column 7)"),
        (4, {"n": 4}),
    ]


def test_resumption_lands_on_the_value_line_itself() -> None:
    """The document found after garbage starts at its own line and first character."""
    text = '{"a": x' + PAD + "\ngarbage }\n[1]\n"
    assert docs(text) == [(1, "not JSON: Expecting value (line 1 column 7)"), (3, [1])]


def test_too_deep_document_is_skipped_and_reading_goes_on() -> None:
    """A document too deep to decode is malformed; the next document is still read."""
    deep = "[" * 100_000 + "]" * 100_000
    assert docs(deep + '\n{"ok": 1}\n{"ok": 2}\n') == [(1, NESTED), (2, {"ok": 1}), (3, {"ok": 2})]
    assert docs(deep + "\n") == [(1, NESTED)]


@pytest.mark.parametrize(("garbage", "found"), [(14, True), (15, False)])
def test_skipping_garbage_stops_past_the_limit(garbage: int, found: bool) -> None:
    """At most ``limit`` bytes are skipped looking for the next document, counted over
    every chunk read (here one byte each): one byte more and the rest is not read."""
    text = "x\n" + "g" * garbage + '\n{"b": 1}\n'
    result = docs(*split(text, 1), limit=16)
    assert result[0] == (1, "not JSON: Expecting value (line 1 column 1)")
    assert result[1:] == ([(3, {"b": 1})] if found else [])


def test_skipping_counts_from_the_broken_document_not_the_buffer_start() -> None:
    """Text of earlier documents still in the buffer is not counted as skipped."""
    text = '{}\n{"a": x' + PAD + "\n" + "g" * 30 + '\n{"b": 1}\n'
    assert docs(*split(text, 32), limit=64) == [
        (1, {}),
        (2, "not JSON: Expecting value (line 2 column 7)"),
        (4, {"b": 1}),
    ]


def test_skipping_garbage_across_many_chunks_finds_the_next_document() -> None:
    """Garbage spread over many tiny chunks, well within the limit, is skipped."""
    text = '{"a": x}\n' + "g" * 30 + "\n" + "h" * 30 + '\n{"b": 1}\n'
    assert docs(*split(text, 3), limit=100) == [
        (1, "not JSON: Expecting value (line 1 column 7)"),
        (4, {"b": 1}),
    ]


def test_invalid_utf8_before_any_document_is_placed_at_the_file() -> None:
    """Bad bytes before the first document: reported at position 0 (the whole file)."""
    assert docs(b"\xff{}") == [(0, "invalid UTF-8 at byte 1" + FILE_REST)]


# -- arrays ---------------------------------------------------------------------------


def test_array_items_after_leading_whitespace() -> None:
    """Whitespace before the [ does not shift the elements."""
    assert array("  \n [1, 2]") == [(0, 1), (1, 2)]


def test_array_items_in_one_byte_chunks() -> None:
    """Each element at its own index, even read one byte at a time."""
    assert array(*split("[1, 22, [3], {}]", 1)) == [(0, 1), (1, 22), (2, [3]), (3, {})]
    assert array("[1, 22, [3], {}]") == [(0, 1), (1, 22), (2, [3]), (3, {})]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[\n1,\nx\n]", [(0, 1), (1, "not JSON: Expecting value (line 3 column 1)" + REST)]),
        ("[\n1\n2]", [(0, 1), (1, "not JSON: expected , or ] (line 3 column 1)" + REST)]),
        (
            "[\n1,\n2,\n]",
            [(0, 1), (1, 2), (2, "not JSON: trailing comma before ] (line 4 column 1)")],
        ),
        ("[\n1\n]x", [(0, 1), (1, "not JSON: data after the array (line 3 column 2)")]),
        ("[1, 2", [(0, 1), (1, 2), (2, "truncated: the array is not closed with ]")]),
        ("[\n1,\n[2,", [(0, 1), (1, "truncated: Expecting value (line 3 column 4)" + REST)]),
        ("[1]\n", [(0, 1)]),
    ],
)
def test_broken_arrays_name_the_element_and_place(
    text: str, expected: list[tuple[int, object]]
) -> None:
    """A broken array's reason, index and place, word for word."""
    assert array(text) == expected


def test_too_deep_array_element_ends_the_array() -> None:
    """An element too deep to decode ends the array, with the elements before it kept."""
    deep = "[" * 100_000 + "]" * 100_000
    assert array("[1, " + deep + ", 2]") == [(0, 1), (1, NESTED + REST)]


# -- values that are JSON but no message ----------------------------------------------


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_non_numbers_are_malformed_even_at_the_very_start(word: str) -> None:
    """NaN or Infinity as the whole first document is reported, not taken as a number."""
    assert docs(word + "\n") == [(1, f"not JSON: {word} is not a JSON number")]
    assert docs(word) == [(1, f"not JSON: {word} is not a JSON number")]


def test_a_number_no_double_holds_is_out_of_range_in_documents_and_arrays() -> None:
    """The same verdict as a JSON Lines line or a frame gets (messages.unfit_span)."""
    out_of_range = "number out of range: it overflows a double (it would read as Infinity)"
    assert docs('{"v": 1e999}\n{"v": 1e308}\n') == [(1, out_of_range), (2, {"v": 1e308})]
    assert array('[{"v": -1e999}, 2]') == [(0, out_of_range), (1, 2)]


def alone(element: str) -> object:
    """The verdict on one array element read on its own."""
    ((_, verdict),) = array(f"[{element}]")
    return verdict


HUGE = "1e999"  # json reads it as inf without any NaN/Infinity text to look for
DEEP_LIST = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
DEEP_OBJECT = '{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)


@pytest.mark.parametrize("neighbour", ['"NaN"', '"Infinity"', '"\\u00e9"', DEEP_LIST, DEEP_OBJECT])
def test_the_verdict_on_an_element_ignores_text_outside_it(neighbour: str) -> None:
    """What an element is judged to be does not depend on its neighbours' text, before
    or after it, only on its own (the fast checks look within the element only)."""
    expected = alone(HUGE)
    before = array(f"[{neighbour}, {HUGE}, 0]")
    after = array(f"[{HUGE}, {neighbour}]")
    assert before[1] == (1, expected)
    assert after[0] == (0, expected)
    assert docs(f"{neighbour}\n{HUGE}\n{{}}\n")[1] == (2, expected)
    assert docs(f"{HUGE}\n{neighbour}\n")[0] == (1, expected)


def test_nesting_at_exactly_max_depth_is_judged_like_shallow_data() -> None:
    """MAX_DEPTH levels of arrays and objects are fine; one level more is too deep."""
    shallow = alone(f"[{HUGE}]")
    at_limit = "[" * MAX_DEPTH + HUGE + "]" * MAX_DEPTH
    ((_, verdict),) = docs(at_limit)
    assert isinstance(verdict, str) == isinstance(shallow, str)
    mixed = '{"a": ' * (MAX_DEPTH // 2) + "[" * (MAX_DEPTH // 2) + "0" + "]" * (MAX_DEPTH // 2)
    mixed += "}" * (MAX_DEPTH // 2)
    assert docs(mixed)[0][1] != TOO_DEEP
    assert docs("[" + at_limit + "]") == [(1, TOO_DEEP)]


def test_lone_surrogate_escape_is_malformed() -> None:
    """A \\u escape of a lone surrogate is no Unicode text."""
    reason = "not Unicode text: a lone surrogate \\ud800 in a string (JSON text must be Unicode)"
    assert docs('"\\ud800"\n') == [(1, reason)]
    assert array('["ok", "\\ud800"]') == [(0, "ok"), (1, reason)]


# -- bytes: UTF-8 and offsets ---------------------------------------------------------


def test_invalid_utf8_is_placed_at_its_byte_across_chunks() -> None:
    """The bad byte's number counts every byte before it, a character cut by the chunk
    boundary included; the elements before it still count."""
    chunks = [b'["a', b'b", "\xc3', b'\xa9", "\xff"]']
    assert b"".join(chunks).index(b"\xff") + 1 == 15
    assert array(*chunks) == [(0, "ab"), (1, "é"), (2, "invalid UTF-8 at byte 15" + FILE_REST)]


def test_character_cut_by_the_end_of_the_file_is_invalid_utf8() -> None:
    """A multi-byte character missing its last bytes at the end of the file is reported."""
    assert docs(b'{"a": 1}\n   \n\xe2\x82') == [
        (1, {"a": 1}),
        (1, "invalid UTF-8 at byte 14" + FILE_REST),
    ]


# -- --max-size -----------------------------------------------------------------------


def test_a_value_of_exactly_max_size_at_the_end_is_accepted() -> None:
    """A 12-byte document with --max-size 12 is a message; with 11, it ends the file."""
    value = '"1234567890"'
    assert len(value) == 12
    assert docs(value, limit=12) == [(1, "1234567890")]
    assert docs('"12345', '67890"', limit=12) == [(1, "1234567890")]
    assert docs("{} " + value, limit=12) == [(1, {}), (1, "1234567890")]
    # Its end in the buffer: that value is malformed and reading goes on. Past the
    # limit with no end in sight: finding it would mean reading it all, so reading stops.
    assert docs(value, limit=11) == [(1, "a JSON value larger than 11 B (--max-size)")]
    assert docs('"12345', '67890"', limit=11) == [(1, "a JSON value larger than 11 B (--max-size)")]
    assert docs('"12345678901234', '5"', limit=11) == [
        (1, "a JSON value larger than 11 B (--max-size)" + FILE_REST)
    ]


def test_a_value_over_max_size_that_arrived_in_one_chunk_is_still_too_large() -> None:
    """The limit held only for values that needed another read (a bug mutation testing found)."""
    big = '{"a": "' + "x" * 300 + '"}'
    assert docs(big + '\n{"b": 1}\n', limit=100) == [
        (1, "a JSON value larger than 100 B (--max-size)"),
        (2, {"b": 1}),
    ]
    assert array('["12345678", "123456789", 1]', limit=10) == [
        (0, "12345678"),
        (1, "a JSON value larger than 10 B (--max-size)"),
        (2, 1),
    ]


def test_the_limit_measures_bytes_not_characters() -> None:
    """ "é" is two bytes: eight of them in quotes are 18 bytes, over a 17-byte limit."""
    value = '"' + "é" * 8 + '"'
    assert docs(value + "\n", limit=18) == [(1, "é" * 8)]
    assert docs(value + "\n", limit=17) == [(1, "a JSON value larger than 17 B (--max-size)")]


def test_text_after_a_value_does_not_count_towards_its_size() -> None:
    """At the boundary the limit measured the value plus what followed it in the buffer."""
    assert docs('"1234567890"\n', limit=12) == [(1, "1234567890")]
    assert array('["12345678"]', limit=10) == [(0, "12345678")]


def test_a_value_just_before_invalid_utf8_still_counts() -> None:
    """``{"a": 1}`` then a bad byte: the document is a message, then the file stops."""
    assert docs(b'{"a": 1}\n\xff') == [
        (1, {"a": 1}),
        (1, "invalid UTF-8 at byte 10" + FILE_REST),
    ]


def test_reading_stops_one_byte_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value over --max-size is given up after reading limit + 1 bytes of it, no more."""
    monkeypatch.setattr(jsonstream, "CHUNK", 4)
    stream = io.BytesIO(b'"' + b"z" * 500 + b'"')
    text = JsonText(stream.read, limit=100)
    assert verdicts(document_items(text)) == [
        (1, "a JSON value larger than 100 B (--max-size)" + FILE_REST)
    ]
    assert stream.tell() == 101


# -- live input: no waiting for bytes a value does not need ---------------------------


def test_a_complete_document_is_yielded_without_reading_more() -> None:
    """From a live pipe, a whole document is a message before anything else arrives."""
    read, asked = feeder('{"a": 1}    \n', '{"b": 2}\n')
    items = document_items(JsonText(read))
    assert next(items) == (1, {"a": 1})
    assert len(asked) == 1
    assert verdicts(items) == [(2, {"b": 2})]


@pytest.mark.parametrize(("after", "reads"), [(15, 2), (16, 1)])
def test_a_break_near_the_end_of_what_arrived_waits_for_more(after: int, reads: int) -> None:
    """A break 16 characters or less from the end of the input so far may be a cut: more
    input is read first. Further back it is reported at once."""
    read, asked = feeder('{"a": x' + " " * after, '}\n{"b": 2}\n')
    items = document_items(JsonText(read))
    assert verdicts([next(items)]) == [(1, "not JSON: Expecting value (line 1 column 7)")]
    assert len(asked) == reads


def test_a_big_value_is_read_in_whole_doubled_reads_from_patient_size_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a value has PATIENT bytes, reads wait for the whole doubled size."""
    body = b'"' + b"z" * (jsonstream.PATIENT + 200_000) + b'"\n'
    stream = io.BytesIO(body)

    def pipe(size: int) -> bytes:
        return stream.read(min(size, jsonstream.CHUNK))

    decodes = count_json_decodes(monkeypatch)
    ((_, value),) = list(document_items(JsonText(pipe)))
    assert value == "z" * (jsonstream.PATIENT + 200_000)
    assert decodes[0] == jsonstream.PATIENT // jsonstream.CHUNK + 2


def test_a_big_value_over_the_limit_is_read_no_further_than_limit_plus_one() -> None:
    """Patient reads of a value past PATIENT bytes still stop one byte past --max-size."""
    limit = jsonstream.PATIENT + 100_000
    stream = io.BytesIO(b'"' + b"z" * (limit + 200_000) + b'"')

    def pipe(size: int) -> bytes:
        return stream.read(min(size, jsonstream.CHUNK))

    assert verdicts(document_items(JsonText(pipe, limit=limit))) == [
        (1, f"a JSON value larger than {human_bytes(limit)} (--max-size)" + FILE_REST)
    ]
    assert stream.tell() == limit + 1
