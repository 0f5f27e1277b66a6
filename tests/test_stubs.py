"""Stubs: RPC and fetch into objects, copies across the boundary, errors (semantics §8, 9.4, 2.13)."""

import asyncio
import traceback

import pytest

from durable_dojo import DataCloneError, JsError, RangeError
from workers import DurableObject, Request, Response
from pyodide.ffi import JsException
from durable_dojo._core.errors import python_error_line


class Shapes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.kept = None

    def sync_add(self, a, b):
        return a + b

    async def async_add(self, a, b):
        await asyncio.sleep(0)
        return a + b

    def keep(self, value):
        value["touched_inside"] = True  # mutates the object's copy only
        self.kept = value
        return value

    def kept_value(self):
        return self.kept

    def give_list(self):
        return self.kept["items"]

    def raise_range(self):
        raise RangeError("out of range")

    def raise_custom(self):
        class Overdrawn(Exception):
            pass

        raise Overdrawn("balance would go negative")

    def raise_builtin(self):
        raise ValueError("boom")

    def return_function(self):
        return lambda: 1

    def return_object(self):
        return object()

    def _private(self):
        return "secret"

    @staticmethod
    def static_helper():
        return "static"

    async def alarm(self, info):
        return "alarm"

    async def fetch(self, request: Request):
        body = await request.text()
        return Response(f"{request.method} {request.url} {body} {request.headers.get('x-test')}", status=201)


class NoFetch(DurableObject):
    def hello(self):
        return "hi"


class WrongFetch(DurableObject):
    async def fetch(self, request):
        return "not a response"


@pytest.fixture
def stub(make_runtime):
    rt = make_runtime(durable_objects={"S": Shapes, "N": NoFetch, "W": WrongFetch})
    return rt.env.S.getByName("s")


# 8.1 / 9.4: every public method, sync or async, is awaitable over RPC.
async def test_sync_and_async_methods_are_both_awaitable_over_rpc(stub):
    assert await stub.sync_add(2, 3) == 5
    assert await stub.async_add(2, 3) == 5


# 8.1: arguments and results are structured-clone copies.
async def test_rpc_arguments_and_results_are_copies(stub):
    original = {"items": [1, 2]}
    returned = await stub.keep(original)
    assert original == {"items": [1, 2]}  # the object's mutation did not reach the caller's dict
    assert returned == {"items": [1, 2], "touched_inside": True}
    returned["items"].append(3)
    assert await stub.give_list() == [1, 2]
    assert returned is not original


async def test_an_rpc_argument_is_copied_when_the_call_is_made(stub):
    """One copy, made by the stub as the call leaves: a later change by the caller, before the
    object has run, does not reach it (the event alone holds the copy, so the object needs none)."""
    value = {"items": [1]}
    call = stub.keep(value)
    value["items"].append(2)
    assert (await call)["items"] == [1]


async def test_rpc_dict_results_allow_attribute_access_like_the_sdk(stub):
    await stub.keep({"items": []})
    assert (await stub.kept_value()).touched_inside is True


async def test_unclonable_argument_and_result_raise_data_clone_error(stub):
    with pytest.raises(TypeError, match=r"^<class 'tuple'> cannot be sent over RPC\.$"):  # the SDK's, in Python
        stub.keep((1, 2))
    with pytest.raises(DataCloneError, match=r"could not be cloned\.$"):
        await stub.return_object()


# 8.2 / 9.4: workerd's Python entrypoint proxy calls any callable attribute of the object and
# refuses anything else with its own message (python-entrypoint-helper, makeEntrypointProxyHandler).
@pytest.mark.parametrize("name", ["nope", "kept"])
async def test_a_name_that_is_not_callable_on_the_object_is_refused_by_the_python_entrypoint(stub, name):
    with pytest.raises(JsException, match=f"^TypeError: Method {name} does not exist$") as caught:
        await getattr(stub, name)()
    assert caught.value.remote is True


async def test_static_and_underscored_methods_are_callable_over_rpc(stub):
    assert await stub.static_helper() == "static"
    assert await stub._private() == "secret"


# Reserved names fail with workerd's own message (worker-rpc.c++ isReservedName; js-rpc-test.js).
# (`fetch` is reserved too, but `stub.fetch` is the HTTP entry, not an RPC call: tests/test_http.py)
@pytest.mark.parametrize("name", ["connect", "alarm", "webSocketMessage", "webSocketClose",
                                  "webSocketError", "dup", "constructor"])
