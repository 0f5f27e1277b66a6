"""`ctx.storage.sql` inside objects: one database with the KV API, transactions, the output gate,
persistence (semantics §5, 3.16-3.18, scenarios 7, 8, 22). The cursor and the SQL guard rails
themselves are tested in test_sql.py."""

import pytest

from durable_dojo import JsError, Runtime
from durable_dojo.testing import run_in_durable_object
from pyodide.ffi import JsException
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
    with pytest.raises(JsException, match=r"\nValueError: undo both$"):
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


# ---------------------------------------------------------------------------------------
# The object's database as workerd lays it out (util/sqlite-kv.h, util/sqlite-metadata.h; the
# oracle's sqlp_kv_and_sql_tables and sqlp_database_size_growth give the same values).


class Tables(DurableObject):
    def tables(self):
        return [[r["name"], r["ncol"]] for r in self.ctx.storage.sql.exec(
            "SELECT name, ncol FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite%' ORDER BY name")]

    def size(self):
        return self.ctx.storage.sql.databaseSize

    async def put(self, key, value):
        await self.ctx.storage.put(key, value)
        return self.tables()

    async def set_alarm(self):
        from js import Date

        await self.ctx.storage.setAlarm(Date.now() + 60_000)
        return self.tables()

    async def delete_alarm(self):
        await self.ctx.storage.deleteAlarm()
        return self.tables()

    async def delete_all(self):
        await self.ctx.storage.deleteAll()
        return [self.tables(), self.size()]

    def put_then_fail(self):
        def body():
            self.ctx.storage.kv.put("doomed", 1)
            raise ValueError("boom")

        self.ctx.storage.transactionSync(body)

    async def grow(self):
        """workerd's numbers for these steps (oracle: sqlp_database_size_growth)."""
        sql = self.ctx.storage.sql
        sizes = [sql.databaseSize]
        sql.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)")
        sizes.append(sql.databaseSize)
        for _ in range(40):
            sql.exec("INSERT INTO big (body) VALUES (?)", "x" * 1000)
        sizes.append(sql.databaseSize)
        sql.exec("CREATE INDEX big_body ON big (body)")
        sizes.append(sql.databaseSize)
        sql.exec("DELETE FROM big WHERE id > 20")
        sizes.append(sql.databaseSize)
        await self.ctx.storage.put("k", "v" * 5000)
        sizes.append(sql.databaseSize)
        await self.ctx.storage.deleteAll()
        sizes.append(sql.databaseSize)
        return sizes

    async def keys(self, options=None):
        return list((await self.ctx.storage.list(options or {})).keys())

    async def get(self, key):
        return await self.ctx.storage.get(key)


@pytest.fixture
def tables(make_runtime):
    return make_runtime(durable_objects={"T": Tables}).env.T.getByName("t")


async def test_a_new_database_is_one_page_and_has_no_internal_table(tables):
    assert await tables.tables() == []
    assert await tables.size() == 4096


async def test_cf_kv_appears_with_two_columns_at_the_first_put(tables):
    assert await tables.tables() == []
    assert await tables.put("a", 1) == [["_cf_KV", 2]]


async def test_cf_metadata_appears_at_the_first_alarm_and_stays_after_delete_alarm(tables):
    assert await tables.set_alarm() == [["_cf_METADATA", 2]]
    assert await tables.delete_alarm() == [["_cf_METADATA", 2]]


async def test_delete_all_leaves_no_internal_table_and_one_page(tables):
    await tables.put("a", "x" * 5000)
    await tables.set_alarm()
    assert await tables.delete_all() == [[], 4096]  # compatibility date >= 2026-02-24: the alarm goes too


async def test_a_put_rolled_back_by_its_transaction_leaves_no_cf_kv(tables):
    with pytest.raises(JsException, match=r"\nValueError: boom$"):
        await tables.put_then_fail()
    assert await tables.tables() == []
    assert await tables.get("doomed") is None


async def test_database_size_follows_workerds_pages_through_growth_kv_rows_and_delete_all(tables):
    assert await tables.grow() == [4096, 8192, 49152, 237568, 126976, 135168, 4096]


# Lone surrogates in keys: kept as WTF-8 (ED A0 80 for U+D800), listed in that byte order,
# read back as one U+FFFD per byte (oracle: edge_surrogate_keys).
async def test_lone_surrogate_keys_keep_their_wtf8_order_and_read_back_per_byte(tables):
    for key in ["\ud800", "a\udc00b", "\uffff", "\U00010000", "\ue000"]:
        await tables.put(key, 1)
    assert await tables.keys() == ["a\ufffd\ufffd\ufffdb", "\ufffd\ufffd\ufffd", "\ue000", "\uffff", "\U00010000"]
    assert await tables.keys({"prefix": "\ud800"}) == ["\ufffd\ufffd\ufffd"]
    assert await tables.get("\ud800") == 1
    assert await tables.get("\ufffd\ufffd\ufffd") is None  # a different key


