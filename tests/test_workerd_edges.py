"""Argument and value edges held to workerd 1.20261117.1: each expected value and message below
is what the conformance suite's JS twin got from workerd (the scenario is named in each test),
as a Python Worker sees it. A bad argument gets the platform's error and changes nothing."""

from __future__ import annotations

import datetime

import pytest
from workers import DurableObject

from durable_dojo import DataCloneError
from durable_dojo._core.codec import datetime_ms
from pyodide.ffi import JsException


class Box(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.count = 0

    async def run(self, name, *args):
        """Call `name` on ctx.storage and return ["ok", value] or ["err", JS name, message]."""
        try:
            value = getattr(self.ctx.storage, name)(*args)
            if hasattr(value, "__await__"):
                value = await value
            return ["ok", value]
        except JsException as e:
            return ["err", e.name, e.message]

    async def kv(self, name, *args):
        try:
            return ["ok", getattr(self.ctx.storage.kv, name)(*args)]
        except JsException as e:
            return ["err", e.name, e.message]

    async def keys(self):
        return [[k, v] for k, v in (await self.ctx.storage.list()).items()]

    async def seed(self):
        await self.ctx.storage.deleteAll()
        await self.ctx.storage.put({"a": 1, "b": 2})

    async def returned(self, kind, value):
        """`float(value)` returned by a blockConcurrencyWhile / transaction / transactionSync
        callback (made here: a float argument would arrive through RPC already converted)."""
        s = self.ctx.storage
        value = float(value)

        async def give(*_):
            return value

        if kind == "bcw":
            result = await self.ctx.blockConcurrencyWhile(give)
        elif kind == "txn":
            result = await s.transaction(give)
        else:
            result = s.transactionSync(lambda: value)
        return [type(result).__name__, result]

    async def call_back(self, fn, x):
        return await fn(x)

    async def make_counter(self):
        def bump(k):
            self.count += k
            return self.count

        return bump

    async def ping(self):
        return "pong"

    async def keep_fn(self, fn):
        self.kept_fn = fn

    async def call_kept(self, x):
        return await self.kept_fn(x)

    async def length(self, text):
        return len(text)

    async def text_of(self, n):
        return "x" * n

    async def call_peer(self, peer):
        return await peer.ping()

    async def _underscored(self):
        return "reached"


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"BOX": Box})


@pytest.fixture
def box(rt):
    return rt.env.BOX.getByName("box")


# st_list_limit_coercion
async def test_a_list_limit_that_python_sends_as_a_bigint_is_a_type_error(box):
    await box.seed()
    assert await box.run("list", {"limit": 2**64}) == ["err", "TypeError", "Cannot convert a BigInt value to a number"]
    assert await box.run("list", {"limit": 2**53 - 1}) == [  # a Number: out of int32's range instead
        "err", "TypeError", "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."]
    assert list((await box.run("list", {"limit": [1]}))[1]) == ["a"]  # ToNumber([1]) is 1


# st_list_option_types
async def test_a_list_bound_of_none_is_the_key_null(box):
    await box.seed()
    await box.run("put", "null", 0)
    assert list((await box.run("list", {"prefix": None}))[1]) == ["null"]
    assert list((await box.run("list", {"start": None}))[1]) == ["null"]
    assert list((await box.run("list", {"end": None}))[1]) == ["a", "b"]


