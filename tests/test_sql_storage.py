"""`ctx.storage.sql` inside objects: one database with the KV API, transactions, the output gate,
persistence (semantics §5, 3.16-3.18, scenarios 7, 8, 22). The cursor and the SQL guard rails
themselves are tested in test_sql.py."""

import pytest

from durable_dojo import JsError, Runtime
from durable_dojo.testing import run_in_durable_object
from workers import DurableObject


class Store(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)")

    async def add(self, name):
        self.sql.exec("INSERT INTO items (name) VALUES (?)", name)
        await self.ctx.storage.put("last", name)
        return self.sql.exec("SELECT count(*) AS n FROM items").one()["n"]

    def names(self):
        return [row["name"] for row in self.sql.exec("SELECT name FROM items ORDER BY id")]

    async def last(self):
        return await self.ctx.storage.get("last")

    def add_then_fail(self, name):
        def body():
            self.sql.exec("INSERT INTO items (name) VALUES (?)", name)
            self.ctx.storage.kv.put("last", name)
            raise ValueError("undo both")

        self.ctx.storage.transactionSync(body)

    def create_then_fail(self):
        def body():
            self.sql.exec("CREATE TABLE doomed (x)")
            self.sql.exec("INSERT INTO nope VALUES (1)")

        self.ctx.storage.transactionSync(body)

    def tables(self):
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name"
        return [r["name"] for r in self.sql.exec(query)]

    def nested(self):
        self.sql.exec("CREATE TABLE IF NOT EXISTS t (i)")
        self.sql.exec("DELETE FROM t")
        self.sql.exec("INSERT INTO t VALUES (1)")

        def outer():
            self.sql.exec("UPDATE t SET i = 2")

            def inner():
                self.sql.exec("UPDATE t SET i = 3")
                raise ValueError("inner")

            try:
                self.ctx.storage.transactionSync(inner)
            except ValueError:
                pass
            return self.sql.exec("SELECT i FROM t").one()["i"]

        after_inner = self.ctx.storage.transactionSync(outer)
        return [after_inner, self.sql.exec("SELECT i FROM t").one()["i"]]

    async def wipe(self):
        await self.ctx.storage.deleteAll()
        return self.tables()

    def size(self):
        return self.sql.databaseSize


@pytest.fixture
def world(make_runtime):
    return make_runtime(durable_objects={"STORE": Store})


async def test_sql_and_kv_writes_of_one_request_commit_together(world):
    stub = world.env.STORE.getByName("s")
    assert await stub.add("apple") == 1
    assert await stub.add("pear") == 2
    assert (await stub.names(), await stub.last()) == (["apple", "pear"], "pear")
    commits = [e for e in world.trace.select("commit")]
    assert len(commits) == 3  # the constructor's CREATE TABLE, then one per request


async def test_transaction_sync_rolls_back_sql_and_kv_together(world):
    stub = world.env.STORE.getByName("s")
    await stub.add("apple")
    with pytest.raises(ValueError, match="undo both"):
        await stub.add_then_fail("ghost")
    assert (await stub.names(), await stub.last()) == (["apple"], "apple")


# Scenario 7: a created table and a later SQL error inside transactionSync leave no table.
async def test_transaction_sync_rolls_back_a_create_table(world):
    stub = world.env.STORE.getByName("s")
    with pytest.raises(JsError, match="^Error: no such table: nope: SQLITE_ERROR$"):
        await stub.create_then_fail()
    assert "doomed" not in await stub.tables()


# Scenario 7: nested transactionSync uses savepoints; an inner throw undoes only the inner work.
async def test_nested_transaction_sync_inner_throw_undoes_only_the_inner_work(world):
    assert await world.env.STORE.getByName("s").nested() == [2, 2]


# 3.4: deleteAll on a SQLite-backed object clears the whole database, SQL tables included.
async def test_delete_all_drops_sql_tables_too(world):
    stub = world.env.STORE.getByName("s")
    await stub.add("apple")
    assert await stub.wipe() == []
    assert await stub.last() is None


async def test_a_failed_flush_loses_the_sql_writes_of_the_batch(world):
    stub = world.env.STORE.getByName("s")
    await stub.add("apple")
    world.faults.fail_next_flush(stub)
    with pytest.raises(JsError) as caught:
        await stub.add("lost")
    assert caught.value.durableObjectReset is True
    assert await world.env.STORE.getByName("s").names() == ["apple"]


# 5.1: no SQL on KV-backed classes.
async def test_sql_on_a_kv_backed_object_gives_the_platform_error(make_runtime):
    rt = make_runtime(durable_objects={"STORE": Store}, storage="kv")
    with pytest.raises(JsError, match="^Error: This Durable Object is not backed by SQLite storage, so the SQL API"):
        await rt.env.STORE.getByName("s").names()


# 3.18: ctx.storage.kv is the synchronous KV API over the same keys.
async def test_sync_kv_api_sees_the_same_keys_as_the_async_api(world):
    stub = world.env.STORE.getByName("s")
    await stub.add("apple")

    def use_sync_kv(obj, ctx):
        kv = ctx.storage.kv
        before = kv.get("last")
        kv.put("other", {"n": 1})
        return [before, kv.delete("missing"), list(kv.list({"prefix": "o"}))]

    assert await run_in_durable_object(stub, use_sync_kv) == ["apple", False, [["other", {"n": 1}]]]


async def test_sync_kv_api_is_refused_on_kv_backed_objects(make_runtime):
    class Plain(DurableObject):
        def use(self):
            return self.ctx.storage.kv.get("x")

    rt = make_runtime(durable_objects={"P": Plain}, storage="kv")
    with pytest.raises(JsError, match=r"^Error: The storage\.kv \(synchronous KV\) API is only available"):
        await rt.env.P.getByName("p").use()


# 5.8: the database size counts pages of 4,096 bytes.
async def test_database_size_grows_in_pages(world):
    size = await world.env.STORE.getByName("s").size()
    assert size > 0 and size % 4096 == 0


def test_sql_tables_persist_with_persist_to(tmp_path):
    first = Runtime(durable_objects={"STORE": Store}, persist_to=tmp_path)
    first.run(first.env.STORE.getByName("s").add("kept"))
    first.close()
    second = Runtime(durable_objects={"STORE": Store}, persist_to=tmp_path)
    assert second.run(second.env.STORE.getByName("s").names()) == ["kept"]
    assert second.run(second.env.STORE.getByName("s").last()) == "kept"
    second.close()
