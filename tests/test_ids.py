"""Durable Object IDs, namespaces and stubs (semantics §1.1-1.13, scenario 16).

Expected values come from the spec and from what workerd printed (oracle REPORT.md,
"IDs"): the namespace with unique key "oracle-test-do" is the oracle's, so its IDs must be
byte-for-byte the ones workerd produced.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from workers import DurableObject

from durable_dojo import DurableObjectId, JsError
from durable_dojo.testing import list_durable_object_ids, run_in_durable_object
from pyodide.ffi import JsException

ORACLE_KEY = "oracle-test-do"
OTHER_KEY = "oracle-other-do"
ORACLE_FOO_ID = "67c66b0518ce0e49d69907cd7075fc2971361c3c3a980ecaedd2eef9afbe3506"

MUST_BE_64_HEX = "Invalid Durable Object ID: must be 64 hex digits"
NOT_THIS_NAMESPACE = "Durable Object ID is not valid for this namespace."
NO_JURISDICTIONS = "Jurisdiction restrictions are not implemented in workerd."


class Probe(DurableObject):
    """Reports what it sees of itself; keeps a per-instance token and a stored counter."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.token = object()  # unique per in-memory instance
        self.calls = 0

    async def whoami(self):
        self.calls += 1
        return {
            "id": self.ctx.id.toString(),
            "name": self.ctx.id.name,
            "instance": id(self.token),
            "calls": self.calls,
        }

    async def increment(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n

    async def bump_via(self, binding, name):
        """Reach another object of the world through this object's own env (another caller)."""
        return await getattr(self.env, binding).getByName(name).increment()


class Other(Probe):
    pass


def world(make_runtime, **kwargs):
    """A world with the oracle's namespace (TEST) and a second one (OTHER)."""
    return make_runtime(
        durable_objects={"TEST": Probe, "OTHER": Other},
        unique_keys={"TEST": ORACLE_KEY, "OTHER": OTHER_KEY},
        **kwargs,
    )


def workerd_id(unique_key: str, base: bytes) -> str:
    """workerd's layout (1.3): base (16 bytes) + HMAC-SHA256(sha256(uniqueKey), base)[:16]."""
    key = hashlib.sha256(unique_key.encode()).digest()
    return (base + hmac.new(key, base, hashlib.sha256).digest()[:16]).hex()


def workerd_name_base(unique_key: str, name: str) -> bytes:
    key = hashlib.sha256(unique_key.encode()).digest()
    return hmac.new(key, name.encode(), hashlib.sha256).digest()[:16]


def flip_hex_char(text: str, index: int) -> str:
    c = text[index]
    return text[:index] + ("0" if c != "0" else "1") + text[index + 1 :]


# --- 1.1 idFromName is deterministic -------------------------------------------------------


def test_id_from_name_is_the_same_for_the_same_name(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName("x") == ns.idFromName("x")
    assert ns.idFromName("x").equals(ns.idFromName("x"))
    assert ns.idFromName("x").toString() == ns.idFromName("x").toString()


@pytest.mark.parametrize("other", ["x", None, {}])
def test_equals_with_something_that_is_not_an_id_is_a_type_error(make_runtime, other):
    # workerd (conformance scenario edge_ids_rpc): WebIDL refuses the argument, not False
    ns = world(make_runtime).env.TEST
    id_ = ns.idFromName("x")
    with pytest.raises(JsException) as caught:
        id_.equals(id_.toString() if other == "x" else other)
    assert (caught.value.name, caught.value.message) == (
        "TypeError", "Failed to execute 'equals' on 'DurableObjectId': parameter 1 is not of type 'DurableObjectId'.")


def test_id_from_name_differs_for_different_names(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName("x") != ns.idFromName("y")
    assert not ns.idFromName("x").equals(ns.idFromName("y"))


def test_id_from_name_is_the_same_across_worlds(make_runtime):
    a = world(make_runtime, seed=1).env.TEST.idFromName("x").toString()
    b = world(make_runtime, seed=2).env.TEST.idFromName("x").toString()
    assert a == b


def test_id_from_name_coerces_numbers_and_accepts_empty_name(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName(123) == ns.idFromName("123")
    assert ns.idFromName(123).name == "123"
    empty = ns.idFromName("")
    assert len(empty.toString()) == 64
    assert empty.name == ""


# --- 1.2 / 1.3 the ID format and workerd's layout -------------------------------------------


def test_to_string_is_64_lowercase_hex_digits(make_runtime):
    ns = world(make_runtime).env.TEST
    for id_ in (ns.idFromName("x"), ns.newUniqueId()):
        text = id_.toString()
        assert len(text) == 64
        assert set(text) <= set("0123456789abcdef")
        assert str(id_) == text


def test_id_from_name_foo_matches_the_oracle(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName("foo").toString() == ORACLE_FOO_ID


def test_id_from_name_depends_on_the_unique_key(make_runtime):
    env = world(make_runtime).env
    assert env.OTHER.idFromName("foo").toString() != ORACLE_FOO_ID
    assert env.OTHER.idFromName("foo").toString() == workerd_id(OTHER_KEY, workerd_name_base(OTHER_KEY, "foo"))


def test_id_from_name_follows_workerds_layout(make_runtime):
    ns = world(make_runtime).env.TEST
    for name in ("foo", "alice", "é😀"):
        assert ns.idFromName(name).toString() == workerd_id(ORACLE_KEY, workerd_name_base(ORACLE_KEY, name))


def test_new_unique_id_carries_the_namespace_mac(make_runtime):
    ns = world(make_runtime).env.TEST
    text = ns.newUniqueId().toString()
    assert text == workerd_id(ORACLE_KEY, bytes.fromhex(text[:32]))


# --- 1.4 newUniqueId and jurisdictions ------------------------------------------------------


def test_new_unique_id_never_repeats(make_runtime):
    ns = world(make_runtime).env.TEST
    ids = [ns.newUniqueId().toString() for _ in range(500)]
    assert len(set(ids)) == 500


def test_new_unique_id_with_a_jurisdiction_throws_in_workerd(make_runtime):
    ns = world(make_runtime).env.TEST
    for jurisdiction in ("eu", "fedramp"):
        with pytest.raises(JsError) as err:
            ns.newUniqueId({"jurisdiction": jurisdiction})
        assert err.value.message == NO_JURISDICTIONS


def test_new_unique_id_accepts_a_nullish_jurisdiction(make_runtime):
    ns = world(make_runtime).env.TEST
    assert len(ns.newUniqueId({"jurisdiction": None}).toString()) == 64
    assert len(ns.newUniqueId({}).toString()) == 64


def test_jurisdiction_subnamespace_throws_in_workerd(make_runtime):
    ns = world(make_runtime).env.TEST
    with pytest.raises(JsError) as err:
        ns.jurisdiction("eu")
    assert err.value.message == NO_JURISDICTIONS


def test_new_unique_ids_are_the_same_for_the_same_seed(make_runtime):
    a_ns = world(make_runtime, seed=7).env.TEST
    b_ns = world(make_runtime, seed=7).env.TEST
    a = [a_ns.newUniqueId().toString() for _ in range(5)]
    b = [b_ns.newUniqueId().toString() for _ in range(5)]
    assert a == b
    assert len(set(a)) == 5


def test_new_unique_ids_differ_for_a_different_seed(make_runtime):
    a_ns = world(make_runtime, seed=7).env.TEST
    b_ns = world(make_runtime, seed=8).env.TEST
    a = {a_ns.newUniqueId().toString() for _ in range(5)}
    b = {b_ns.newUniqueId().toString() for _ in range(5)}
    assert a.isdisjoint(b)


# --- 1.5 idFromString: the error table of the oracle ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="abc"),
        pytest.param("zz", id="zz"),
        pytest.param("z" * 64, id="64-z"),
        pytest.param(ORACLE_FOO_ID[:63], id="63-hex"),
        pytest.param(ORACLE_FOO_ID + "0", id="65-hex"),
        pytest.param(" " + ORACLE_FOO_ID[:63], id="leading-space-64-chars"),
        pytest.param(" " + ORACLE_FOO_ID, id="leading-space-65-chars"),
        pytest.param(123, id="number-123"),
    ],
)
def test_id_from_string_rejects_malformed_text(make_runtime, text):
    ns = world(make_runtime).env.TEST
    with pytest.raises(JsException) as err:
        ns.idFromString(text)
    assert err.value.message == MUST_BE_64_HEX


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(flip_hex_char(ORACLE_FOO_ID, 0), id="flipped-first-char"),
        pytest.param(flip_hex_char(ORACLE_FOO_ID, 63), id="flipped-last-char"),
        pytest.param("0" * 64, id="all-zeros"),
    ],
)
def test_id_from_string_rejects_well_formed_ids_with_a_bad_mac(make_runtime, text):
    ns = world(make_runtime).env.TEST
    with pytest.raises(JsException) as err:
        ns.idFromString(text)
    assert err.value.message == NOT_THIS_NAMESPACE


def test_id_from_string_rejects_an_id_of_another_namespace(make_runtime):
    env = world(make_runtime).env
    for foreign in (env.OTHER.idFromName("foo"), env.OTHER.newUniqueId()):
        with pytest.raises(JsException) as err:
            env.TEST.idFromString(foreign.toString())
        assert err.value.message == NOT_THIS_NAMESPACE


def test_id_from_string_without_argument(make_runtime):
    ns = world(make_runtime).env.TEST
    with pytest.raises(JsException) as err:
        ns.idFromString()
    assert err.value.message == (
        "Failed to execute 'idFromString' on 'DurableObjectNamespace': parameter 1 is not of type 'string'."
    )


def test_id_from_string_accepts_uppercase_and_normalises_it(make_runtime):
    ns = world(make_runtime).env.TEST
    parsed = ns.idFromString(ORACLE_FOO_ID.upper())
    assert parsed.toString() == ORACLE_FOO_ID
    assert parsed == ns.idFromName("foo")


# --- 1.6 / 1.7 round trip and equality ------------------------------------------------------


def test_id_from_string_round_trips_and_drops_the_name(make_runtime):
    ns = world(make_runtime).env.TEST
    named = ns.idFromName("x")
    parsed = ns.idFromString(named.toString())
    assert parsed.equals(named)
    assert parsed == named
    assert parsed.toString() == named.toString()
    assert parsed.name is None


def test_unique_id_round_trips_through_id_from_string(make_runtime):
    ns = world(make_runtime).env.TEST
    unique = ns.newUniqueId()
    assert ns.idFromString(unique.toString()).equals(unique)


def test_two_unique_ids_are_never_equal(make_runtime):
    ns = world(make_runtime).env.TEST
    a, b = ns.newUniqueId(), ns.newUniqueId()
    assert not a.equals(b)
    assert a != b


# --- 1.8 id.name, ctx.id.name and id.jurisdiction -------------------------------------------


def test_id_name_is_the_name_for_named_ids_and_none_otherwise(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName("alice").name == "alice"
    assert ns.newUniqueId().name is None
    assert ns.idFromString(ORACLE_FOO_ID).name is None


def test_id_jurisdiction_is_none(make_runtime):
    ns = world(make_runtime).env.TEST
    assert ns.idFromName("alice").jurisdiction is None
    assert ns.newUniqueId().jurisdiction is None


async def test_ctx_id_inside_the_object_reached_by_name(make_runtime):
    ns = world(make_runtime).env.TEST
    me = await ns.getByName("foo").whoami()
    assert me["id"] == ORACLE_FOO_ID
    assert me["name"] == "foo"


async def test_ctx_id_name_inside_is_none_for_a_unique_id(make_runtime):
    ns = world(make_runtime).env.TEST
    id_ = ns.newUniqueId()
    me = await ns.get(id_).whoami()
    assert me["id"] == id_.toString()
    assert me["name"] is None


async def test_ctx_id_name_inside_keeps_a_name_of_exactly_1024_bytes(make_runtime):
    ns = world(make_runtime).env.TEST
    name = "é" * 512  # 512 characters, 1,024 UTF-8 bytes
    me = await ns.getByName(name).whoami()
    assert me["name"] == name


async def test_ctx_id_name_inside_is_none_for_a_name_over_1024_bytes(make_runtime):
    ns = world(make_runtime).env.TEST
    name = "é" * 512 + "a"  # 513 characters, 1,025 UTF-8 bytes
    stub = ns.getByName(name)
    assert stub.name == name  # the caller's id keeps it
    me = await stub.whoami()
    assert me["name"] is None
    assert me["id"] == ns.idFromName(name).toString()


async def test_ctx_id_inside_equals_the_stubs_id(make_runtime):
    ns = world(make_runtime).env.TEST
    stub = ns.getByName("foo")
    seen = []
    await run_in_durable_object(stub, lambda obj, ctx: seen.append(ctx.id))
    (inside,) = seen
    assert isinstance(inside, DurableObjectId)
    assert inside.equals(stub.id)
    assert inside.toString() == ORACLE_FOO_ID
    assert inside.jurisdiction is None


# --- 1.9 get(): a stub at once, the object made lazily --------------------------------------


async def test_get_returns_a_stub_without_creating_the_object(make_runtime):
    rt = world(make_runtime)
    ns = rt.env.TEST
    stub = ns.get(ns.idFromName("lazy"))
    await rt.run_until_idle()
    assert rt.trace.select("constructor") == []
    assert list_durable_object_ids(ns) == []
    await stub.whoami()
    assert len(rt.trace.select("constructor")) == 1


def test_stub_id_and_name_for_a_named_id(make_runtime):
    ns = world(make_runtime).env.TEST
    id_ = ns.idFromName("alice")
    stub = ns.get(id_)
    assert stub.id == id_
    assert stub.id.equals(id_)
    assert stub.name == "alice"


def test_stub_name_is_none_for_unique_and_parsed_ids(make_runtime):
    ns = world(make_runtime).env.TEST
    unique = ns.newUniqueId()
    assert ns.get(unique).id == unique
    assert ns.get(unique).name is None
    assert ns.get(ns.idFromString(ORACLE_FOO_ID)).name is None


def test_get_accepts_a_location_hint(make_runtime):
    ns = world(make_runtime).env.TEST
    stub = ns.get(ns.idFromName("alice"), {"locationHint": "enam"})
    assert stub.name == "alice"


# --- 1.10 getByName is get(idFromName) ------------------------------------------------------


async def test_get_by_name_equals_get_of_id_from_name(make_runtime):
    ns = world(make_runtime).env.TEST
    by_name = ns.getByName("alice")
    by_id = ns.get(ns.idFromName("alice"))
    assert by_name.id == by_id.id
    assert by_name.id.toString() == by_id.id.toString()
    assert by_name.name == by_id.name == "alice"
    assert await by_name.increment() == 1
    assert await by_id.increment() == 2
    assert (await by_name.whoami())["instance"] == (await by_id.whoami())["instance"]


# --- 1.12 a foreign ID object passed to get() -----------------------------------------------


async def test_get_accepts_an_id_object_of_another_namespace(make_runtime):
    env = world(make_runtime).env
    foreign = env.OTHER.idFromName("foo")
    stub = env.TEST.get(foreign)  # workerd does not check the namespace in get()
    assert await stub.increment() == 1
    me = await stub.whoami()
    assert me["id"] == foreign.toString()


# --- 1.13 one ID, one object ----------------------------------------------------------------


async def test_all_stubs_for_one_id_reach_one_instance_and_one_storage(make_runtime):
    rt = world(make_runtime)
    ns = rt.env.TEST
    stubs = [
        ns.getByName("shared"),
        ns.get(ns.idFromName("shared")),
        ns.get(ns.idFromString(ns.idFromName("shared").toString())),
    ]
    assert [await s.increment() for s in stubs] == [1, 2, 3]
    seen = [await s.whoami() for s in stubs]
    assert len({me["instance"] for me in seen}) == 1
    assert [me["calls"] for me in seen] == [1, 2, 3]
    assert len(rt.trace.select("constructor")) == 1


async def test_a_stub_made_inside_another_object_reaches_the_same_object(make_runtime):
    env = world(make_runtime).env
    assert await env.TEST.getByName("shared").increment() == 1
    assert await env.OTHER.getByName("caller").bump_via("TEST", "shared") == 2
    assert await env.TEST.getByName("shared").increment() == 3


async def test_different_ids_have_separate_storage(make_runtime):
    ns = world(make_runtime).env.TEST
    assert await ns.getByName("a").increment() == 1
    assert await ns.getByName("b").increment() == 1
    assert await ns.get(ns.newUniqueId()).increment() == 1
    assert await ns.getByName("a").increment() == 2


async def test_same_name_in_two_namespaces_is_two_objects(make_runtime):
    env = world(make_runtime).env
    assert await env.TEST.getByName("foo").increment() == 1
    assert await env.OTHER.getByName("foo").increment() == 1


# --- scenario 16 ----------------------------------------------------------------------------


def test_scenario_16_ids(make_runtime):
    env = world(make_runtime).env
    a, b = env.TEST, env.OTHER
    x = a.idFromName("x")
    assert x == a.idFromName("x")
    assert len(x.toString()) == 64 and x.toString() == x.toString().lower()
    with pytest.raises(JsException) as err:
        a.idFromString("zz")
    assert err.value.message == MUST_BE_64_HEX
    with pytest.raises(JsException) as err:
        b.idFromString(x.toString())
    assert err.value.message == NOT_THIS_NAMESPACE
    assert a.idFromString(x.toString()).name is None


# --- list_durable_object_ids ----------------------------------------------------------------


async def test_list_durable_object_ids_lists_the_objects_that_were_created(make_runtime):
    rt = world(make_runtime)
    ns = rt.env.TEST
    assert list_durable_object_ids(ns) == []
    unique = ns.newUniqueId()
    ns.getByName("never-called")
    await ns.getByName("alice").increment()
    await ns.get(unique).whoami()
    await rt.env.OTHER.getByName("bob").increment()
    assert {i.toString() for i in list_durable_object_ids(ns)} == {
        ns.idFromName("alice").toString(),
        unique.toString(),
    }
    assert list_durable_object_ids(rt.env.OTHER) == [rt.env.OTHER.idFromName("bob")]


async def test_list_durable_object_ids_keeps_objects_after_eviction(make_runtime):
    rt = world(make_runtime)
    ns = rt.env.TEST
    stub = ns.getByName("alice")
    await stub.increment()
    await rt.evict(stub)
    assert list_durable_object_ids(ns) == [ns.idFromName("alice")]