# st_options_not_objects
@pytest.mark.parametrize("call, message", [
    (("get", "a", 5), "Failed to execute 'get' on 'DurableObjectStorage': parameter 2 is not of type 'GetOptions'."),
    (("get", ["a"], "x"), "Failed to execute 'get' on 'DurableObjectStorage': parameter 2 is not of type 'GetOptions'."),
    (("get", "a", 0), "Failed to execute 'get' on 'DurableObjectStorage': parameter 2 is not of type 'GetOptions'."),
    (("put", "a", 9, 5), "Failed to execute 'put' on 'DurableObjectStorage': parameter 3 is not of type 'PutOptions'."),
    (("put", "a", 9, False), "Failed to execute 'put' on 'DurableObjectStorage': parameter 3 is not of type 'PutOptions'."),
    (("delete", "a", True), "Failed to execute 'delete' on 'DurableObjectStorage': parameter 2 is not of type 'PutOptions'."),
    (("deleteAll", 5), "Failed to execute 'deleteAll' on 'DurableObjectStorage': parameter 1 is not of type 'PutOptions'."),
    (("getAlarm", 5), "Failed to execute 'getAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'GetAlarmOptions'."),
    (("setAlarm", 4 * 10**12, 5), "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 2 is not of type 'SetAlarmOptions'."),
    (("deleteAlarm", "x"), "Failed to execute 'deleteAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'SetAlarmOptions'."),
])
async def test_options_that_are_not_objects_are_type_errors_and_change_nothing(box, call, message):
    await box.seed()
    assert await box.run(*call) == ["err", "TypeError", message]
    assert await box.keys() == [["a", 1], ["b", 2]]
    assert await box.run("getAlarm") == ["ok", None]


async def test_options_of_none_or_a_dict_are_accepted(box):
    await box.seed()
    assert await box.run("get", "a", None) == ["ok", 1]
    assert await box.run("put", "c", 3, None) == ["ok", None]
    assert await box.run("delete", "c", {"allowUnconfirmed": True}) == ["ok", True]


# st_key_types
async def test_a_list_as_a_key_is_its_items_joined_by_commas(box):
    await box.seed()
    assert await box.run("put", ["l1", "l2"], 7) == ["ok", None]
    assert await box.run("get", "l1,l2") == ["ok", 7]
    assert await box.run("get", [["l1", "l2"], [None, "b"]]) == ["ok", {"l1,l2": 7}]
    assert await box.run("delete", [["l1", "l2"]]) == ["ok", 1]


# st_callback_results
@pytest.mark.parametrize("kind", ["bcw", "txn", "sync"])
async def test_a_callbacks_whole_float_comes_back_as_an_int(box, kind):
    assert await box.returned(kind, "3.0") == ["int", 3]
    assert await box.returned(kind, "-0.0") == ["int", 0]
    assert await box.returned(kind, "2.5") == ["float", 2.5]


# st_sync_kv_edges
async def test_sync_kv_errors_name_sync_kv_storage(box):
    await box.seed()
    assert await box.kv("put", "u") == [
        "err", "TypeError", "Failed to execute 'put' on 'SyncKvStorage': parameter 2 is not of type 'Value'."]
    assert await box.kv("list", 5) == [
        "err", "TypeError", "Failed to execute 'list' on 'SyncKvStorage': parameter 1 is not of type 'ListOptions'."]
    assert await box.kv("get", ["a"]) == ["ok", 1]
    assert await box.keys() == [["a", 1], ["b", 2]]


# val_datetimes, alm_datetime_forms
def test_a_datetime_is_whole_milliseconds_toward_zero_as_the_sdks_date():
    assert datetime_ms(datetime.datetime(1969, 12, 31, 23, 59, 59, 999500)) == 0
    assert datetime_ms(datetime.datetime(1969, 12, 31, 23, 59, 59, 998999)) == -1
    assert datetime_ms(datetime.datetime(2021, 6, 1, 12, 0, 0, 123999, tzinfo=datetime.UTC)) == 1622548800123


async def test_a_stored_datetime_just_before_the_epoch_reads_back_as_the_epoch(box):
    await box.run("put", "d", datetime.datetime(1969, 12, 31, 23, 59, 59, 999500))
    assert await box.run("get", "d") == ["ok", datetime.datetime(1970, 1, 1)]


# alm_time_bounds
async def test_set_alarm_takes_whole_milliseconds_and_refuses_a_bigint(box):
    await box.run("setAlarm", 4 * 10**12)
    assert await box.run("setAlarm", 0.5) == ["err", "TypeError", "setAlarm() cannot be called with an alarm time <= 0"]
    assert await box.run("setAlarm", 0.9999) == ["err", "TypeError", "setAlarm() cannot be called with an alarm time <= 0"]
    assert await box.run("setAlarm", 2**64) == [
        "err", "TypeError", "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'."]
    assert await box.run("getAlarm") == ["ok", 4 * 10**12]


