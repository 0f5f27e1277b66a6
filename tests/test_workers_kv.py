"""Workers KV, the contrast case (semantics 10.1, 10.2, 10.4 and scenario 25).

KV is eventually consistent: a location that read a key keeps what it read for the cache TTL
(60 s), so a write made elsewhere shows up there only after that. A Durable Object's own storage
never lags like that. The limits and error messages are the platform's (workerd `api/kv.c++`,
miniflare's KV validator).
"""

import asyncio

import pytest

from durable_dojo import JsError
from durable_dojo._core.workers_kv import HOME_LOCATION, KV_LATENCY, LOCATIONS, KVReadableStream
from workers import DurableObject, Response, WorkerEntrypoint
from pyodide.ffi import JsException


@pytest.fixture
def rt(make_runtime):
    return make_runtime(kv_namespaces=["CACHE"])


@pytest.fixture
def kv(rt):
    return rt.env.CACHE


# --------------------------------------------------------------------------- basics


async def test_put_then_get_returns_the_value_and_a_missing_key_is_none(kv):
    assert await kv.put("greeting", "hello") is None
    assert await kv.get("greeting") == "hello"
    assert await kv.get("nobody") is None


async def test_put_of_an_empty_string_stores_an_empty_string(kv):
    await kv.put("empty", "")
    assert await kv.get("empty") == ""


async def test_delete_removes_the_key_and_deleting_a_missing_key_is_fine(kv):
    await kv.put("k", "v")
    assert await kv.delete("k") is None
    assert await kv.get("k") is None
    assert await kv.delete("never-there") is None


async def test_every_operation_takes_kv_latency_of_virtual_time(rt, kv):
    start = rt.loop.time()
    await kv.put("k", "v")
    await kv.get("k")
    await kv.list()
    assert rt.loop.time() - start == pytest.approx(3 * KV_LATENCY)


async def test_keys_are_case_sensitive(rt, kv):
    await kv.put("key", "lower")
    await kv.put("KEY", "upper")
    assert (await kv.get("key"), await kv.get("KEY")) == ("lower", "upper")


async def test_a_kv_call_works_from_synchronous_code_through_runtime_run(rt, kv):
    rt.run(kv.put("k", "v"))
    assert rt.run(kv.get("k")) == "v"


async def test_the_binding_is_neither_iterable_nor_sized_like_the_sdk_says(kv):
    with pytest.raises(TypeError, match="KvNamespace.*is not iterable"):
        for _ in kv:
            pass
    with pytest.raises(TypeError, match="KvNamespace.*has no len"):
        len(kv)


# --------------------------------------------------------------------------- list


async def test_list_returns_keys_in_utf8_byte_order(kv):
    for key in ["b", "a", "\U0001f600", "\uffff", ", ", "!"]:
        await kv.put(key, "x")
    result = await kv.list()
    # "\uFFFF" (EF BF BF) sorts before the emoji (F0 9F 98 80): the opposite of UTF-16 order.
    assert [k["name"] for k in result["keys"]] == ["!", ", ", "a", "b", "\uffff", "\U0001f600"]
    assert result == {"keys": result["keys"], "list_complete": True, "cacheStatus": None}
    assert "cursor" not in result


async def test_list_filters_by_prefix_case_sensitively(kv):
    for key in ["user:1:name", "user:1:mail", "user:2:name", "USER:1:x", "other"]:
        await kv.put(key, "x")
    result = await kv.list({"prefix": "user:1:"})
    assert [k["name"] for k in result["keys"]] == ["user:1:mail", "user:1:name"]
    assert (await kv.list({"prefix": "none"}))["keys"] == []


