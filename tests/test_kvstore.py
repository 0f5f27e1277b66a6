"""The synchronous storage engine (`durable_dojo._core.kvstore`): behaviours and exact messages."""

from __future__ import annotations

import random

import pytest

from durable_dojo._core.errors import DojoError, JsError, RangeError
from durable_dojo._core.kvstore import (
    SQLITE_MAX_KEY_PLUS_VALUE,
    KvStore,
    SharedDb,
    coerce_key,
    parse_list_options,
)

# The order workerd printed for these keys (oracle REPORT.md): UTF-8 byte order.
ORACLE_ORDER = [
    " ", "10", "2", "9", "A", "B", "_x", "a", "a\0", "a.b", "a/b", "a:b", "aa", "ab",
    "b", "e", "z", "~", "é", "ÿ", "\uFFFF", "😀",
]  # fmt: skip


@pytest.fixture
def db():
    d = SharedDb()
    yield d
    d.close()


@pytest.fixture
def kv(db):
    return KvStore(db, "NS", "obj1")


def keys(rows):
    return [k for k, _ in rows]


def committed_view(db, ns="NS", obj="obj1"):
    """What a fresh instance of the object (after a crash) would read."""
    return KvStore(db, ns, obj).list()


def fill_oracle_keys(kv, commit=True):
    shuffled = ORACLE_ORDER[:]
    random.Random(1).shuffle(shuffled)
    for k in shuffled:
        kv.put(k, k.encode())
    if commit:
        kv.commit()


# --- batches: read-your-writes, coalescing, atomic commit -------------------------------


def test_read_your_writes_before_commit(kv, db):
    kv.put("a", b"1")
    assert kv.get("a") == b"1"
    assert kv.list() == [("a", b"1")]
    assert kv.has_pending()
    assert committed_view(db) == []  # nobody else sees it yet


def test_get_missing_key_is_none(kv):
    assert kv.get("nope") is None


def test_coalesced_writes_are_atomic_discard_loses_both(kv, db):
    kv.put("a", b"1")
    kv.put("b", b"2")
    kv.discard()
    assert kv.get("a") is None and kv.get("b") is None
    assert committed_view(db) == []
    assert not kv.has_pending()


def test_coalesced_writes_are_atomic_commit_keeps_both(kv, db):
    kv.put("a", b"1")
    kv.put("b", b"2")
    kv.commit()
    assert not kv.has_pending()
    assert committed_view(db) == [("a", b"1"), ("b", b"2")]


def test_discard_loses_only_the_pending_batch(kv, db):
    kv.put("a", b"1")
    kv.commit()
    kv.put("a", b"2")
    kv.delete("a")
    kv.put("c", b"3")
    kv.discard()
    assert kv.list() == [("a", b"1")]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_commit_failure_leaves_committed_state_unchanged(kv, db, batch_size):
    kv.put("keep", b"old")
    kv.put("gone", b"x")
    kv.set_alarm(1000)
    kv.commit()
    for i in range(batch_size):
        kv.put("keep" if i == 0 else f"new{i}", b"new")
    kv.delete("gone")
    kv.set_alarm(2000)
    boom = RuntimeError("disk on fire")
    with pytest.raises(RuntimeError, match="disk on fire"):
        kv.commit(fail=boom)
    assert not db.conn.in_transaction
    assert committed_view(db) == [("gone", b"x"), ("keep", b"old")]
    assert KvStore(db, "NS", "obj1").get_alarm() == 1000
    # The failed batch was dropped: this instance reads committed state again.
    assert not kv.has_pending()
    assert kv.get("keep") == b"old"


def test_commit_failure_after_delete_all_rolls_back_the_wipe(kv, db):
    kv.put("a", b"1")
    kv.commit()
    kv.delete_all()
    kv.put("b", b"2")
    with pytest.raises(KeyboardInterrupt):
        kv.commit(fail=KeyboardInterrupt())
    assert committed_view(db) == [("a", b"1")]