async def test_reserved_names_are_refused_with_workerds_message(stub, name):
    with pytest.raises(JsException) as caught:
        await getattr(stub, name)()
    assert (caught.value.name, caught.value.message) == (
        "TypeError", f"'{name}' is a reserved method and cannot be called over RPC.")
    assert caught.value.remote is True and not isinstance(caught.value, TypeError)


async def test_rpc_keyword_arguments_arrive_as_one_trailing_options_object(make_runtime):
    # Pyodide turns keyword arguments into a trailing JS object, which the callee's SDK
    # converts to a JsDict: `stub.m(1, x=2)` calls `m(1, {"x": 2})`.
    class Echo(DurableObject):
        async def echo(self, *args):
            return [list(args), type(args[-1]).__name__]

    rt = make_runtime(durable_objects={"E": Echo})
    assert await rt.env.E.getByName("e").echo(1, x=2, y=[3]) == [[1, {"x": 2, "y": [3]}], "JsDict"]


# 8.4 / 2.13: standard errors keep type and message and gain remote=True; others become Error.
async def test_standard_error_keeps_its_type_and_message_and_is_marked_remote(stub):
    with pytest.raises(RangeError, match="^RangeError: out of range$") as caught:
        await stub.raise_range()
    error = caught.value
    assert (error.remote, error.retryable, error.overloaded, error.durableObjectReset) == (True, False, False, False)
    # the error as raised in the object, with its frames, for debugging
    assert [frame.name for frame in traceback.extract_tb(error.__cause__.__traceback__)] == ["raise_range"]


async def test_a_python_exception_arrives_as_a_python_error_carrying_its_traceback(stub):
    # Pyodide rejects the call with a PythonError (message: the formatted traceback) and workerd's
    # RPC keeps an error's name and message (measured: an Error named "PythonError" thrown by an
    # object reaches the caller with that name and message). So `except` of the class raised in
    # the object catches nothing in the caller: `except JsException` does.
    with pytest.raises(JsException) as caught:
        await stub.raise_custom()
    error = caught.value
    assert error.name == "PythonError" and error.remote is True
    assert error.message.startswith("Traceback (most recent call last):\n")
    assert python_error_line(error).endswith("Overdrawn: balance would go negative")
    assert isinstance(error.__cause__, Exception) and type(error.__cause__).__name__ == "Overdrawn"
    with pytest.raises(JsException, match=r"\nValueError: boom$"):
        await stub.raise_builtin()


# 8.3: stub.fetch with the global fetch's signature into the object's fetch handler.
async def test_stub_fetch_reaches_the_fetch_handler_with_method_headers_and_body(stub):
    response = await stub.fetch("http://do/path?q=1", method="POST", headers={"X-Test": "yes"}, body="payload")
    assert response.status == 201
    assert await response.text() == "POST http://do/path?q=1 payload yes"


async def test_stub_fetch_accepts_a_request_object(stub):
    response = await stub.fetch(Request("https://example.com/", method="PUT", body="b"))
    assert await response.text() == "PUT https://example.com/ b None"


async def test_stub_fetch_rejects_a_relative_url(stub):
    with pytest.raises(JsException) as error:  # a JavaScript TypeError, as Pyodide hands it over
        stub.fetch("/relative")
    assert (error.value.name, error.value.message) == ("TypeError", "Invalid URL: /relative")


async def test_object_without_fetch_handler_refuses_http(make_runtime):
    rt = make_runtime(durable_objects={"N": NoFetch})
    with pytest.raises(JsError, match=r"^Error: Handler does not export a fetch\(\) function\.$"):
        await rt.env.N.getByName("n").fetch("http://do/")


async def test_fetch_handler_must_return_a_response(make_runtime):
    rt = make_runtime(durable_objects={"W": WrongFetch})
    with pytest.raises(JsException, match="^TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'.$"):
        await rt.env.W.getByName("w").fetch("http://do/")


# 1.9: a stub is a handle; creating it is free and `get` needs a real ID.
async def test_namespace_get_requires_an_id_object(make_runtime):
    rt = make_runtime(durable_objects={"S": Shapes})
    with pytest.raises(JsException, match="^TypeError: .*parameter 1 is not of type 'DurableObjectId'"):
        rt.env.S.get("not-an-id")