# id_odd_names, id_get_across, id_equals_and_text
def test_a_namespace_gets_none_as_undefined(rt):
    ns = rt.env.BOX
    assert ns.idFromName(None).toString() == ns.idFromName("undefined").toString()
    assert ns.getByName(None).name == "undefined"


async def test_storage_gets_none_as_null(box):
    await box.run("put", None, 1)  # the SDK's wrapper sends None as null
    assert await box.run("get", "null") == ["ok", 1]


def test_namespace_get_options_and_id_equals_check_their_arguments(rt):
    ns = rt.env.BOX
    id_ = ns.idFromName("x")
    with pytest.raises(JsException) as caught:
        ns.get(id_, 5)
    assert caught.value.message == ("Failed to execute 'get' on 'DurableObjectNamespace': parameter 2 is not of "
                                    "type 'GetDurableObjectOptions'.")
    assert ns.get(id_, {"locationHint": "enam"}).id.equals(id_)
    with pytest.raises(JsException) as caught:
        id_.equals()
    assert caught.value.message == ("Failed to execute 'equals' on 'DurableObjectId': parameter 1 is not of type "
                                    "'DurableObjectId'.")


# rpc_function_argument, rpc_function_result
async def test_a_function_passed_over_rpc_is_callable_by_the_receiver(box):
    calls = []

    def double(n):
        calls.append(n)
        return n * 2.0

    assert await box.call_back(double, 21) == 42
    assert calls == [21]  # it ran where it was made, with a copy of the argument


async def test_a_function_returned_over_rpc_runs_in_the_object_that_made_it(rt, box):
    bump = await box.make_counter()
    assert await bump(2) == 2
    assert await bump(5) == 7
    assert rt.metrics("BOX")["requests"] == 3  # each call is a request into the object


# rpc_stub_argument
async def test_a_stub_crosses_rpc_and_an_id_does_not(rt, box):
    assert await box.call_peer(rt.env.BOX.getByName("peer")) == "pong"
    with pytest.raises(DataCloneError) as caught:
        box.call_peer(rt.env.BOX.idFromName("peer"))
    assert caught.value.message == ('Could not serialize object of type "DurableObjectId". This type does not '
                                    "support serialization.")


# rpc_reserved_and_private
async def test_a_method_with_a_leading_underscore_is_callable_over_rpc(box):
    assert await box._underscored() == "reached"


# rpc_function_after_call
async def test_a_function_argument_is_disposed_when_its_call_completes(box):
    await box.keep_fn(lambda n: n + 1)
    with pytest.raises(JsException) as caught:
        await box.call_kept(1)
    assert (caught.value.name, caught.value.message) == ("Error", "RPC stub used after being disposed.")


# rpc_size_limit
async def test_rpc_arguments_and_results_are_bounded_at_32_mib(box):
    mib = 1024 * 1024
    assert await box.length("x" * (32 * mib - 64)) == 32 * mib - 64
    with pytest.raises(JsException) as caught:
        box.length("x" * (32 * mib + 1))
    assert caught.value.message == ("Serialized RPC arguments or return values are limited to 32MiB, but the size "
                                    "of this value was: 33554445 bytes.")
    with pytest.raises(JsException) as caught:
        await box.text_of(32 * mib + 1)
    assert caught.value.message == ("Serialized RPC arguments or return values are limited to 32MiB, but the size "
                                    "of this value was: 33554440 bytes.")
    assert caught.value.remote is True


# id_new_unique_arguments
def test_new_unique_id_takes_an_array_as_an_options_object(rt):
    assert len(rt.env.BOX.newUniqueId([]).toString()) == 64
    with pytest.raises(JsException) as caught:
        rt.env.BOX.newUniqueId("eu")
    assert caught.value.message == ("Failed to execute 'newUniqueId' on 'DurableObjectNamespace': parameter 1 is "
                                    "not of type 'NewUniqueIdOptions'.")