def test_a_one_key_batch_commits_on_its_own_and_leaves_no_transaction_open(kv, db):
    # A batch of one key is written by one statement, without BEGIN/COMMIT around it.
    kv.put("n", b"1")
    kv.commit()
    kv.put("n", b"2")
    kv.commit()
    assert not db.conn.in_transaction
    assert committed_view(db) == [("n", b"2")]
    kv.delete("n")
    kv.commit()
    assert not db.conn.in_transaction
    assert committed_view(db) == []


@pytest.mark.parametrize("key", ["é", "😀", "a\ud800"])
def test_a_non_ascii_key_committed_is_read_back_from_the_database_and_deleted(db, key):
    kv = KvStore(db, "NS", "obj1")
    kv.put(key, b"v")
    kv.commit()
    assert KvStore(db, "NS", "obj1").get(key) == b"v"  # a fresh view: the committed row, not the batch
    kv.delete(key)
    kv.commit()
    assert KvStore(db, "NS", "obj1").get(key) is None


def test_commit_with_nothing_pending_is_a_noop(kv, db):
    kv.commit()
    assert not db.conn.in_transaction
    assert committed_view(db) == []


def test_pending_overwrite_then_delete_commits_the_delete(kv, db):
    kv.put("a", b"1")
    kv.commit()
    kv.put("a", b"2")
    assert kv.delete("a") is True
    kv.commit()
    assert committed_view(db) == []


def test_value_is_stored_as_bytes_even_from_bytearray(kv):
    buf = bytearray(b"abc")
    kv.put("k", buf)
    buf[0] = ord("z")
    assert kv.get("k") == b"abc"
    kv.commit()
    assert kv.get("k") == b"abc" and type(kv.get("k")) is bytes


# --- key order --------------------------------------------------------------------------


def test_list_order_is_utf8_byte_order_like_workerd(kv):
    fill_oracle_keys(kv)
    assert keys(kv.list()) == ORACLE_ORDER
    assert keys(kv.list(reverse=True)) == ORACLE_ORDER[::-1]


def test_list_order_with_pending_keys_is_the_same(kv):
    fill_oracle_keys(kv, commit=False)
    assert keys(kv.list()) == ORACLE_ORDER


def test_uffff_sorts_before_astral_unlike_js_utf16_sort(kv):
    kv.put("😀", b"")
    kv.put("\uffff", b"")
    kv.commit()
    assert keys(kv.list()) == ["\uffff", "😀"]


def test_empty_key_and_nul_keys_round_trip(kv, db):
    kv.put("", b"empty")
    kv.put("a\0b", b"nul")
    kv.commit()
    assert kv.get("") == b"empty"
    assert kv.get("a\0b") == b"nul"
    assert kv.get("a") is None
    assert committed_view(db) == [("", b"empty"), ("a\0b", b"nul")]


# --- list options -----------------------------------------------------------------------


@pytest.fixture
def oracle_kv(kv):
    fill_oracle_keys(kv)
    return kv


def test_list_limit_takes_the_first(oracle_kv):
    assert keys(oracle_kv.list(limit=3)) == [" ", "10", "2"]


def test_list_reverse_with_limit_counts_from_the_top(oracle_kv):
    assert keys(oracle_kv.list(reverse=True, limit=3)) == ["😀", "\uffff", "ÿ"]


def test_list_prefix_a(oracle_kv):
    assert keys(oracle_kv.list(prefix="a")) == ["a", "a\0", "a.b", "a/b", "a:b", "aa", "ab"]


def test_list_start_inclusive_end_exclusive(oracle_kv):
    assert keys(oracle_kv.list(start="b", end="z")) == ["b", "e"]


def test_list_start_after_is_exclusive(oracle_kv):
    assert keys(oracle_kv.list(start_after="a", end="aa")) == ["a\0", "a.b", "a/b", "a:b"]
    assert keys(oracle_kv.list(start="a", end="aa")) == ["a", "a\0", "a.b", "a/b", "a:b"]


def test_list_start_after_end_is_empty(oracle_kv):
    assert oracle_kv.list(start="z", end="b") == []
    assert oracle_kv.list(start="b", end="b") == []
    assert oracle_kv.list(start_after="b", end="b") == []


