"""The structured-clone codec (`durable_dojo._core.codec`): V8's wire format and the SDK's mapping.

The expected bytes below were produced by V8 itself (Node 20's `v8.Serializer`, which writes the
same format version 15 as workerd), so they pin the codec to the platform's sizes.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import math
import random
import struct
from pathlib import Path

import pytest

from durable_dojo._core import codec as _codec
from durable_dojo._core.codec import (
    MAX_DEPTH,
    JsDict,
    clone,
    deserialize,
    serialize,
    v8_serialize,
    serialized_size,
)
from durable_dojo._core.errors import DataCloneError, JsException, RangeError

UTC = datetime.UTC


def v8(hex_bytes: str) -> bytes:
    return bytes.fromhex(hex_bytes)


def self_list() -> list:
    items: list = []
    items.append(items)
    return items


def self_dict() -> dict:
    d: dict = {}
    d["self"] = d
    return d


def shared_dict_twice() -> list:
    d: dict = {}
    return [d, d]


def shared_list_in_two_keys() -> dict:
    items = [1]
    return {"a": items, "b": items}


# (value, the bytes V8 writes for the JavaScript value the SDK makes of it)
V8_ORACLE = [
    pytest.param(None, "ff0f30", id="null"),
    pytest.param(True, "ff0f54", id="true"),
    pytest.param(1, "ff0f4902", id="int32 1"),
    pytest.param(-1, "ff0f4901", id="int32 -1"),
    pytest.param(2**31 - 1, "ff0f49feffffff0f", id="int32 max"),
    pytest.param(1.5, "ff0f4e000000000000f83f", id="double 1.5"),
    pytest.param(-0.0, "ff0f4e0000000000000080", id="double -0"),
    pytest.param(2**70, "ff0f5a2000000000000000004000000000000000", id="bigint 2**70"),
    pytest.param(-(2**70), "ff0f5a2100000000000000004000000000000000", id="bigint -2**70"),
    pytest.param(2**64, "ff0f5a2000000000000000000100000000000000", id="bigint 2**64"),
    pytest.param("ab", "ff0f22026162", id="one-byte string"),
    pytest.param("é", "ff0f2201e9", id="latin-1 string"),
    pytest.param("€", "ff0f6302ac20", id="two-byte string"),
    pytest.param("😀", "ff0f63043dd800de", id="surrogate pair"),
    pytest.param(["€"], "ff0f41016302ac20240001", id="two-byte string in array"),
    pytest.param([1, "€"], "ff0f410249026302ac20240002", id="two-byte string even offset"),
    pytest.param(["a", "€"], "ff0f4102220161006302ac20240002", id="two-byte string padded"),
    pytest.param(["ab", "€"], "ff0f4102220261626302ac20240002", id="two-byte string unpadded"),
    pytest.param([1, 2], "ff0f410249024904240002", id="dense array"),
    pytest.param({"a": 1}, "ff0f6f22016149027b01", id="object"),
    pytest.param({"x": 1.5}, "ff0f6f2201784e000000000000f83f7b01", id="object double"),
    pytest.param({"€": 1}, "ff0f6f006302ac2049027b01", id="object two-byte key"),
    pytest.param({"a": "€"}, "ff0f6f2201616302ac207b01", id="object two-byte value"),
    pytest.param({"b": 1, "1": 2}, "ff0f6f4902490422016249027b02", id="index key first"),
    pytest.param({"2147483648": 1}, "ff0f6f4e000000000000e04149027b01", id="index key double"),
    pytest.param({"4294967294": 1}, "ff0f6f4e0000c0ffffffef4149027b01", id="largest index key"),
    pytest.param({"4294967295": 1}, "ff0f6f220a3432393439363732393549027b01", id="not an index"),
    pytest.param(
        {"-1": 1, "01": 2, "1.5": 3},
        "ff0f6f22022d3149022202303149042203312e3549067b03",
        id="number-like string keys",
    ),
    pytest.param({1.5: 1, 1e21: 2}, "ff0f6f2203312e354902220531652b323149047b02", id="float keys"),
    pytest.param({1, 2}, "ff0f27490249042c02", id="set"),
    pytest.param(b"\x01\x02\x03", "ff0f4203010203", id="array buffer"),
    pytest.param(
        datetime.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC),
        "ff0f4400b08756febc7842",
        id="date",
    ),
    pytest.param(Exception("boom"), "ff0f726d2204626f6f6d2e", id="error"),
    pytest.param(self_list(), "ff0f41015e00240001", id="self-containing array"),
    pytest.param(self_dict(), "ff0f6f220473656c665e007b01", id="self-containing object"),
    pytest.param(shared_dict_twice(), "ff0f41026f7b005e01240002", id="shared object"),
    pytest.param(
        shared_list_in_two_keys(), "ff0f6f220161410149022400012201625e017b02", id="shared array"
    ),
    pytest.param(
        {"list": [1, {"x": None}], "s": {1}},
        "ff0f6f22046c697374410249026f220178307b012400022201732749022c017b02",
        id="nested",
    ),
]


# ---------------------------------------------------------------- byte layout and sizes


def test_none_serializes_to_the_header_and_the_null_tag():
    assert serialize(None) == b"\xff\x0f0"


def test_a_small_int_serializes_as_a_zigzag_int32():
    assert serialize(1) == b"\xff\x0fI\x02"


def test_an_ascii_string_serializes_as_a_one_byte_string():
    assert serialize("ab") == b'\xff\x0f"\x02ab'


@pytest.mark.parametrize(("value", "expected"), V8_ORACLE)
def test_serialize_writes_the_bytes_v8_writes(value, expected):
    assert v8_serialize(value).hex() == expected


def test_a_204800_char_ascii_string_serializes_to_204806_bytes_as_on_workerd():
    assert serialized_size("a" * 204_800) == 204_806


def test_a_16384_char_ascii_string_serializes_to_16390_bytes_as_on_workerd():
    assert serialized_size("x" * 16_384) == 16_390


def test_serialized_size_is_the_length_of_serialize():
    value = {"name": "ada", "tags": ["a", "€"], "n": 2**40, "big": 2**60}
    # 2**40 is a JS Number to Pyodide (a double in V8), 2**60 a BigInt
    assert serialized_size(value) == len(serialize(value)) == 62  # as V8 writes it


def test_date_error_and_array_buffer_take_object_ids_like_v8():
    shared: dict = {}
    value = [datetime.datetime(2024, 1, 1), Exception("x"), b"", shared, shared]
    data = v8_serialize(value)
    # ids: the array 0, the Date 1, the Error 2, the ArrayBuffer 3, the object 4
    assert data.endswith(b"o{\x00^\x04$\x00\x05")
    copy = deserialize(data)
    assert copy[3] is copy[4]


# ---------------------------------------------------------------- scalar round trips


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, 1, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**53 + 1,
        2**64 - 1, 10**100, 1.5, -2.25, 1e300, 5e-324, "", "ascii", "é ÿ",
        "€uro", "😀 and 中文", "\ud800 lone surrogate", "nul\0byte",
    ],
)  # fmt: skip
def test_a_scalar_round_trips_with_its_type(value):
    copy = deserialize(serialize(value))
    assert copy == value
    assert type(copy) is type(value)


def test_nan_and_infinities_read_back_as_floats():
    nan, inf, minus_inf = deserialize(serialize([math.nan, math.inf, -math.inf]))
    assert type(nan) is float and math.isnan(nan)
    assert inf == math.inf and type(inf) is float
    assert minus_inf == -math.inf and type(minus_inf) is float


@pytest.mark.parametrize(("value", "expected"), [(3.0, 3), (-0.0, 0), (0.0, 0), (1e15, 10**15),
                                                 (-(2.0**53 - 1), -(2**53 - 1))])
def test_a_whole_float_reads_back_as_an_int_as_pyodide_gives_a_safe_integer(value, expected):
    # Pyodide turns a JS Number that is a safe integer into a Python int (js2python).
    copy = deserialize(serialize(value))
    assert (copy, type(copy)) == (expected, int)
    assert clone(value) == expected and type(clone(value)) is int


def test_a_whole_float_beyond_the_safe_integers_stays_a_float():
    copy = deserialize(serialize(2.0**53))
    assert (copy, type(copy)) == (2.0**53, float)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**40, 2**53 - 2, -(2**53 - 2)])
def test_an_int_inside_the_safe_range_is_written_as_a_js_number(value):
    data = serialize(value)
    assert data[2:3] == b"N"  # Pyodide passes it to JavaScript as a Number
    copy = deserialize(data)
    assert copy == value and type(copy) is int


@pytest.mark.parametrize("value", [2**70, -(2**70), 2**53 - 1, -(2**53 - 1), 2**64, -(2**200)])
def test_an_int_outside_the_safe_range_round_trips_through_a_bigint(value):
    data = serialize(value)
    assert data[2:3] == b"Z"
    copy = deserialize(data)
    assert copy == value and type(copy) is int


def test_bytes_and_memoryview_read_back_as_memoryview():
    copy = deserialize(serialize([b"ab", memoryview(b"xyz")[1:], b""]))
    assert copy == [b"ab", b"yz", b""]
    assert [type(item) for item in copy] == [memoryview, memoryview, memoryview]
    assert clone(b"ab") == b"ab" and type(clone(b"ab")) is memoryview


def test_an_int_enum_is_written_as_its_int_value():
    import enum

    class Color(enum.IntEnum):
        RED = 7

    copy = deserialize(serialize({Color.RED: Color.RED}))
    assert copy == {"7": 7}
    assert type(copy["7"]) is int


# ---------------------------------------------------------------- containers


def test_a_list_reads_back_as_a_list_and_a_dict_as_a_jsdict_recursively():
    copy = deserialize(serialize({"users": [{"name": "ada", "roles": ["admin"]}], "n": 1}))
    assert copy == {"users": [{"name": "ada", "roles": ["admin"]}], "n": 1}
    assert type(copy) is JsDict
    assert type(copy["users"]) is list
    assert type(copy["users"][0]) is JsDict
    assert type(copy["users"][0]["roles"]) is list


def test_set_and_frozenset_read_back_as_sets():
    copy = deserialize(serialize([{1, "a", b"b"}, frozenset({2.5, None})]))
    assert copy == [{1, "a", memoryview(b"b")}, {2.5, None}]
    assert [type(item) for item in copy] == [set, set]


def test_a_set_inside_a_set_reads_back_as_a_frozenset():
    copy = deserialize(serialize({frozenset({1, 2})}))
    assert copy == {frozenset({1, 2})}
    assert type(next(iter(copy))) is frozenset


def test_an_empty_list_dict_and_set_round_trip():
    assert deserialize(serialize([[], {}, set()])) == [[], {}, set()]


def test_a_dict_subclass_is_written_as_an_object():
    import collections

    copy = deserialize(serialize(collections.OrderedDict(a=1)))
    assert copy == {"a": 1}
    assert type(copy) is JsDict


# ---------------------------------------------------------------- JsDict


def test_jsdict_reads_a_key_as_an_attribute():
    d = deserialize(serialize({"name": "ada", "age": 36}))
    assert d.name == "ada"
    assert d.age == 36


def test_jsdict_raises_attribute_error_for_a_missing_key():
    d = JsDict(a=1)
    with pytest.raises(AttributeError, match="^missing$"):
        d.missing  # noqa: B018


def test_jsdict_attribute_assignment_sets_the_key():
    d = JsDict()
    d.x = 1
    assert d == {"x": 1}
    assert d["x"] == 1


def test_jsdict_is_a_dict_and_keeps_dict_methods():
    d = JsDict(items=1, a=2)
    assert isinstance(d, dict)
    assert d["items"] == 1
    assert sorted(d.items()) == [("a", 2), ("items", 1)]


def test_jsdict_works_with_getattr_defaults_and_hasattr():
    d = JsDict(a=1)
    assert getattr(d, "b", "default") == "default"
    assert hasattr(d, "a") and not hasattr(d, "b")


# ---------------------------------------------------------------- dict keys


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("name", "name"),
        (1, "1"),
        (-7, "-7"),
        (2**70, "1180591620717411303424"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (1.5, "1.5"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_a_dict_key_becomes_the_property_key_object_fromentries_makes(key, expected):
    copy = deserialize(serialize({key: "v"}))
    assert list(copy) == [expected]
    assert type(list(copy)[0]) is str


def test_a_float_key_equal_to_an_int_is_written_as_an_index():
    assert serialize({1.0: "v"}) == serialize({"1": "v"}) == serialize({1: "v"})


def test_array_index_keys_come_first_in_ascending_order():
    copy = deserialize(serialize({"b": 1, "10": 2, "a": 3, "2": 4, "01": 5, -1: 6}))
    assert list(copy) == ["2", "10", "b", "a", "01", "-1"]


def test_keys_that_coerce_to_the_same_property_keep_the_first_position_and_last_value():
    copy = deserialize(serialize({"x": 0, 1: "int", "y": 0, "1": "str"}))
    assert list(copy.items()) == [("1", "str"), ("x", 0), ("y", 0)]


@pytest.mark.parametrize("key", [(1, 2), b"k", frozenset()])
def test_an_unsupported_dict_key_raises_data_clone_error(key):
    with pytest.raises(DataCloneError) as caught:
        serialize({key: 1})
    assert caught.value.message == f"{key!r} could not be cloned."


# ---------------------------------------------------------------- datetime and Exception


def test_a_datetime_reads_back_with_millisecond_precision():
    value = datetime.datetime(2024, 5, 6, 7, 8, 9, 123999)
    copy = deserialize(serialize(value))
    assert copy == datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
    assert type(copy) is datetime.datetime
    assert copy.tzinfo is None


def test_an_aware_datetime_reads_back_as_naive_utc():
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    value = datetime.datetime(2024, 1, 2, 12, 4, 5, 678000, tzinfo=tokyo)
    copy = deserialize(serialize(value))
    assert copy.tzinfo is None
    assert copy == datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)


def test_a_naive_datetime_is_utc_whatever_the_machines_time_zone(monkeypatch):
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset() is needed to change the zone")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        value = datetime.datetime(2024, 7, 1, 12, 0)
        data = serialize(value)
        # Date's milliseconds: 2024-07-01T12:00Z, not 16:00Z (New York's summer offset)
        assert data[3:] == struct.pack("<d", 1719835200000.0)
        assert deserialize(data) == value
    finally:
        monkeypatch.undo()
        time.tzset()


def test_an_exception_reads_back_as_an_exception_holding_the_js_error_string():
    copy = deserialize(serialize(ValueError("bad input")))
    assert type(copy) is Exception
    assert copy.args == ("Error: bad input",)


def test_an_exception_without_a_message_reads_back_as_just_error():
    copy = deserialize(serialize(Exception()))
    assert copy.args == ("Error",)


# ---------------------------------------------------------------- identity, cycles, depth


def test_a_self_containing_value_fails_with_recursion_error_as_in_the_sdk():
    # python_to_rpc copies dicts and lists recursively with no memo, so a cycle never ends.
    with pytest.raises(RecursionError):
        serialize(self_list())
    with pytest.raises(RecursionError):
        serialize(self_dict())


def test_shared_references_split_as_the_sdk_copies_them():
    shared = {"n": 1}
    copy = deserialize(serialize([shared, shared, [shared]]))
    assert copy == [{"n": 1}, {"n": 1}, [{"n": 1}]]
    assert copy[0] is not copy[1] and copy[2][0] is not copy[0]


def test_a_self_containing_js_array_reads_back_self_containing():
    copy = deserialize(v8_serialize(self_list()))
    assert type(copy) is list and len(copy) == 1
    assert copy[0] is copy


def test_a_self_containing_js_object_reads_back_self_containing():
    copy = deserialize(v8_serialize(self_dict()))
    assert copy.self is copy


def test_shared_references_stay_shared_and_distinct_ones_stay_distinct():
    shared = {"n": 1}
    other = {"n": 1}
    copy = deserialize(v8_serialize([shared, other, shared]))
    assert copy[0] is copy[2]
    assert copy[0] is not copy[1]
    assert copy[0] is not shared


def test_a_cycle_through_a_dict_and_a_list_is_preserved():
    node: dict = {"children": []}
    node["children"].append({"parent": node})
    copy = deserialize(v8_serialize(node))
    assert copy.children[0].parent is copy


def nested_lists(depth: int) -> list:
    root: list = []
    current = root
    for _ in range(depth - 1):
        inner: list = []
        current.append(inner)
        current = inner
    return root


def nesting_depth(value: list) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def test_nesting_max_depth_levels_deep_round_trips():
    assert MAX_DEPTH == 10_000
    copy = deserialize(v8_serialize(nested_lists(MAX_DEPTH)))
    assert nesting_depth(copy) == MAX_DEPTH


def test_nesting_deeper_than_max_depth_raises_range_error_not_recursion_error():
    with pytest.raises(RangeError, match="Maximum call stack size exceeded"):
        v8_serialize(nested_lists(MAX_DEPTH + 1))


def test_a_python_value_nested_past_the_recursion_limit_fails_in_the_sdks_copy():
    import sys

    with pytest.raises(RecursionError):
        serialize(nested_lists(sys.getrecursionlimit() + 10))


def test_deserializing_data_nested_deeper_than_max_depth_raises_range_error():
    depth = MAX_DEPTH + 1
    data = b"\xff\x0f" + b"A\x01" * depth + b"0" + b"$\x00\x01" * depth
    with pytest.raises(RangeError, match="Maximum call stack size exceeded"):
        deserialize(data)


# ---------------------------------------------------------------- copy semantics


def test_mutating_the_original_after_serialize_does_not_change_what_deserialize_returns():
    original = {"items": [1, 2], "meta": {"v": 1}}
    data = serialize(original)
    original["items"].append(3)
    original["meta"]["v"] = 2
    original["new"] = True
    assert deserialize(data) == {"items": [1, 2], "meta": {"v": 1}}


def test_two_deserializations_are_distinct_objects():
    data = serialize({"items": [1]})
    first, second = deserialize(data), deserialize(data)
    assert first == second
    assert first is not second
    assert first["items"] is not second["items"]


def test_clone_returns_an_immutable_scalar_itself():
    text = "".join(["some ", "text"])
    big = 2**100
    for value in (None, True, 7, big, 1.5, text):
        assert clone(value) is value


def test_clone_of_a_container_is_a_deep_copy():
    original = {"a": [1, {"b": 2}]}
    copy = clone(original)
    assert copy == original
    assert copy is not original
    assert copy["a"] is not original["a"]
    assert copy["a"][1] is not original["a"][1]
    assert type(copy) is JsDict


def test_clone_of_an_int_subclass_gives_a_plain_int():
    class Count(int):
        pass

    copy = clone(Count(3))
    assert copy == 3 and type(copy) is int


# ---------------------------------------------------------------- refused values


def test_a_tuple_cannot_be_sent_over_rpc():
    with pytest.raises(TypeError) as caught:
        serialize((1, 2))
    assert str(caught.value) == "<class 'tuple'> cannot be sent over RPC."
    assert not isinstance(caught.value, DataCloneError)


def test_a_bytearray_cannot_be_sent_over_rpc():
    with pytest.raises(TypeError) as caught:
        serialize(bytearray(b"x"))
    assert str(caught.value) == "<class 'bytearray'> cannot be sent over RPC."


def test_a_tuple_nested_in_a_dict_value_cannot_be_sent_over_rpc():
    with pytest.raises(TypeError) as caught:
        serialize({"point": [1, (2, 3)]})
    assert str(caught.value) == "<class 'tuple'> cannot be sent over RPC."


def test_a_coroutine_cannot_be_sent_over_rpc():
    async def work():
        return 1

    coroutine = work()
    try:
        with pytest.raises(TypeError) as caught:
            serialize(coroutine)
    finally:
        coroutine.close()
    assert str(caught.value) == "Awaitable <class 'coroutine'> cannot be sent over RPC."


def test_an_object_with_await_cannot_be_sent_over_rpc():
    class Pending:
        def __await__(self):
            yield

    with pytest.raises(TypeError) as caught:
        serialize([Pending()])
    assert str(caught.value) == f"Awaitable {Pending} cannot be sent over RPC."


def test_a_refused_type_wins_over_an_uncloneable_value_wherever_it_sits():
    with pytest.raises(TypeError) as caught:
        serialize([object(), {"z": (1,), "1": bytearray()}])
    assert str(caught.value) == "<class 'tuple'> cannot be sent over RPC."
    assert not isinstance(caught.value, DataCloneError)


def test_a_function_could_not_be_cloned():
    def handler():
        return None

    with pytest.raises(DataCloneError) as caught:
        serialize({"callback": handler})
    assert caught.value.message == f"{handler!r} could not be cloned."


def test_an_object_instance_could_not_be_cloned():
    value = object()
    with pytest.raises(DataCloneError) as caught:
        serialize(value)
    assert caught.value.message == f"{value!r} could not be cloned."


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2024, 1, 1),
        decimal.Decimal("1.5"),
        int,
        KeyboardInterrupt(),
        range(3),
        iter([1]),
        complex(1, 2),
    ],
    ids=["date", "Decimal", "class", "BaseException", "range", "iterator", "complex"],
)
def test_other_values_could_not_be_cloned(value):
    with pytest.raises(DataCloneError) as caught:
        serialize(value)
    assert caught.value.message == f"{value!r} could not be cloned."


def test_data_clone_error_is_a_js_exception_named_data_clone_error_not_a_type_error():
    with pytest.raises(JsException) as caught:
        clone(object())
    assert caught.value.name == "DataCloneError" and not isinstance(caught.value, TypeError)
    assert str(caught.value).startswith("DataCloneError: <object object at ")


# ---------------------------------------------------------------- reading V8 data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("ff0f5f", None, id="undefined"),
        pytest.param("ff0f41025f30240002", [None, None], id="undefined and null"),
        pytest.param("ff0f61034900490249044906400203", [1, None, 3], id="array with a hole"),
        pytest.param("ff0f6106490a220178400106", [None] * 5 + ["x"], id="sparse array"),
        pytest.param("ff0f3b22016b410149022400013a02", {"k": [1]}, id="Map"),
        pytest.param("ff0f4204010203045642010200", b"\x02\x03", id="Uint8Array view"),
        pytest.param("ff0f6e0000000000001440", 5.0, id="Number object"),
        pytest.param("ff0f73220173", "s", id="String object"),
        pytest.param("ff0f79", True, id="Boolean object"),
        pytest.param("ff0f5303c3a978", "éx", id="UTF-8 string"),
        pytest.param("ff0f55ffffffff0f", 2**32 - 1, id="uint32"),
        pytest.param("ff0f3f024902", 1, id="verify object count"),
        pytest.param("ff0f0000004902", 1, id="padding before a tag"),
        pytest.param("ff0d4902", 1, id="format version 13"),
    ],
)
def test_deserialize_reads_v8_records_this_codec_never_writes(data, expected):
    assert deserialize(v8(data)) == expected


def test_deserialize_reads_a_v8_type_error_with_stack_and_cause():
    # new TypeError("bad", {cause: 5}) with a short stack, as V8 writes it
    data = v8("ff0f72546d2203626164" + "63490a" + "73220e547970654572726f723a20626164" + "2e")
    copy = deserialize(data)
    assert type(copy) is Exception
    assert copy.args == ("TypeError: bad",)


def test_deserialize_reads_a_map_with_number_keys_as_a_jsdict():
    copy = deserialize(v8("ff0f3b49022201612749022c0122016b3a04"))
    assert copy == {1: "a", frozenset({1}): "k"}
    assert type(copy) is JsDict


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff", id="header without version"),
        pytest.param(b"\xff\x0f", id="no value"),
        pytest.param(b"I\x02", id="no header"),
        pytest.param(b"\xff\x10I\x02", id="future version"),
        pytest.param(b"\xff\x0cI\x02", id="too old version"),
        pytest.param(b"\xff\x0fQ", id="unknown tag"),
        pytest.param(b'\xff\x0f"\x05ab', id="truncated string"),
        pytest.param(b"\xff\x0fc\x03abc", id="odd two-byte length"),
        pytest.param(b"\xff\x0fN\x00\x00", id="truncated double"),
        pytest.param(b"\xff\x0fI\xff\xff\xff\xff\x7f", id="int32 out of range"),
        pytest.param(b"\xff\x0fI" + b"\xff" * 12, id="endless varint"),
        pytest.param(b"\xff\x0f^\x00", id="reference to nothing"),
        pytest.param(b"\xff\x0fA\x01^\x05$\x00\x01", id="reference to unknown id"),
        pytest.param(b"\xff\x0fA\x05I\x02$\x00\x05", id="array length past the end"),
        pytest.param(b"\xff\x0fA\x01I\x02$\x00\x02", id="array length mismatch"),
        pytest.param(b'\xff\x0fo"\x01aI\x02{\x02', id="property count mismatch"),
        pytest.param(b"\xff\x0foA\x00$\x00\x00I\x02{\x01", id="array as property key"),
        pytest.param(b'\xff\x0fo"\x01aI\x02', id="unterminated object"),
        pytest.param(b"\xff\x0f'A\x00$\x00\x00,\x01", id="list in a set"),
        pytest.param(b"\xff\x0f;o{\x00I\x02:\x02", id="object as a map key"),
        pytest.param(b"\xff\x0fr\x7f.", id="unknown error field"),
        pytest.param(b"\xff\x0frmI\x02.", id="error message not a string"),
        pytest.param(b"\xff\x0fr\x63^\x00.", id="error cause refers to the error"),
        pytest.param(b"\xff\x0fD\x00\x00\x00\x00\x00\x00\xf8\x7f", id="invalid date"),
        pytest.param(b"\xff\x0fB\x02abVB\x01\x05\x00", id="view past its buffer"),
        pytest.param(b"\xff\x0fB\x02abVZ\x00\x01\x00", id="unknown view type"),
        pytest.param(b"\xff\x0fa\xff\xff\xff\xff\x0f@\x00\x00", id="huge sparse array"),
        pytest.param(b"\xff\x0fI\x02I\x02", id="trailing bytes"),
        pytest.param(b"\xff\x0f?", id="verify count without value"),
        pytest.param(b"\xff\x0f" + b"?\x00" * 5000, id="many verify counts"),
        pytest.param(b"\xff\x0f\\\x00", id="host object"),
    ],
)
def test_malformed_input_raises_value_error(data):
    with pytest.raises(ValueError):
        deserialize(data)


def test_deserialize_of_something_that_is_not_bytes_raises_type_error():
    with pytest.raises(TypeError, match="needs bytes"):
        deserialize("not bytes")


def test_corrupted_and_truncated_data_only_ever_raises_value_error():
    samples = [v8_serialize(value) for value, _ in (param.values for param in V8_ORACLE)]
    samples.append(serialize({"deep": [[{"x": {1, 2}}], b"bytes", 2**90, "€", -0.5]}))
    rng = random.Random(20240601)
    candidates = []
    for sample in samples:
        candidates.extend(sample[:cut] for cut in range(len(sample)))
        for _ in range(60):
            corrupted = bytearray(sample)
            for _ in range(rng.randint(1, 3)):
                corrupted[rng.randrange(2, len(corrupted))] = rng.randrange(256)
            candidates.append(bytes(corrupted))
    for _ in range(2000):
        candidates.append(b"\xff\x0f" + rng.randbytes(rng.randint(1, 24)))
    outcomes = {"read": 0, "rejected": 0}
    for data in candidates:
        try:
            deserialize(data)
        except ValueError:
            outcomes["rejected"] += 1
        else:
            outcomes["read"] += 1
    assert outcomes["read"] > 100 and outcomes["rejected"] > 1000


# ---------------------------------------------------------------- the module itself


def test_the_codec_never_uses_pickle_eval_exec_or_importlib():
    source = Path(_codec.__file__).read_text(encoding="utf-8")
    for forbidden in ("pickle", "eval(", "exec(", "importlib", "__import__", "marshal"):
        assert forbidden not in source


def test_the_codec_imports_only_light_standard_library_modules():
    tree = ast.parse(Path(_codec.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {
        "__future__", "datetime", "math", "struct", "collections.abc", "types", ".errors", ".values",
    }  # fmt: skip