async def test_calls_are_eager_like_js_promises(make_runtime):
    rt = make_runtime(durable_objects={"S": Shapes})
    stub = rt.env.S.getByName("s")
    call = stub.keep({"items": ["sent before await"]})  # not awaited yet
    await rt.run_until_idle()
    assert call.done()
    assert await stub.give_list() == ["sent before await"]


class Sender(DurableObject):
    """Writes, then reaches another object through the test helper, from inside the world."""

    async def write_then_run(self):
        self.ctx.storage.put("note", "written")
        from durable_dojo.testing import run_in_durable_object

        await run_in_durable_object(self.env.TARGET.getByName("t"), lambda obj, ctx: RAN.append("ran"))


RAN: list = []  # what ran in the target (an RPC argument would be a copy)


async def test_run_in_durable_object_is_a_request_behind_the_callers_output_gate(make_runtime):
    """run_in_durable_object enters the object like any call: it counts as a request, and a
    caller's unconfirmed write must be durable before it leaves (a failed write stops it)."""
    rt = make_runtime(durable_objects={"SENDER": Sender, "TARGET": Shapes})
    from durable_dojo.testing import run_in_durable_object

    target = rt.env.TARGET.getByName("t")
    before = rt.metrics("TARGET")["requests"]
    assert await run_in_durable_object(target, lambda obj, ctx: "inside") == "inside"
    assert rt.metrics("TARGET")["requests"] == before + 1

    RAN.clear()
    sender = rt.env.SENDER.getByName("s")
    rt.faults.fail_next_flush(sender)
    with pytest.raises(JsError, match="storage write failed"):
        await sender.write_then_run()
    await rt.run_until_idle()
    assert RAN == []  # the write was not stored, so nothing left the sender
    assert await run_in_durable_object(sender, lambda obj, ctx: ctx.storage.get("note")) is None


async def test_the_rpc_method_lookup_keeps_no_class_alive(make_runtime):
    """The cache of RPC methods is per class and goes with the class: a long session that
    defines classes cell after cell does not grow without bound."""
    import gc
    import weakref

    from durable_dojo._core.durable_object import rpc_method

    class Throwaway(DurableObject):
        def hello(self):
            return "hi"

    assert rpc_method(Throwaway, "hello") is Throwaway.hello
    gone = weakref.ref(Throwaway)
    del Throwaway
    gc.collect()
    assert gone() is None


async def test_an_object_sees_no_fragment_and_its_callers_see_the_status_phrase(make_runtime):
    class Echo(DurableObject):
        async def fetch(self, request):
            return Response(request.url, status=404)

    stub = make_runtime(durable_objects={"E": Echo}).env.E.getByName("e")
    response = await stub.fetch("http://do/echo#part")
    assert await response.text() == "http://do/echo"  # no HTTP hop carries a fragment
    assert response.status_text == "Not Found"  # constructed with "", filled in by the hop


# ----- when a stub fetch's outcome reaches its caller (conformance call_reply_order, call_error_order)