def test_list_prefix_with_start_inside_it(oracle_kv):
    assert keys(oracle_kv.list(prefix="a", start="ab")) == ["ab"]


def test_list_prefix_with_start_after_equal_to_prefix_excludes_it(oracle_kv):
    assert keys(oracle_kv.list(prefix="a", start_after="a")) == ["a\0", "a.b", "a/b", "a:b", "aa", "ab"]


def test_list_prefix_with_start_before_it_is_clamped(oracle_kv):
    assert keys(oracle_kv.list(prefix="a", start="A")) == keys(oracle_kv.list(prefix="a"))


def test_list_prefix_outside_start_end_is_empty(oracle_kv):
    assert oracle_kv.list(prefix="a", start="b") == []
    assert oracle_kv.list(prefix="b", end="a") == []


def test_list_prefix_with_end_and_reverse_limit(oracle_kv):
    assert keys(oracle_kv.list(prefix="a", end="a:")) == ["a", "a\0", "a.b", "a/b"]
    assert keys(oracle_kv.list(prefix="a", reverse=True, limit=2)) == ["ab", "aa"]


def test_list_prefix_of_non_ascii_and_max_code_point(kv):
    for k in ["é", "éa", "ê", "\U0010ffff", "\U0010ffffx", "\ud7ff", "\ud7ffz", "\ue000"]:
        kv.put(k, b"")
    kv.commit()
    assert keys(kv.list(prefix="é")) == ["é", "éa"]
    assert keys(kv.list(prefix="\U0010ffff")) == ["\U0010ffff", "\U0010ffffx"]
    assert keys(kv.list(prefix="\ud7ff")) == ["\ud7ff", "\ud7ffz"]


def test_list_values_come_back(oracle_kv):
    assert oracle_kv.list(start="b", end="z") == [("b", b"b"), ("e", b"e")]


def test_list_rejects_both_start_and_start_after_and_bad_limit(kv):
    with pytest.raises(TypeError, match=r"^list\(\) cannot be called with both start and startAfter values\.$"):
        kv.list(start="a", start_after="a")
    with pytest.raises(TypeError, match=r"^List limit must be positive\.$"):
        kv.list(limit=0)


# --- overlay + committed merge ----------------------------------------------------------


def test_list_merges_pending_puts_and_tombstones(kv):
    for k in "abcdef":
        kv.put(k, b"c")
    kv.commit()
    kv.delete("b")
    kv.delete("c")
    kv.put("bb", b"p")
    kv.put("e", b"p")
    assert kv.list() == [("a", b"c"), ("bb", b"p"), ("d", b"c"), ("e", b"p"), ("f", b"c")]
    assert keys(kv.list(limit=3)) == ["a", "bb", "d"]
    assert keys(kv.list(reverse=True, limit=3)) == ["f", "e", "d"]
    assert keys(kv.list(reverse=True, limit=4, end="f")) == ["e", "d", "bb", "a"]


def test_list_limit_not_cut_short_by_tombstones(kv):
    for k in "abcdefgh":
        kv.put(k, b"")
    kv.commit()
    for k in "abc":
        kv.delete(k)
    assert keys(kv.list(limit=3)) == ["d", "e", "f"]
    for k in "fgh":
        kv.delete(k)
    assert keys(kv.list(reverse=True, limit=2)) == ["e", "d"]


def test_list_after_delete_all_shows_only_new_puts(kv):
    for k in "abc":
        kv.put(k, b"old")
    kv.commit()
    kv.delete_all()
    kv.put("b", b"new")
    assert kv.list() == [("b", b"new")]
    assert kv.get("a") is None


# --- get_many / delete / delete_many ------------------------------------------------------


def test_get_many_only_existing_sorted_once(kv):
    kv.put("b", b"2")
    kv.put("a", b"1")
    kv.commit()
    kv.put("c", b"3")  # pending
    kv.delete("a")  # pending tombstone
    assert kv.get_many(["c", "zz", "b", "a", "c"]) == [("b", b"2"), ("c", b"3")]
    assert kv.get_many([]) == []


