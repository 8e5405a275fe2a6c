"""Filters and field paths at their edges: negative indexes, data that is not an object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.raw_peer import PeerConnection, RawPeer
from wscli.filters import MISSING, MessageFilter, get_field, parse_field_path

TAGS = {"data": {"tags": ["a", "b", "c"]}}


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, "a"), (2, "c"), (3, MISSING), (-1, "c"), (-3, "a"), (-4, MISSING), (-100, MISSING)],
)
def test_list_indexes_in_and_out_of_range(index: int, expected: Any) -> None:
    found = get_field(TAGS, ("data", "tags", index))
    assert found is MISSING if expected is MISSING else found == expected


def test_empty_list_has_no_index() -> None:
    assert get_field({"x": []}, ("x", 0)) is MISSING
    assert get_field({"x": []}, ("x", -1)) is MISSING


def test_field_path_parses_negative_indexes_and_jq_dots() -> None:
    assert parse_field_path("data.tags.-1") == ("data", "tags", -1)
    assert parse_field_path(".data.0") == ("data", 0)
    assert parse_field_path(" data.value ") == ("data", "value")
    assert parse_field_path("data.-x") == ("data", "-x")
    for bad in ("", ".", "data.", "a..b"):
        with pytest.raises(ValueError, match="empty segment"):
            parse_field_path(bad)


def test_index_steps_into_objects_by_key() -> None:
    """An integer step on an object looks up the key "0"; on a scalar it is missing."""
    assert get_field({"d": {"0": "zero"}}, ("d", 0)) == "zero"
    assert get_field({"d": {"-1": "m"}}, ("d", -1)) == "m"
    assert get_field({"d": 5}, ("d", 0)) is MISSING
    assert get_field({"d": "text"}, ("d", 0)) is MISSING
    assert get_field([1, 2], ("0",)) is MISSING  # a key on a list
    assert get_field({"d": None}, ("d",)) is None  # null is a value, not missing
    assert get_field({"a": 1}, ()) == {"a": 1}


@pytest.mark.parametrize("data", [[1, 2], "attic", 3, None, True])
@pytest.mark.parametrize(
    "selection", [([], ["3"], []), ([], [], ["attic"]), ([], ["3"], ["attic"])]
)
def test_sensor_and_location_reject_non_object_data(
    data: Any, selection: tuple[list[str], list[str], list[str]]
) -> None:
    message = {"type": "sensor_reading", "data": data}
    assert MessageFilter.from_options(*selection).matches(message) is False


def test_sensor_and_location_need_data() -> None:
    assert not MessageFilter.from_options([], ["3"], []).matches({"type": "sensor_reading"})
    assert MessageFilter.from_options(["x"], [], []).matches({"type": "x", "data": [1]})


def test_sensor_ids_compare_as_text() -> None:
    """``--sensor 3`` matches the number 3 and the string "3", not 30 or a missing id."""
    only_3 = MessageFilter.from_options([], ["3"], [])
    assert only_3.matches({"data": {"sensor_id": 3}})
    assert only_3.matches({"data": {"sensor_id": "3"}})
    assert not only_3.matches({"data": {"sensor_id": 30}})
    assert not only_3.matches({"data": {}})
    assert MessageFilter.from_options([], [3], []).matches({"data": {"sensor_id": 3}})


def test_location_alone_and_type_with_location() -> None:
    attic = MessageFilter.from_options(["sensor_reading"], [], ["attic"])
    assert attic.matches({"type": "sensor_reading", "data": {"location": "attic"}})
    assert not attic.matches({"type": "sensor_status", "data": {"location": "attic"}})
    assert not attic.matches({"type": "sensor_reading", "data": {"location": "garage"}})
    assert not attic.matches({"type": "sensor_reading", "data": {}})


def test_active_only_with_a_selection() -> None:
    assert not MessageFilter.from_options([], [], []).active
    assert MessageFilter.from_options(["a"], [], []).active
    assert MessageFilter.from_options([], ["1"], []).active
    assert MessageFilter.from_options([], [], ["x"]).active
    assert MessageFilter.from_options([], [], []).matches({"anything": 1})
    assert not MessageFilter.from_options([], [], []).matches([1])


def test_tail_filters_survive_odd_messages() -> None:
    """A stream with list, string and null ``data``: --sensor/--location skip them, no crash."""
    odd = [
        {"type": "sensor_reading", "data": [1, 2]},
        {"type": "sensor_reading", "data": "attic"},
        {"type": "sensor_reading", "data": None},
        {"type": "sensor_reading"},
        [1, 2, 3],
        {"type": "sensor_reading", "data": {"sensor_id": 3, "location": "attic"}},
    ]

    def script(conn: PeerConnection) -> None:
        for message in odd:
            conn.text(json.dumps(message))
        conn.close(1000)

    with RawPeer(script) as peer:
        by_sensor = run_cli("tail", peer.url, "--sensor", "3", "--ping-interval", "0")
    with RawPeer(script) as peer:
        by_place = run_cli("tail", peer.url, "--location", "attic", "--ping-interval", "0")
    with RawPeer(script) as peer:
        field = run_cli("tail", peer.url, "--field", "data.-1", "--ping-interval", "0")
    assert by_sensor.json_lines == [odd[-1]]
    assert by_place.json_lines == [odd[-1]]
    assert "Traceback" not in field.stderr and "IndexError" not in field.stderr
    assert field.json_lines[:1] == [2]


def test_field_path_keeps_letters_around_dots_and_dashes() -> None:
    """Only dots lead a path and only a leading minus makes a number."""
    assert parse_field_path("XY.b") == ("XY", "b")
    assert parse_field_path("data.X1") == ("data", "X1")
    assert parse_field_path("data.1X") == ("data", "1X")
    assert parse_field_path("data.-0") == ("data", 0)


@pytest.mark.parametrize("piece", ["--1", "-", "1-", "²", "١", "1_0", "+1", " 1"])
def test_only_ascii_integers_are_indexes(piece: str) -> None:
    """Anything else is a key, never a ValueError from int() (a garbled usage error)."""
    assert parse_field_path(f"data.{piece}") == ("data", piece)


def test_tail_field_with_a_non_index_piece_is_a_key() -> None:
    result = run_cli("tail", "--demo", "-n", "2", "--field", "data.--1")
    # Missing in every message: JSON Lines prints null for each, as jq does (#7).
    assert result.stdout == "null\nnull\n" and "error" not in result.stderr


def test_steps_after_a_list_index_keep_going() -> None:
    message = {"a": [{"b": [10, 20]}]}
    assert get_field(message, ("a", 0, "b", -1)) == 20
    assert get_field(message, ("a", -1, "b", 0)) == 10
    assert get_field(message, ("a", 0, "c")) is MISSING