class Answers(DurableObject):
    """Answers at once, without awaiting: the calls sent together are answered in order."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.paths = []

    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        self.paths.append(path)
        if path == "error":
            raise ValueError("no")
        if path == "redirect":
            return Response.redirect("http://do/landed", 302)
        if path == "redirect-in-1s":
            await asyncio.sleep(1)
            return Response.redirect("http://do/landed", 302)
        return Response(path)

    def tick(self):
        return 1

    def seen(self):
        return self.paths


def _orders(rt, sequences):
    """For each sequence of calls sent together (before any is awaited), the order in which
    their callers went on."""
    stub = rt.env.A.getByName("a")
    send = {
        "fetch": lambda: stub.fetch("http://do/ok"),
        "manual": lambda: stub.fetch("http://do/ok", redirect="manual"),
        "fetch_error": lambda: stub.fetch("http://do/error"),
        "manual_error": lambda: stub.fetch("http://do/error", redirect="manual"),
        "redirected": lambda: stub.fetch("http://do/redirect"),
        "rpc": lambda: stub.tick(),
    }

    async def settle(name, call, order):
        try:
            await call
        except JsException:  # the object's ValueError, as a PythonError
            pass
        order.append(name)

    async def run():
        await stub.tick()
        orders = []
        for calls in sequences:
            order = []
            sent = [(name, send[name]()) for name in calls]
            await asyncio.gather(*(settle(name, call, order) for name, call in sent))
            orders.append(order)
        return orders

    return rt.run(run())


def test_a_fetch_reply_reaches_its_caller_a_step_after_an_rpc_reply_in_either_redirect_mode(make_runtime):
    # workerd's order (conformance call_reply_order): the object answers in the order sent,
    # and an RPC caller goes on before a fetch caller, whether the fetch follows redirects or not
    rt = make_runtime(durable_objects={"A": Answers})
    assert _orders(rt, [["fetch", "rpc"], ["manual", "rpc"], ["fetch", "manual"], ["manual", "fetch"],
                        ["fetch", "rpc", "manual"], ["redirected", "rpc"], ["rpc", "redirected", "fetch"]]) == [
        ["rpc", "fetch"], ["rpc", "manual"], ["fetch", "manual"], ["manual", "fetch"],
        ["rpc", "fetch", "manual"], ["rpc", "redirected"], ["rpc", "fetch", "redirected"]]


def test_a_fetch_error_reaches_its_caller_when_a_response_would(make_runtime):
    # workerd's order (conformance call_error_order): an error thrown by the fetch handler takes
    # the response's way back, in either redirect mode
    rt = make_runtime(durable_objects={"A": Answers})
    assert _orders(rt, [["fetch_error", "rpc"], ["fetch_error", "fetch"], ["fetch", "fetch_error"],
                        ["manual_error", "fetch"], ["fetch_error", "manual_error"]]) == [
        ["rpc", "fetch_error"], ["fetch_error", "fetch"], ["fetch", "fetch_error"],
        ["manual_error", "fetch"], ["fetch_error", "manual_error"]]


def test_a_caller_that_gives_up_on_a_redirected_fetch_sends_no_further_hop(make_runtime):
    rt = make_runtime(durable_objects={"A": Answers})
    stub = rt.env.A.getByName("a")

    async def run():
        loop = asyncio.get_running_loop()
        waiting = asyncio.ensure_future(stub.fetch("http://do/redirect-in-1s"))
        await asyncio.sleep(0.5)  # the object sleeps until t=1; this timer, due then too, fires after its
        # so the cancel runs on the turn the object answers with the redirect, before it is followed
        loop.call_later(0.5, loop.call_soon, waiting.cancel)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(1)
        return await stub.seen()

    assert rt.run(run()) == ["redirect-in-1s"]


def test_an_error_on_a_later_hop_of_a_redirected_fetch_reaches_the_caller(make_runtime):
    class Hops(DurableObject):
        async def fetch(self, request):
            if request.url.endswith("/start"):
                return Response.redirect("http://do/fail", 307)
            raise ValueError(f"failed at {request.url}")

    rt = make_runtime(durable_objects={"H": Hops})
    with pytest.raises(JsException, match=r"\nValueError: failed at http://do/fail$"):
        rt.run(rt.env.H.getByName("h").fetch("http://do/start"))


@pytest.mark.parametrize("mode", ["follow", "manual"])
def test_a_fetch_stopped_by_the_hang_timeout_leaves_no_unretrieved_error_behind(make_runtime, caplog, mode):
    import gc

    from durable_dojo import HangTimeout

    class Stuck(DurableObject):
        async def fetch(self, request):
            while request.url.endswith("/spin"):
                pass
            return Response("ok")

    rt = make_runtime(durable_objects={"S": Stuck}, hang_timeout=0.5)
    with pytest.raises(HangTimeout):
        rt.run(rt.env.S.getByName("s").fetch("http://do/spin", redirect=mode))
    assert rt.run(rt.env.S.getByName("s").fetch("http://do/x")).status == 200  # the world goes on
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_tests_own_code_run_in_the_object_raises_its_own_exception(stub):
    # run_in_durable_object runs the test's function in the object (as vitest-pool-workers'
    # runInDurableObject does, in the same isolate): nothing crosses RPC, so pytest sees the
    # AssertionError itself, not a PythonError.
    from durable_dojo.testing import run_in_durable_object

    async def check(obj, ctx):
        assert await ctx.storage.get("missing") == "there", "not stored"

    with pytest.raises(AssertionError, match="not stored"):
        await run_in_durable_object(stub, check)
