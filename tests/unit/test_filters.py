"""Message selection and field paths (pure)."""

from __future__ import annotations

import pytest

from wscli.filters import MISSING, MessageFilter, get_field, parse_field_path

READING = {
    "type": "sensor_reading",
    "data": {"sensor_id": 3, "location": "attic", "value": 21.5, "tags": ["a", "b"]},
}


def test_filters_or_within_and_across() -> None:
    """Repeated values of one option are alternatives; different options all apply."""
    assert MessageFilter.from_options(["sensor_reading", "error"], [], []).matches(READING)
    assert not MessageFilter.from_options(["error"], [], []).matches(READING)
    assert MessageFilter.from_options([], ["3"], ["attic", "garage"]).matches(READING)
    assert not MessageFilter.from_options([], ["3"], ["garage"]).matches(READING)
    assert not MessageFilter.from_options([], ["1"], []).matches("not a dict")


def test_field_paths() -> None:
    """Dotted paths reach into objects and lists; absent steps are MISSING."""
    assert get_field(READING, parse_field_path("data.value")) == 21.5
    assert get_field(READING, parse_field_path(".data.tags.1")) == "b"
    assert get_field(READING, parse_field_path("data.nope")) is MISSING
    assert get_field(READING, parse_field_path("data.tags.9")) is MISSING
    with pytest.raises(ValueError):
        parse_field_path("data..value")