def test_get_many_of_many_keys_crosses_chunks(kv):
    kv.put_many([(f"k{i:04}", str(i).encode()) for i in range(0, 1000, 2)])
    kv.commit()
    got = kv.get_many([f"k{i:04}" for i in range(1000)])
    assert len(got) == 500 and got[0] == ("k0000", b"0") and got[-1] == ("k0998", b"998")


def test_delete_returns_whether_it_existed(kv):
    kv.put("a", b"1")
    kv.commit()
    kv.put("p", b"pending")
    assert kv.delete("a") is True
    assert kv.delete("a") is False
    assert kv.delete("p") is True
    assert kv.delete("missing") is False


def test_delete_many_counts_existing_keys_once(kv):
    kv.put_many([("x", b"1"), ("y", b"2")])
    kv.commit()
    kv.put("p", b"3")
    assert kv.delete_many(["x", "x", "nope", "p"]) == 2
    assert kv.delete_many(["x", "y"]) == 1
    assert kv.list() == []


def test_delete_after_delete_all_of_pending_key(kv):
    kv.put("a", b"1")
    kv.commit()
    kv.delete_all()
    kv.put("b", b"2")
    assert kv.delete("b") is True
    assert kv.delete("a") is False
    kv.commit()
    assert kv.list() == []


# --- delete_all and alarms --------------------------------------------------------------


def test_delete_all_keeps_alarm_before_compat_date(kv, db):
    kv.put("a", b"1")
    kv.set_alarm(5000)
    kv.commit()
    kv.put("b", b"2")
    kv.delete_all(delete_alarm=False)
    assert kv.list() == [] and kv.get_alarm() == 5000
    kv.commit()
    assert committed_view(db) == []
    assert KvStore(db, "NS", "obj1").get_alarm() == 5000


def test_delete_all_deletes_alarm_when_flag_set(kv, db):
    kv.put("a", b"1")
    kv.set_alarm(5000)
    kv.commit()
    kv.delete_all(delete_alarm=True)
    assert kv.get_alarm() is None
    kv.commit()
    assert KvStore(db, "NS", "obj1").get_alarm() is None
    assert db.object_ids("NS") == []


def test_alarm_set_get_delete_through_the_batch(kv, db):
    assert kv.get_alarm() is None
    kv.set_alarm(1234)
    assert kv.get_alarm() == 1234
    assert KvStore(db, "NS", "obj1").get_alarm() is None
    kv.commit()
    assert KvStore(db, "NS", "obj1").get_alarm() == 1234
    kv.set_alarm(None)
    assert kv.get_alarm() is None
    kv.discard()
    assert kv.get_alarm() == 1234
    kv.set_alarm(None)
    kv.commit()
    assert kv.get_alarm() is None


def test_object_ids_and_alarms_listing(db):
    a = KvStore(db, "NS", "a")
    b = KvStore(db, "NS", "b")
    c = KvStore(db, "OTHER", "c")
    a.put("k", b"")
    b.set_alarm(99)
    c.put("k", b"")
    for s in (a, b, c):
        s.commit()
    KvStore(db, "NS", "pending-only").put("k", b"")
    assert db.object_ids("NS") == ["a", "b"]
    assert db.object_ids("OTHER") == ["c"]
    assert db.alarms() == [("NS", "b", 99)]
    assert db.alarms("OTHER") == []


# --- limits -----------------------------------------------------------------------------


@pytest.fixture
def legacy(db):
    return KvStore(db, "NS", "legacy", legacy_limits=True)


def test_legacy_get_many_of_129_keys(legacy):
    with pytest.raises(RangeError) as e:
        legacy.get_many([f"k{i}" for i in range(129)])
    assert e.value.message == "Maximum number of key value pairs is 128. 129 pairs were provided."
    assert legacy.get_many([f"k{i}" for i in range(128)]) == []


def test_legacy_key_of_2049_bytes(legacy):
    msg = "Keys cannot be larger than 2048 bytes. A key of size 2049 was provided."
    for call in (
        lambda: legacy.put("k" * 2049, b""),
        lambda: legacy.get("k" * 2049),
        lambda: legacy.delete("k" * 2049),
        lambda: legacy.get_many(["a", "k" * 2049]),
        lambda: legacy.delete_many(["k" * 2049]),
    ):
        with pytest.raises(RangeError) as e:
            call()
        assert e.value.message == msg
    legacy.put("k" * 2048, b"")  # exactly at the limit is fine