async def test_lone_surrogate_keys_on_the_shared_database_too(make_runtime):
    class Plain(DurableObject):  # never uses SQL: its keys live in the world's shared database
        async def run(self):
            s = self.ctx.storage
            await s.put({"\udbff": 1, "z": 2})
            return [list((await s.list()).keys()), await s.get("\udbff"), list((await s.get(["\udbff"])).keys())]

    rt = make_runtime(durable_objects={"P": Plain})
    assert await rt.env.P.getByName("p").run() == [["z", "\ufffd\ufffd\ufffd"], 1, ["\ufffd\ufffd\ufffd"]]


def test_a_persisted_file_is_laid_out_like_workerds(tmp_path):
    from durable_dojo._core.sqlite_driver import connect

    rt = Runtime(durable_objects={"T": Tables}, persist_to=tmp_path)
    stub = rt.env.T.getByName("t")
    rt.run(stub.put("k", "v"))
    rt.run(stub.set_alarm())
    alarm_ms = rt.run(_alarm_of(stub))
    path = tmp_path / "Tables" / (rt.env.T.idFromName("t").toString() + ".sqlite")
    rt.close()
    db = connect(str(path))
    schema = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    assert [name for name, _ in schema] == ["_cf_KV", "_cf_METADATA"]
    assert db.execute("SELECT key, typeof(value) FROM _cf_KV").fetchall() == [("k", "blob")]
    assert db.execute("SELECT key, value FROM _cf_METADATA").fetchall() == [(1, alarm_ms * 1_000_000)]
    db.close()


def _alarm_of(stub):
    return run_in_durable_object(stub, lambda obj, ctx: ctx.storage.getAlarm())


def test_a_file_in_the_earlier_layout_is_upgraded_when_opened(tmp_path):
    from durable_dojo._core.sqlite_driver import connect

    rt = Runtime(durable_objects={"T": Tables}, persist_to=tmp_path)
    hex_id = rt.env.T.idFromName("t").toString()
    rt.close()
    folder = tmp_path / "Tables"
    folder.mkdir(exist_ok=True)
    old = connect(str(folder / f"{hex_id}.sqlite"))
    old.execute("CREATE TABLE _cf_kv (ns TEXT NOT NULL, obj TEXT NOT NULL, key TEXT NOT NULL, "
                "value BLOB NOT NULL, PRIMARY KEY (ns, obj, key)) WITHOUT ROWID")
    old.execute("CREATE TABLE _cf_alarms (ns TEXT NOT NULL, obj TEXT NOT NULL, time INTEGER NOT NULL, "
                "PRIMARY KEY (ns, obj)) WITHOUT ROWID")
    from durable_dojo._core.codec import serialize

    old.execute("INSERT INTO _cf_kv VALUES ('Tables', ?, 'kept', ?)", (hex_id, serialize("yes")))
    old.execute("INSERT INTO _cf_alarms VALUES ('Tables', ?, 4102444800000)", (hex_id,))
    old.close()
    second = Runtime(durable_objects={"T": Tables}, persist_to=tmp_path)
    stub = second.env.T.getByName("t")
    assert second.run(stub.get("kept")) == "yes"
    assert second.run(_alarm_of(stub)) == 4102444800000
    assert second.run(stub.tables()) == [["_cf_KV", 2], ["_cf_METADATA", 2]]
    second.close()


async def test_an_alarm_set_in_the_turn_that_first_uses_sql_is_lost_with_that_turn_only(make_runtime):
    """The committed alarm moves into the object's own database with its keys; the new one, set
    in a turn whose flush fails, is lost with that turn and the committed one stays."""

    class Late(DurableObject):
        async def arm(self, when):
            await self.ctx.storage.setAlarm(when)

        async def rearm_with_sql(self, when):
            await self.ctx.storage.setAlarm(when)
            self.ctx.storage.sql.exec("CREATE TABLE t (x)")  # the first SQL: a database of its own

        async def alarm_at(self):
            return await self.ctx.storage.getAlarm()

        async def alarm(self, info=None):
            pass

    rt = make_runtime(durable_objects={"L": Late})
    stub = rt.env.L.getByName("l")
    await stub.arm(4_102_444_800_000)
    rt.faults.fail_next_flush(stub)
    with pytest.raises(JsError):
        await stub.rearm_with_sql(4_102_444_900_000)
    assert await rt.env.L.getByName("l").alarm_at() == 4_102_444_800_000
