"""Arguments checked as workerd's WebIDL layer checks them, with its error and nothing else
happening: a callback that is not a function, ListOptions that are an array, null or out of
int32 range. Each case was read off workerd 1.20261117.1 (conformance scenarios edge_callbacks
and edge_list_arguments)."""

from __future__ import annotations

import pytest

from durable_dojo import Runtime
from pyodide.ffi import JsException
from workers import DurableObject

NOT_A_FUNCTION = "Failed to execute '{method}' on '{interface}': parameter 1 is not of type 'function'."


class Probe(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.mark = "kept"

    async def call(self, what):
        s = self.ctx.storage
        calls = {
            "bcw_number": lambda: self.ctx.blockConcurrencyWhile(5),
            "bcw_nothing": lambda: self.ctx.blockConcurrencyWhile(),
            "transaction_number": lambda: s.transaction(5),
            "transaction_sync_text": lambda: s.transactionSync("x"),
        }
        try:
            result = calls[what]()
            if hasattr(result, "__await__"):
                await result
        except JsException as error:
            return [error.name, error.message, self.mark]
        return ["no error", None, self.mark]

    async def listed(self, options):
        for key in ("a", "b", "c"):
            await self.ctx.storage.put(key, 1)
        try:
            return list(await self.ctx.storage.list(options))
        except JsException as error:
            return [error.name, error.message]


@pytest.fixture
def probe():
    rt = Runtime(durable_objects={"PROBE": Probe})
    yield rt.env.PROBE.getByName("p"), rt
    rt.close()


@pytest.mark.parametrize("what, method, interface", [
    ("bcw_number", "blockConcurrencyWhile", "DurableObjectState"),
    ("bcw_nothing", "blockConcurrencyWhile", "DurableObjectState"),
    ("transaction_number", "transaction", "DurableObjectStorage"),
    ("transaction_sync_text", "transactionSync", "DurableObjectStorage"),
])
async def test_a_callback_that_is_not_a_function_is_a_type_error_and_no_reset(probe, what, method, interface):
    stub, rt = probe
    name, message, mark = await stub.call(what)
    assert (name, message) == ("TypeError", NOT_A_FUNCTION.format(method=method, interface=interface))
    assert mark == "kept"
    assert (await stub.call(what))[2] == "kept"  # the same instance answers again: no reset


async def test_an_array_as_list_options_lists_backwards(probe):
    """To WebIDL an array is an object whose `reverse` member is Array.prototype.reverse: true."""
    stub, _ = probe
    assert await stub.listed([]) == ["c", "b", "a"]


@pytest.mark.parametrize("limit, message", [
    (None, "List limit must be positive."),  # JS null: 0
    (2**31, "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."),
    (-(2**31) - 1, "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."),
])
async def test_a_list_limit_is_a_webidl_int(probe, limit, message):
    stub, _ = probe
    assert await stub.listed({"limit": limit}) == ["TypeError", message]


async def test_the_largest_int32_limit_lists_everything(probe):
    stub, _ = probe
    assert await stub.listed({"limit": 2**31 - 1}) == ["a", "b", "c"]
