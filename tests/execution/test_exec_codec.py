"""The judge/candidate value codec: plain data survives the trip exactly, nothing else gets through as data."""
import collections
import datetime
import decimal
import fractions
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from murphy_jax.execution.sandbox import codec

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text() | st.integers(), inner, max_size=4) | st.frozensets(st.integers(), max_size=4),
    max_leaves=20,
)


def roundtrip(value):
    node = json.loads(json.dumps(codec.Encoder().encode(value)))  # through real JSON, as on the wire
    return codec.Decoder().decode(node)


def same(a, b) -> bool:
    """Equal, with the same types all the way down (1 == 1.0 == True would hide bugs)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@settings(max_examples=200, deadline=None)
@given(plain)
def test_plain_values_roundtrip_exactly(value):
    assert same(roundtrip(value), value)


@pytest.mark.parametrize("value", [
    float("inf"), -0.0, 10 ** 4000, -(10 ** 4000), 3 + 4j, bytearray(b"ab"), {1, 2}, frozenset({"a"}), range(2, 9, 3),
    decimal.Decimal("1.10"), fractions.Fraction(3, 7), datetime.date(2024, 2, 29),
    datetime.datetime(2024, 1, 1, 12, 30, tzinfo=datetime.timezone.utc), datetime.timedelta(days=2, seconds=5),
    collections.OrderedDict(b=1, a=2), collections.Counter("hello"), collections.deque([1, 2], maxlen=5),
])
def test_standard_library_values_roundtrip(value):
    back = roundtrip(value)
    assert type(back) is type(value) and back == value


def test_nan_and_negative_zero_keep_their_identity():
    back = roundtrip([float("nan"), -0.0])
    assert math.isnan(back[0]) and math.copysign(1.0, back[1]) == -1.0


def test_namedtuples_come_back_as_namedtuples():
    Point = collections.namedtuple("Point", "x y")
    back = roundtrip(Point(1, 2))
    assert back == (1, 2) and back.x == 1 and type(back).__name__ == "Point"


def test_subclasses_of_plain_types_travel_as_their_plain_value():
    class Sneaky(str):
        def __eq__(self, other):
            return True

    back = roundtrip([Sneaky("no"), True])
    assert type(back[0]) is str and back[0] == "no" and back[0] != "yes"


def test_aliasing_and_cycles_are_preserved():
    shared = [1]
    cyclic = []
    cyclic.append(cyclic)
    back = roundtrip([shared, shared, cyclic])
    assert back[0] is back[1] and back[2][0] is back[2]


def test_numeric_numpy_values_become_plain_and_arrays_stay_arrays():
    back = roundtrip([np.int64(3), np.float32(0.5), np.bool_(True), np.arange(6).reshape(2, 3)])
    assert back[:3] == [3, 0.5, True] and type(back[0]) is int and type(back[2]) is bool
    assert isinstance(back[3], np.ndarray) and back[3].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_arbitrary_objects_cannot_be_sent_as_data():
    class Obj:
        pass

    with pytest.raises(codec.EncodeError):
        codec.Encoder().encode(Obj())
    with pytest.raises(codec.EncodeError):
        codec.Encoder().encode(lambda: 1)


@pytest.mark.parametrize("node", [
    {"zz": 1}, {"t": 1, "d": 2}, {"@": 5}, {"h": [1, "x", "x", "obj"]}, {"o": ["A", []]}, {"c": ["a", 1]},
    {"nd": ["O", [1], ""]}, {"I": "zz"}, {"r": [1, "2", 3]},
])
def test_malformed_or_unexpected_nodes_are_rejected(node):
    with pytest.raises(codec.DecodeError):
        codec.Decoder().decode(node)


def test_too_deep_values_are_refused():
    deep = []
    for _ in range(codec.MAX_DEPTH + 10):
        deep = [deep, 1]
    with pytest.raises(codec.EncodeError):
        codec.Encoder().encode(deep)


def test_restore_state_writes_mutations_back_in_place():
    lst, d, s = [3, 1, 2], {"a": 1}, {1}
    for target, new in ((lst, [1, 2, 3]), (d, {"b": 2}), (s, {2, 3})):
        keep = id(target)
        codec.restore_state(target, new)
        assert id(target) == keep and target == new