async def test_list_paginates_with_limit_and_cursor(kv):
    for i in range(5):
        await kv.put(f"page:{i}", "x")
    page1 = await kv.list({"prefix": "page:", "limit": 2})
    assert [k["name"] for k in page1["keys"]] == ["page:0", "page:1"]
    assert page1["list_complete"] is False and isinstance(page1["cursor"], str)
    page2 = await kv.list({"prefix": "page:", "limit": 2, "cursor": page1["cursor"]})
    assert [k["name"] for k in page2["keys"]] == ["page:2", "page:3"]
    page3 = await kv.list({"prefix": "page:", "limit": 2, "cursor": page2["cursor"]})
    assert [k["name"] for k in page3["keys"]] == ["page:4"]
    assert page3["list_complete"] is True and "cursor" not in page3


async def test_list_pagination_sees_keys_added_after_the_cursor_but_not_before(kv):
    for key in ["key1", "key3", "key5"]:
        await kv.put(key, "x")
    page = await kv.list({"limit": 2})
    assert [k["name"] for k in page["keys"]] == ["key1", "key3"]
    await kv.put("key2", "x")
    await kv.put("key4", "x")
    page = await kv.list({"limit": 2, "cursor": page["cursor"]})
    assert [k["name"] for k in page["keys"]] == ["key4", "key5"]
    assert page["list_complete"] is True


async def test_list_takes_keyword_options_like_the_python_sdk(kv):
    for i in range(3):
        await kv.put(f"kw:{i}", "x")
    page = await kv.list(prefix="kw:", limit=2)
    assert [k["name"] for k in page["keys"]] == ["kw:0", "kw:1"]
    page = await kv.list(prefix="kw:", limit=2, cursor=page["cursor"])
    assert [k["name"] for k in page["keys"]] == ["kw:2"]


async def test_list_returns_at_most_1000_keys_by_default(kv):
    await asyncio.gather(*(kv.put(f"n:{i:04d}", "x") for i in range(1001)))
    page = await kv.list()
    assert len(page["keys"]) == 1000 and page["list_complete"] is False
    assert len((await kv.list({"limit": 0}))["keys"]) == 1000  # the runtime sends only a positive limit
    rest = await kv.list({"cursor": page["cursor"]})
    assert [k["name"] for k in rest["keys"]] == ["n:1000"]


async def test_list_limit_above_1000_is_refused(kv):
    with pytest.raises(JsError) as info:
        await kv.list({"limit": 1001})
    assert info.value.message == ("KV GET failed: 400 Invalid key_count_limit of 1001. "
                               "Please specify an integer less than 1000.")


