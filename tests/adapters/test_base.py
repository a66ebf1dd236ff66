"""The helpers every adapter shares."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import parse_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_is_read_as_json_loads_reads_it(value):
    text = json.dumps(value)
    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"note": "\\ud83d"}', '[NaN, Infinity]', '{"a": 1, "a": 2}', "123456789012345678901234567890"])
def test_the_corners_of_json_loads_are_kept(text):
    # A lone surrogate escape is refused by the fast parser and read by json.loads instead.
    assert repr(parse_json(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", ["", "{", '{"a": }', "[1,]", "nul"])
def test_text_that_is_not_json_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_json(text)