def test_legacy_key_size_counts_utf8_bytes(legacy):
    with pytest.raises(RangeError, match="A key of size 2050 was provided"):
        legacy.put("é" * 1025, b"")
    legacy.put("é" * 1024, b"")


def test_legacy_value_of_204806_bytes(legacy):
    with pytest.raises(RangeError) as e:
        legacy.put("k", b"\0" * 204806)
    assert e.value.message == "Values cannot be larger than 131072 bytes. A value of size 204806 was provided."
    legacy.put("k", b"\0" * (131072 + 34))  # the serialization cushion is allowed
    with pytest.raises(RangeError, match="A value of size 131107 was provided"):
        legacy.put("k", b"\0" * (131072 + 35))


def test_legacy_put_and_delete_of_129_entries_are_accepted(legacy):
    legacy.put_many([(f"k{i}", b"") for i in range(129)])
    assert legacy.delete_many([f"k{i}" for i in range(129)]) == 129


def test_sqlite_default_accepts_200_kib_value_and_big_key(kv, db):
    kv.put("k", b"\1" * 204806)
    kv.put("x" * 5000, b"v")
    kv.commit()
    assert kv.get("k") == b"\1" * 204806
    assert kv.get_many(["k" * 2049] * 129) == []


def test_sqlite_key_plus_value_limit_is_2_mb(kv):
    kv.put("kk", b"\0" * (SQLITE_MAX_KEY_PLUS_VALUE - 2))  # exactly 2,000,000: allowed
    with pytest.raises(JsError) as e:
        kv.put("kkk", b"\0" * (SQLITE_MAX_KEY_PLUS_VALUE - 2))
    assert e.value.message.startswith("string or blob too big: SQLITE_TOOBIG")
    assert "2,000,000 bytes of key plus value" in e.value.message
    assert "this key is 3 bytes and the serialized value 1999998 bytes" in e.value.message


def test_failed_put_many_changes_nothing(legacy):
    legacy.put("a", b"old")
    with pytest.raises(RangeError):
        legacy.put_many([("a", b"new"), ("b", b"x"), ("c", b"\0" * 200_000)])
    assert legacy.list() == [("a", b"old")]


# --- savepoints ---------------------------------------------------------------------------


def test_savepoint_rollback_restores_pending_state(kv):
    kv.put("a", b"1")
    d = kv.savepoint()
    assert d == 1
    kv.put("a", b"2")
    kv.put("b", b"3")
    kv.set_alarm(7)
    kv.rollback_to(d)
    kv.release(d)
    assert kv.list() == [("a", b"1")]
    assert kv.get_alarm() is None
    assert kv.savepoint_depth == 0


def test_savepoint_release_keeps_changes(kv):
    d = kv.savepoint()
    kv.put("a", b"1")
    kv.release(d)
    kv.commit()
    assert kv.get("a") == b"1"


def test_nested_inner_released_outer_rolled_back_undoes_both(kv):
    # Like workerd's sql-test txnTest: 6, then 7, then an outer rollback gives 3 back.
    kv.put("n", b"3")
    kv.commit()
    outer = kv.savepoint()
    kv.put("n", b"6")
    inner = kv.savepoint()
    assert inner == 2
    kv.put("n", b"7")
    kv.put("other", b"x")
    kv.release(inner)
    assert kv.get("n") == b"7"
    kv.rollback_to(outer)
    kv.release(outer)
    assert kv.list() == [("n", b"3")]


def test_nested_inner_rolled_back_outer_kept(kv):
    outer = kv.savepoint()
    kv.put("a", b"outer")
    inner = kv.savepoint()
    kv.delete_all(delete_alarm=True)
    kv.put("b", b"inner")
    kv.rollback_to(inner)
    kv.release(inner)
    kv.release(outer)
    kv.commit()
    assert kv.list() == [("a", b"outer")]