async def test_list_shows_expiration_and_metadata_only_when_set(rt, kv):
    expires = rt.now() // 1000 + 3600
    await kv.put("a", "1", {"expiration": expires, "metadata": {"tag": "x"}})
    await kv.put("b", "2", {"expirationTtl": 120})
    await kv.put("c", "3")
    keys = (await kv.list())["keys"]
    assert keys == [
        {"name": "a", "expiration": expires, "metadata": {"tag": "x"}},
        {"name": "b", "expiration": rt.start_ms // 1000 + 120},  # absolute, though set as a TTL
        {"name": "c"},
    ]
    assert keys[0].metadata.tag == "x"  # JsDicts, as the SDK returns them


# --------------------------------------------------------------------------- value types


async def test_get_types_text_json_array_buffer_and_stream(kv):
    await kv.put("doc", '{"name": "Ada", "langs": ["py", "js"], "age": 36.0, "ratio": 0.5}')
    assert await kv.get("doc") == '{"name": "Ada", "langs": ["py", "js"], "age": 36.0, "ratio": 0.5}'
    assert await kv.get("doc", "text") == await kv.get("doc")
    doc = await kv.get("doc", "json")
    assert doc == {"name": "Ada", "langs": ["py", "js"], "age": 36, "ratio": 0.5}
    assert type(doc["age"]) is int and doc.name == "Ada"  # JS numbers that are integers come back as int
    buf = await kv.get("doc", {"type": "arrayBuffer"})
    assert isinstance(buf, memoryview) and bytes(buf).startswith(b'{"name"')
    stream = await kv.get("doc", type="stream")
    assert isinstance(stream, KVReadableStream)
    assert b"".join([chunk async for chunk in stream]) == bytes(buf)


async def test_bytes_are_stored_as_is_and_read_back_in_any_type(kv):
    await kv.put("bin", b"\x00\xffhi")
    assert bytes(await kv.get("bin", "arrayBuffer")) == b"\x00\xffhi"
    assert await kv.get("bin") == "\x00\ufffdhi"  # invalid UTF-8 becomes U+FFFD as text
    await kv.put("view", memoryview(b"abc"))
    assert await kv.get("view") == "abc"


async def test_a_stream_from_get_can_be_put_back(rt, kv):
    await kv.put("src", "streamed")
    await kv.put("dst", await kv.get("src", "stream"))
    assert await kv.get("dst") == "streamed"


async def test_put_of_a_dict_or_list_is_refused_like_the_platform(kv):
    for value in [{"a": 1}, [1, 2], {1, 2}]:
        with pytest.raises(JsException) as info:
            await kv.put("k", value)
        assert info.value.message == ("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, "
                                   "and ReadableStreams as values.")
    with pytest.raises(TypeError, match=r"<class 'tuple'> cannot be sent over RPC\."):
        kv.put("k", (1, 2))  # the SDK refuses it before the call is even made
    assert await kv.get("k") is None


async def test_put_of_a_number_stores_the_javascript_string_of_it(rt, kv):
    await kv.put("int", 42)
    await rt.advance(1)
    await kv.put("float", 1.0)
    await kv.put("bool", True)
    assert (await kv.get("int"), await kv.get("float"), await kv.get("bool")) == ("42", "1", "true")
    assert await kv.get("int", "json") == 42


async def test_json_type_of_a_value_that_is_not_json_raises_a_syntax_error(kv):
    await kv.put("plain", "hello")
    with pytest.raises(JsError, match=r"^Error: SyntaxError: Unexpected token 'h', \"hello\" is not valid JSON$"):
        await kv.get("plain", "json")
    await kv.put("nan", "NaN")
    with pytest.raises(JsError, match="SyntaxError"):
        await kv.get("nan", "json")


async def test_an_unknown_type_raises_type_error_but_only_for_a_key_that_exists(kv):
    await kv.put("k", "v")
    with pytest.raises(JsException) as info:
        await kv.get("k", "blob")
    assert info.value.name == "TypeError"
    assert info.value.message == 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
    assert await kv.get("missing", "blob") is None  # workerd returns null before looking at the type


# --------------------------------------------------------------------------- metadata


async def test_metadata_round_trips_and_get_with_metadata_has_value_metadata_and_cache_status(kv):
    await kv.put("k", "v", {"metadata": {"author": "ada", "version": 2, "tags": ["a"]}})
    result = await kv.getWithMetadata("k")
    assert result == {"value": "v", "metadata": {"author": "ada", "version": 2, "tags": ["a"]},
                      "cacheStatus": "HIT"}  # the writer's location cached its own write
    assert result.metadata.author == "ada"
    await kv.put("plain", "p")
    assert (await kv.getWithMetadata("plain"))["metadata"] is None
    assert await kv.getWithMetadata("missing") == {"value": None, "metadata": None, "cacheStatus": "MISS"}


async def test_metadata_keyword_and_types_work_for_get_with_metadata(kv):
    await kv.put("k", '{"n": 1}', metadata="just a string")
    result = await kv.getWithMetadata("k", "json")
    assert (result["value"], result["metadata"]) == ({"n": 1}, "just a string")


# --------------------------------------------------------------------------- expiration


async def test_expiration_ttl_removes_the_key_after_that_many_virtual_seconds(rt, kv):
    await kv.put("session", "s", expirationTtl=60)
    expires = (await kv.list())["keys"][0]["expiration"]
    assert expires == (rt.start_ms // 1000) + 60  # absolute, even when set as a TTL
    await rt.advance(59.9 - rt.loop.time())
    assert await kv.get("session", {"cacheTtl": 60}) == "s"
    await rt.advance(60.0 - rt.loop.time())
    assert await kv.get("session") is None
    assert (await kv.list())["keys"] == []


async def test_absolute_expiration_removes_the_key_at_that_epoch_second(rt, kv):
    at = rt.now() // 1000 + 120
    await kv.put("k", "v", {"expiration": at})
    await rt.advance(119)
    assert await kv.get("k") == "v"
    await rt.advance(1)
    assert await kv.get("k") is None
    # The copy cached at 119 s is still fresh, but an expired entry is never served.
    assert await kv.getWithMetadata("k") == {"value": None, "metadata": None, "cacheStatus": "HIT"}


async def test_expiration_options_are_validated_with_the_platform_messages(rt, kv):
    now = rt.now() // 1000
    cases = [
        ({"expirationTtl": 0}, "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        ({"expirationTtl": 30}, "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        ({"expiration": now}, f"KV PUT failed: 400 Invalid expiration of {now}. Please specify integer greater "
                              "than the current number of seconds since the UNIX epoch."),
        ({"expiration": now + 30}, f"KV PUT failed: 400 Invalid expiration of {now + 30}. Expiration times "
                                   "must be at least 60 seconds in the future."),
    ]
    for options, message in cases:
        with pytest.raises(JsError) as info:
            await kv.put("k", "v", options)
        assert info.value.message == message
    assert await kv.get("k") is None


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize("method", ["get", "put", "delete", "getWithMetadata"])
async def test_key_names_are_checked_like_workerd(kv, method):
    def call(key):
        if method == "put":
            return kv.put(key, "v")
        return getattr(kv, method)(key)

    for key, message in [("", "Key name cannot be empty."), (".", '"." is not allowed as a key name.'),
                         ("..", '".." is not allowed as a key name.')]:
        with pytest.raises(JsException) as info:
            await call(key)
        assert info.value.message == message
    verb = {"getWithMetadata": "GET"}.get(method, method.upper())
    with pytest.raises(JsError) as info:
        await call("é" * 257)  # 514 bytes of UTF-8, though only 257 characters
    assert info.value.message == f"KV {verb} failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512."
    await call("x" * 512)  # the limit itself is allowed


async def test_values_up_to_25_mib_are_accepted_and_larger_ones_refused(rt, kv):
    limit = 25 * 1024 * 1024
    with pytest.raises(JsError) as info:
        await kv.put("big", b"x" * (limit + 1))
    assert info.value.message == f"KV PUT failed: 413 Value length of {limit + 1} exceeds limit of {limit}."
    await kv.put("big", "x" * limit)
    assert len(await kv.get("big", "arrayBuffer")) == limit


async def test_metadata_is_limited_to_1024_bytes_of_json(kv):
    padding = 1024 - len('{"key":""}')
    await kv.put("ok", "v", {"metadata": {"key": "x" * padding}})
    with pytest.raises(JsError) as info:
        await kv.put("big", "v", {"metadata": {"key": "x" * (padding + 1)}})
    assert info.value.message == "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."


async def test_cache_ttl_below_60_seconds_is_refused(kv):
    await kv.put("k", "v")
    with pytest.raises(JsError) as info:
        await kv.get("k", {"cacheTtl": 10})
    assert info.value.message == "KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 60."
    assert await kv.get("k", {"cacheTtl": 60}) == "v"


async def test_a_second_write_to_the_same_key_within_a_second_is_rate_limited(rt, kv):
    await kv.put("hot", "1")
    with pytest.raises(JsError) as info:
        await kv.put("hot", "2")
    assert info.value.message == "KV PUT failed: 429 Too Many Requests"
    assert await kv.get("hot") == "1"
    await kv.put("other", "x")  # the limit is per key
    await rt.advance(1)
    await kv.put("hot", "3")
    assert await kv.get("hot") == "3"
    assert kv.stats()["rateLimited"] == 1


# --------------------------------------------------------------------------- eventual consistency


class Config(DurableObject):
    """The same flag kept in a Durable Object's own storage, for the contrast."""

    async def set(self, value):
        await self.ctx.storage.put("flag", value)

    async def read(self):
        return await self.ctx.storage.get("flag")


async def test_scenario_25_another_location_sees_stale_data_for_up_to_60_s_while_a_durable_object_never_does(
        make_runtime):
    rt = make_runtime(durable_objects={"CONFIG": Config}, kv_namespaces=["CACHE"])
    home, sfo = rt.env.CACHE, rt.env.CACHE.at("SFO")
    assert HOME_LOCATION != "SFO"

    await home.put("flag", "old")
    assert await sfo.get("flag") == "old"  # SFO reads it, and keeps it for 60 s
    sfo_read_at = rt.loop.time()
    await rt.advance(1)
    await home.put("flag", "new")
    assert await home.get("flag") == "new"  # at once where it was written
    assert await sfo.get("flag") == "old"  # stale elsewhere
    await rt.advance(sfo_read_at + 59.9 - rt.loop.time())
    assert await sfo.getWithMetadata("flag") == {"value": "old", "metadata": None, "cacheStatus": "HIT"}
    await rt.advance(0.2)  # SFO's copy is now more than 60 s old
    assert await sfo.getWithMetadata("flag") == {"value": "new", "metadata": None, "cacheStatus": "MISS"}

    # A Durable Object reads its own write, always, from any stub.
    writer, reader = rt.env.CONFIG.getByName("flags"), rt.env.CONFIG.getByName("flags")
    await writer.set("old")
    assert await reader.read() == "old"
    await writer.set("new")
    assert await reader.read() == "new"


async def test_a_cached_miss_hides_a_new_key_for_up_to_60_s(rt, kv):
    sfo = kv.at("sfo")
    assert await sfo.get("new-key") is None  # the miss is cached at SFO
    miss_at = rt.loop.time()
    await kv.put("new-key", "here")
    assert await kv.get("new-key") == "here"
    assert await sfo.get("new-key") is None
    await rt.advance(miss_at + 59.9 - rt.loop.time())
    assert await sfo.get("new-key") is None
    await rt.advance(0.2)
    assert await sfo.get("new-key") == "here"


async def test_a_location_that_never_read_the_key_sees_a_write_at_once(kv):
    await kv.put("k", "v1")
    assert await kv.at("LHR").get("k") == "v1"  # a simplification: see the module docstring


async def test_a_delete_is_stale_elsewhere_too(rt, kv):
    sfo = kv.at("SFO")
    await kv.put("k", "v")
    assert await sfo.get("k") == "v"
    await kv.delete("k")
    assert await kv.get("k") is None
    assert await sfo.get("k") == "v"
    await rt.advance(61)
    assert await sfo.get("k") is None


async def test_a_longer_cache_ttl_keeps_stale_data_longer_and_a_plain_get_shortens_it_again(rt, kv):
    sfo = kv.at("SFO")
    await kv.put("k", "old")
    assert await sfo.get("k", {"cacheTtl": 3600}) == "old"
    await rt.advance(1)
    await kv.put("k", "new")
    await rt.advance(120)
    assert await sfo.get("k", {"cacheTtl": 3600}) == "old"  # still within its hour
    assert await sfo.get("k") == "new"  # the default 60 s asks for fresher data


async def test_the_runtime_cache_ttl_sets_how_long_locations_keep_what_they_read(rt, kv):
    rt.kv_cache_ttl = 5.0
    sfo = kv.at("SFO")
    await kv.put("k", "old")
    assert await sfo.get("k") == "old"
    await rt.advance(1)
    await kv.put("k", "new")
    assert await sfo.get("k") == "old"
    await rt.advance(5)
    assert await sfo.get("k") == "new"


async def test_at_accepts_colo_codes_in_any_case_and_refuses_unknown_ones(kv):
    assert kv.at("sfo").location == "SFO"
    assert kv.location is None
    with pytest.raises(ValueError, match="Unknown KV location 'XYZ'"):
        kv.at("XYZ")


async def test_durable_object_locations_are_deterministic_for_a_seed(make_runtime):
    def locations(seed):
        rt = make_runtime(durable_objects={"CONFIG": Config}, kv_namespaces=["CACHE"], seed=seed)
        return [rt.env.CACHE.location_of(rt.env.CONFIG.getByName(f"user-{i}")) for i in range(24)]

    first = locations(7)
    assert first == locations(7)
    assert set(first) <= set(LOCATIONS) and len(set(first)) > 1
    assert locations(8) != first  # the seed moves them


# --------------------------------------------------------------------------- from a Durable Object and a Worker


class Profile(DurableObject):
    async def load(self, key):
        return await self.env.CACHE.get(key)

    async def save(self, key, value):
        await self.env.CACHE.put(key, value)
        return await self.env.CACHE.get(key)


def far_object(rt):
    """A Profile object whose location is not the home location (deterministic for seed 0)."""
    for i in range(100):
        stub = rt.env.PROFILE.getByName(f"p{i}")
        if rt.env.CACHE.location_of(stub) != HOME_LOCATION:
            return stub
    raise AssertionError("every object is at home")


async def test_kv_inside_a_durable_object_reads_at_the_objects_location(make_runtime):
    rt = make_runtime(durable_objects={"PROFILE": Profile}, kv_namespaces=["CACHE"])
    stub = far_object(rt)
    where = rt.env.CACHE.location_of(stub)
    await rt.env.CACHE.put("theme", "light")
    assert await stub.load("theme") == "light"
    await rt.advance(1)
    await rt.env.CACHE.put("theme", "dark")
    assert await stub.load("theme") == "light"  # the object's location cached the old value
    assert await rt.env.CACHE.at(where).get("theme") == "light"  # same location, same cache
    await rt.advance(60)
    assert await stub.load("theme") == "dark"
    event = rt.trace.select("kv:get", object=stub._host.label)[-1]
    assert event.binding == "PROFILE" and f"@{where}" in event.detail and "'theme'" in event.detail


async def test_a_durable_object_reads_its_own_kv_write_at_once_but_home_may_not(make_runtime):
    rt = make_runtime(durable_objects={"PROFILE": Profile}, kv_namespaces=["CACHE"])
    stub = far_object(rt)
    assert await rt.env.CACHE.get("name") is None  # home caches the miss
    assert await stub.save("name", "Ada") == "Ada"
    assert await rt.env.CACHE.get("name") is None  # home still has its cached miss
    assert await rt.env.CACHE.at(rt.env.CACHE.location_of(stub)).get("name") == "Ada"


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        key = request.url.rsplit("/", 1)[-1]
        if request.method == "PUT":
            await self.env.CACHE.put(key, await request.text())
            return Response("stored", status=201)
        value = await self.env.CACHE.get(key)
        if value is None:
            return Response("not found", status=404)
        return Response(value)


async def test_kv_from_a_worker_entrypoint_runs_at_the_home_location(make_runtime):
    rt = make_runtime(kv_namespaces=["CACHE"], worker=Edge)
    assert (await rt.fetch("https://app.example.com/kv/motd")).status == 404
    stored = await rt.fetch("https://app.example.com/kv/motd", method="PUT", body="hello")
    assert (stored.status, await stored.text()) == (201, "stored")
    answer = await rt.fetch("https://app.example.com/kv/motd")
    assert (answer.status, await answer.text()) == (200, "hello")
    assert await rt.env.CACHE.get("motd") == "hello"  # the test client is at the same location
    assert all(f"@{HOME_LOCATION}" in e.detail for e in rt.trace.select("kv:"))


class KvCounter(DurableObject):
    """A read-modify-write through KV, and the same through the object's storage."""

    async def bump_kv(self, pause):
        v = int(await self.env.CACHE.get("n") or "0")  # awaiting KV opens the input gate
        await asyncio.sleep(pause)  # (only to keep the second write clear of 1 write/s per key)
        await self.env.CACHE.put("n", str(v + 1))
        return v + 1

    async def bump_storage(self):
        v = await self.ctx.storage.get("n") or 0
        await self.ctx.storage.put("n", v + 1)
        return v + 1


async def test_awaiting_kv_inside_a_durable_object_lets_another_request_in_and_an_update_is_lost(make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": KvCounter}, kv_namespaces=["CACHE"])
    stub = rt.env.COUNTER.getByName("c")
    assert await asyncio.gather(stub.bump_kv(0), stub.bump_kv(1.5)) == [1, 1]
    assert await rt.env.CACHE.at(rt.env.CACHE.location_of(stub)).get("n") == "1"  # one increment lost
    kinds = [e.kind for e in rt.trace.select("kv:", object="c")]
    assert kinds[:3] == ["kv:get", "kv:get", "kv:put"]  # both reads before the first write
    # Storage awaits keep the gate closed: the same race through ctx.storage loses nothing.
    assert sorted(await asyncio.gather(stub.bump_storage(), stub.bump_storage())) == [1, 2]


# --------------------------------------------------------------------------- bulk reads, trace, stats


async def test_get_of_a_list_of_keys_returns_a_dict_with_none_for_missing_keys(kv):
    await kv.put("a", '{"x": 1}', {"metadata": {"m": 1}})
    await kv.put("b", "2")
    assert await kv.get(["a", "b", "c"]) == {"a": '{"x": 1}', "b": "2", "c": None}
    assert await kv.get(["a", "b"], "json") == {"a": {"x": 1}, "b": 2}
    assert await kv.getWithMetadata(["a", "c"]) == {"a": {"value": '{"x": 1}', "metadata": {"m": 1}}, "c": None}
    with pytest.raises(JsError, match=r'^Error: KV GET_BULK failed: 400 "arrayBuffer" is not a valid type\. Use "json" or "text"$'):
        await kv.get(["a"], "arrayBuffer")
    with pytest.raises(JsError, match="^Error: KV GET_BULK failed: 400 You can request a maximum of 100 keys$"):
        await kv.get([f"k{i}" for i in range(101)])
    assert kv.stats()["reads"] == 3  # a bulk read is one operation


async def test_the_trace_records_each_operation_with_namespace_key_location_and_cache_status(rt, kv):
    await kv.put("k", "v")
    await kv.at("SFO").get("k")
    await kv.at("SFO").get("k")
    await kv.delete("k")
    await kv.list({"prefix": "k"})
    events = rt.trace.select("kv:")
    assert [e.kind for e in events] == ["kv:put", "kv:get", "kv:get", "kv:delete", "kv:list"]
    assert [e.detail for e in events] == [
        "CACHE 'k' @IAD: stored",
        "CACHE 'k' @SFO: MISS, found",
        "CACHE 'k' @SFO: HIT, found",
        "CACHE 'k' @IAD: deleted",
        "CACHE prefix='k' @IAD: 0 keys",
    ]
    assert events[1].object is None  # issued by the test, not by an object


async def test_stats_count_operations_per_namespace(make_runtime):
    rt = make_runtime(kv_namespaces=["CACHE", "SESSIONS"])
    await rt.env.CACHE.put("a", "1")
    await rt.env.CACHE.get("a")
    await rt.env.CACHE.at("SFO").get("a")  # a view shares its namespace's counters
    await rt.env.CACHE.delete("a")
    await rt.env.CACHE.list()
    await rt.env.SESSIONS.get("x")
    assert rt.env.CACHE.stats() == {"reads": 2, "writes": 1, "deletes": 1, "lists": 1, "cacheHits": 1,
                                    "cacheMisses": 1, "rateLimited": 0}
    assert rt.env.SESSIONS.stats()["reads"] == 1 and rt.env.SESSIONS.stats()["writes"] == 0


async def test_peek_shows_the_central_value_and_each_locations_cache(rt, kv):
    await kv.put("k", "old")
    await kv.at("SFO").get("k")
    await rt.advance(1)
    await kv.put("k", "new")
    view = kv.peek("k")
    assert view["central"] == "new"
    assert view["IAD"]["value"] == "new" and view["SFO"]["value"] == "old" and view["SFO"]["fresh"]
    assert "LHR" not in view