def test_savepoint_rollback_undoes_delete_all(kv):
    kv.put("a", b"1")
    kv.commit()
    d = kv.savepoint()
    kv.delete_all()
    assert kv.list() == []
    kv.rollback_to(d)
    assert kv.list() == [("a", b"1")]
    assert not kv.has_pending()


def test_rollback_to_keeps_the_savepoint_open_and_drops_inner_ones(kv):
    outer = kv.savepoint()
    kv.savepoint()
    kv.savepoint()
    kv.rollback_to(outer)
    assert kv.savepoint_depth == 1
    kv.put("a", b"1")
    kv.rollback_to(outer)  # can roll back to it again
    assert kv.get("a") is None


def test_commit_with_open_savepoint_is_refused_and_discard_clears_them(kv):
    kv.savepoint()
    kv.put("a", b"1")
    with pytest.raises(DojoError):
        kv.commit()
    kv.discard()
    assert kv.savepoint_depth == 0 and kv.get("a") is None
    with pytest.raises(DojoError):
        kv.rollback_to(1)


# --- isolation and persistence --------------------------------------------------------------


def test_two_objects_in_one_shared_db_are_isolated(db):
    a = KvStore(db, "NS", "a")
    b = KvStore(db, "NS", "b")
    other_ns = KvStore(db, "OTHER", "a")
    a.put("k", b"A")
    b.put("k", b"B")
    other_ns.put("k", b"O")
    a.commit()
    b.commit()
    other_ns.commit()
    a.delete_all(delete_alarm=True)
    a.commit()
    assert a.get("k") is None
    assert b.get("k") == b"B"
    assert other_ns.list() == [("k", b"O")]
    b.put("k2", b"B2")
    assert a.list() == []  # b's pending batch is b's alone


def test_file_backed_db_reopen_sees_committed_data_only(tmp_path):
    path = str(tmp_path / "world.sqlite")
    db1 = SharedDb(path)
    assert db1.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    kv = KvStore(db1, "NS", "x")
    kv.put("committed", b"1")
    kv.set_alarm(42)
    kv.commit()
    kv.put("pending", b"2")  # never committed: the "crash" below loses it
    db1.close()

    db2 = SharedDb(path)
    kv2 = KvStore(db2, "NS", "x")
    assert kv2.list() == [("committed", b"1")]
    assert kv2.get_alarm() == 42
    assert db2.object_ids("NS") == ["x"]
    db2.close()


# --- coerce_key and parse_list_options ----------------------------------------------------------


@pytest.mark.parametrize(
    "key, expected",
    [
        ("k", "k"),
        ("", ""),
        (5, "5"),
        (-12, "-12"),
        (True, "true"),
        (False, "false"),
        (1.0, "1"),
        (1.5, "1.5"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1.5e-10, "1.5e-10"),
        (2.5e25, "2.5e+25"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (None, "null"),
        ("a\ud800b", "a\ud800b"),  # kept: workerd stores a lone surrogate of a key as WTF-8
        # the SDK sends a list as an Array, and String(array) joins its items (null is empty)
        (["l1", "l2"], "l1,l2"),
        ([None, True, 1.0], ",true,1"),
        ([["1", "0"], "x"], "1,0,x"),
        ([], ""),
    ],
)
def test_coerce_key_like_js_string(key, expected):
    assert coerce_key(key) == expected


@pytest.mark.parametrize("bad", [{"a": 1}, b"bytes", object()])
def test_coerce_key_rejects_other_types(bad):
    with pytest.raises(TypeError, match="Expected a string"):
        coerce_key(bad)


def test_parse_list_options_maps_js_names():
    assert parse_list_options(None) == {}
    assert parse_list_options({}) == {}
    assert parse_list_options(
        {"start": "a", "end": "z", "prefix": "p", "reverse": True, "limit": 5, "noCache": True,
         "allowConcurrency": True, "bogus": 1}
    ) == {"start": "a", "end": "z", "prefix": "p", "reverse": True, "limit": 5}
    assert parse_list_options({"startAfter": 5}) == {"start_after": "5"}
    # None is JS null (the SDK's conversion): WebIDL's string "null" for a key, false for reverse
    assert parse_list_options({"start": None, "reverse": 0}) == {"start": "null", "reverse": False}
    assert parse_list_options({"prefix": None, "startAfter": None}) == {"prefix": "null", "start_after": "null"}


def test_parse_list_options_limit_is_truncated_and_coerced():
    assert parse_list_options({"limit": 2.7})["limit"] == 2
    assert parse_list_options({"limit": "2"})["limit"] == 2
    assert parse_list_options({"limit": True})["limit"] == 1


@pytest.mark.parametrize("limit", [0, -1, 0.5, "abc", "", float("nan"), float("inf")])
def test_parse_list_options_limit_must_be_positive(limit):
    with pytest.raises(TypeError) as e:
        parse_list_options({"limit": limit})
    assert str(e.value) == "List limit must be positive."


def test_parse_list_options_start_and_start_after():
    with pytest.raises(TypeError) as e:
        parse_list_options({"start": "a", "startAfter": "a"})
    assert str(e.value) == "list() cannot be called with both start and startAfter values."


@pytest.mark.parametrize("bad", ["prefix", 5])  # an array is an object to WebIDL: see test_webidl_arguments
def test_parse_list_options_non_dict(bad):
    with pytest.raises(TypeError) as e:
        parse_list_options(bad)
    assert str(e.value) == (
        "Failed to execute 'list' on 'DurableObjectStorage': parameter 1 is not of type 'ListOptions'."
    )


def test_parse_list_options_feeds_list(oracle_kv):
    opts = parse_list_options({"prefix": "a", "start": "ab"})
    assert keys(oracle_kv.list(**opts)) == ["ab"]


# --- property-style: list() against a brute-force model ---------------------------------------

ALPHABET = ["a", "b", "c", "é", "\uffff", "😀", "\0"]


def model_list(model, start=None, start_after=None, end=None, prefix=None, reverse=False, limit=None):
    ks = sorted(model, key=lambda k: k.encode())  # UTF-8 byte order by definition
    ks = [
        k
        for k in ks
        if (start is None or k.encode() >= start.encode())
        and (start_after is None or k.encode() > start_after.encode())
        and (end is None or k.encode() < end.encode())
        and (prefix is None or k.startswith(prefix))
    ]
    if reverse:
        ks.reverse()
    if limit is not None:
        ks = ks[:limit]
    return [(k, model[k]) for k in ks]


def random_key(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 3)))


def test_list_matches_brute_force_model():
    rng = random.Random(20261126)
    for _round in range(60):
        db = SharedDb()
        kv = KvStore(db, "NS", "prop")
        model: dict[str, bytes] = {}
        committed: dict[str, bytes] = {}
        for _step in range(60):
            op = rng.random()
            k = random_key(rng)
            if op < 0.45:
                v = str(rng.random()).encode()
                kv.put(k, v)
                model[k] = v
            elif op < 0.65:
                assert kv.delete(k) is (k in model)
                model.pop(k, None)
            elif op < 0.7:
                ks = [random_key(rng) for _ in range(3)]
                assert kv.delete_many(ks) == len(set(ks) & model.keys())
                for x in ks:
                    model.pop(x, None)
            elif op < 0.72:
                kv.delete_all()
                model.clear()
            elif op < 0.8:
                kv.commit()
                committed = dict(model)
            elif op < 0.83:
                kv.discard()
                model = dict(committed)
            opts: dict = {}
            for name in ("start", "start_after", "end", "prefix"):
                if rng.random() < 0.3:
                    # Often an existing key, so bounds land exactly on keys and on each other.
                    opts[name] = rng.choice(list(model)) if model and rng.random() < 0.5 else random_key(rng)
            if "start" in opts and "start_after" in opts:
                del opts["start_after"]
            if rng.random() < 0.5:
                opts["reverse"] = True
            if rng.random() < 0.5:
                opts["limit"] = rng.randint(1, 6)
            assert kv.list(**opts) == model_list(model, **opts), opts
            probe = random_key(rng)
            assert kv.get(probe) == model.get(probe)
            assert kv.get_many([probe, k]) == sorted((x, model[x]) for x in {probe, k} if x in model)
        db.close()
