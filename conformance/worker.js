// Conformance twin, JavaScript side: runs in Cloudflare's workerd.
//
// Every scenario in conformance/scenarios.py has a twin here. The Python side drives the
// emulator; this side drives real Durable Objects, and both return the same JSON-able result
// (see "Encoding" in conformance/README.md), which conformance/run.py compares exactly.
// A scenario that is one TestDO method (scenarios.py's `R` rows) is called through /rpc/: the
// method is its twin. The others are drivers in SCENARIOS below.
//
// Routes (127.0.0.1 only; run.py starts workerd with --socket-addr http=127.0.0.1:0):
//   GET /sc/<scenario>[?step=...]  run one scenario (or one step of a multi-step one), JSON out
//   GET /rpc/<object>/<method>     call TestDO's <method> on the object named <object>, JSON out
//   GET /count/<name>              bench: the DO's fetch handler increments a counter
//   GET /noop                      "ok" (readiness check; the SELF fetch in the gate scenario)
//
// The DO methods have the same (snake_case) names as their Python twins in scenarios.py.

import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ encoding (Python's view)
//
// A value is encoded as a Python program on the platform would see it: null and undefined are
// None (null); booleans and strings are themselves; numbers are {num: x} ("NaN", "Infinity",
// "-Infinity", "-0" as strings); BigInt {bigint: "..."}; ArrayBuffer {bytes: [...]}; Date
// {date: ms}; arrays are lists; plain objects and Maps are {obj: [[key, value], ...]} in their
// iteration order (JS property order matters); Sets {set: [...]} sorted by their JSON text.

function enc(v) {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case "boolean":
    case "string":
      return v;
    case "number":
      if (Number.isNaN(v)) return { num: "NaN" };
      if (v === Infinity) return { num: "Infinity" };
      if (v === -Infinity) return { num: "-Infinity" };
      if (Object.is(v, -0)) return { num: "-0" };
      return { num: v };
    case "bigint":
      return { bigint: v.toString() };
    case "function":
      return { other: "function" };
    case "symbol":
      return { other: "symbol" };
  }
  if (v instanceof Date) return { date: v.getTime() };
  if (v instanceof ArrayBuffer) return { bytes: [...new Uint8Array(v)] };
  if (ArrayBuffer.isView(v)) return { bytes: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] };
  if (Array.isArray(v)) return v.map(enc);
  if (v instanceof Map) return { obj: [...v].map(([k, x]) => [typeof k === "string" ? k : enc(k), enc(x)]) };
  if (v instanceof Set) {
    const items = [...v].map(enc);
    items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
    return { set: items };
  }
  if (v instanceof Error) return { error: errOf(v) };
  return { obj: Object.entries(v).map(([k, x]) => [k, enc(x)]) };
}

function errOf(e) {
  if (e === null || typeof e !== "object") return { type: typeof e, message: String(e) };
  return { type: e.name, message: e.message };
}

// An error as a caller across a stub sees it, with the platform's flags.
function errFlags(e) {
  const out = errOf(e);
  out.remote = !!(e && e.remote);
  out.durableObjectReset = !!(e && e.durableObjectReset);
  return out;
}

// {ok: fn()'s value, encoded} or {err: errFn(the exception)}: errors are results.
async function cap(fn, errFn = errOf) {
  try {
    return { ok: enc(await fn()) };
  } catch (e) {
    return { err: errFn(e) };
  }
}

// The keys storage.list(options) gives, or the error it throws, as cap records them.
const listed = (storage, options) => cap(async () => keysOf(await storage.list(options)));

function capS(fn) {
  try {
    return { ok: enc(fn()) };
  } catch (e) {
    return { err: errOf(e) };
  }
}

const pairs = (m) => [...m].map(([k, v]) => [k, enc(v)]);
const keysOf = (m) => [...m.keys()];

function json(obj, status = 200) {
  return new Response(JSON.stringify(obj), { status, headers: { "content-type": "application/json" } });
}

// Keys in a scrambled order; list() must return them in UTF-8 byte order.
const ORDER_KEYS = ["b", "a", "B", "A", "aa", "a\u0000", "ab", "10", "9", "2", "é", "e", "z", "\u00ff",
  "\u{1F600}", "\uFFFF", " ", "a/b", "a:b", "a.b", "_x", "~"];

// ------------------------------------------------------------------ the Durable Objects

export class TestDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.rand = crypto.randomUUID(); // changes whenever the constructor runs again
    this.log = [];
    this.field = null;
  }

  // ----- bench and helpers
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/increment") return new Response(String(await this.increment()));
    if (url.pathname === "/bcw-throw") {
      await this.bcw_throw();
      return new Response("unreachable");
    }
    if (url.pathname === "/not-a-response") return "just a string";
    if (url.pathname === "/echo-url") return new Response(request.url);
    return new Response("not found", { status: 404 });
  }
  async increment() {
    const s = this.ctx.storage;
    const n = ((await s.get("n")) ?? 0) + 1;
    await s.put("n", n);
    return n;
  }
  async who() {
    return { id: this.ctx.id.toString(), name: this.ctx.id.name ?? null };
  }
  async rand_of() {
    return this.rand;
  }
  async put_value(key, value) {
    await this.ctx.storage.put(key, value);
  }
  async get_value(key) {
    return enc(await this.ctx.storage.get(key));
  }
  async throw_python_error() {
    // What Pyodide throws for a Python exception that leaves Python: a PythonError whose message
    // is the formatted traceback (the frames are Pyodide's and the SDK's; the last line is the
    // exception's).
    const error = new Error('Traceback (most recent call last):\n  File "worker.py", line 1, in throw_python_error\n' +
                            'ValueError: amount must be positive\n');
    error.name = "PythonError";
    throw error;
  }
  async throw_error() {
    throw new Error("handler boom");
  }

  // ----- list order and options
  async fill(keys) {
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.put(Object.fromEntries(keys.map((k, i) => [k, i])));
  }
  async list_order() {
    const s = this.ctx.storage;
    await this.fill(ORDER_KEYS);
    return { keys: keysOf(await s.list()), reverse: keysOf(await s.list({ reverse: true })) };
  }
  async list_options() {
    const s = this.ctx.storage;
    await this.fill(ORDER_KEYS);
    const L = (o) => listed(s, o);
    return {
      limit3: await L({ limit: 3 }),
      reverse_limit3: await L({ reverse: true, limit: 3 }),
      prefix_a: await L({ prefix: "a" }),
      prefix_a_reverse_limit2: await L({ prefix: "a", reverse: true, limit: 2 }),
      start_b_end_z: await L({ start: "b", end: "z" }),
      start_after_a_limit4: await L({ startAfter: "a", limit: 4 }),
      start_after_a_end_b_reverse: await L({ startAfter: "a", end: "b", reverse: true }),
      end_before_start: await L({ start: "z", end: "a" }),
      end_equals_start: await L({ start: "b", end: "b" }),
      prefix_and_start: await L({ prefix: "a", start: "ab" }),
      prefix_and_end: await L({ prefix: "a", end: "a/" }),
      prefix_empty: await L({ prefix: "", limit: 2 }),
      prefix_no_match: await L({ prefix: "q" }),
      limit_float: await L({ limit: 2.7 }),
      limit_string: await L({ limit: "2" }),
      limit_true: await L({ limit: true }),
      limit_big: await L({ limit: 1000 }),
      allow_concurrency: await L({ allowConcurrency: true, limit: 2 }),
      no_cache: await L({ noCache: true, limit: 2 }),
      unknown_option: await L({ bogus: 1, limit: 1 }),
      values: await cap(async () => [...(await s.list({ prefix: "a", limit: 3 }))]),
    };
  }
  async list_errors() {
    const s = this.ctx.storage;
    await this.fill(["a", "b"]);
    const L = (o) => listed(s, o);
    return {
      limit0: await L({ limit: 0 }),
      limit_neg: await L({ limit: -1 }),
      limit_nan_string: await L({ limit: "abc" }),
      start_and_start_after: await L({ start: "a", startAfter: "a" }),
      not_options: await L("prefix"),
    };
  }
  async list_scenario13() {
    const s = this.ctx.storage;
    await this.fill(["a", "b", "c", "d"]);
    const L = (o) => listed(s, o);
    return {
      start_after_a_end_d: await L({ startAfter: "a", end: "d" }),
      reverse_limit1: await L({ reverse: true, limit: 1 }),
      prefix_b: await L({ prefix: "b" }),
      start_a_start_after_a: await L({ start: "a", startAfter: "a" }),
      limit0: await L({ limit: 0 }),
    };
  }
  async list_prefix_unicode() {
    const s = this.ctx.storage;
    await this.fill(["\uFFFF", "\uFFFFa", "\u{1F600}", "\u{1F600}a", "\uFFFE", "é", "e", "\u{10FFFF}"]);
    const L = (o) => listed(s, o);
    return {
      all: await L(),
      prefix_ffff: await L({ prefix: "\uFFFF" }),
      prefix_emoji: await L({ prefix: "\u{1F600}" }),
      start_ffff: await L({ start: "\uFFFF" }),
      end_emoji: await L({ end: "\u{1F600}" }),
      start_after_emoji_reverse: await L({ startAfter: "\u{1F600}", reverse: true }),
    };
  }

  // ----- values
  async roundtrip(vals) {
    const s = this.ctx.storage;
    const out = {};
    for (const [k, v] of Object.entries(vals)) {
      await s.put("v:" + k, v);
      out[k] = enc(await s.get("v:" + k));
    }
    return out;
  }
  async values_primitives() {
    return this.roundtrip({
      nul: null, t: true, f: false, int: 7, neg: -5, zero: 0, int32_max: 2147483647, over_int32: 2147483648,
      safe_max: 9007199254740991, float: 42.5, tiny: 1e-300, huge: 1e300, empty_str: "", str: "hello",
      unicode: "h\u00e9llo \u{1F600} \uFFFF", nul_char: "a\u0000b",
    });
  }
  async values_special_floats() {
    return this.roundtrip({ neg_zero: -0, nan: NaN, inf: Infinity, neg_inf: -Infinity, in_list: [-0, NaN, Infinity] });
  }
  async values_bytes() {
    const ab = (arr) => new Uint8Array(arr).buffer;
    return this.roundtrip({
      small: ab([1, 2, 255]), empty: ab([]), all_bytes: ab([...Array(256).keys()]), nested: { b: ab([0]) },
      in_list: [ab([7]), ab([8, 9])],
    });
  }
  async values_containers() {
    let deep = "bottom";
    for (let i = 0; i < 30; i++) deep = [deep];
    return this.roundtrip({
      list: [1, "x", null, [2]], dict: { a: 1, nested: { b: [1, 2] } }, empty_list: [], empty_dict: {},
      key_order: { b: 1, 2: 2, a: 3, 1: 4 }, deep, mixed: [{ k: [{ j: true }] }, []],
    });
  }
  async values_bigint_date_set() {
    return this.roundtrip({
      bigint: 12345678901234567890n, neg_bigint: -12345678901234567890n, date: new Date(1700000000000),
      date_ms: new Date(1700000000123), set: new Set([1, "a"]), empty_set: new Set(),
    });
  }
  async values_not_cloneable() {
    const s = this.ctx.storage;
    const t = (r) => (r.err ? { err_type: r.err.type } : r);
    return {
      put_a: t(await cap(() => s.put("nc", () => 1))),
      put_b: t(await cap(() => s.put("nc", Symbol("x")))),
      nested: t(await cap(() => s.put("nc", { f: () => 1 }))),
      stored: enc(await s.get("nc")),
    };
  }

  // ----- put / get / delete
  async get_many() {
    const s = this.ctx.storage;
    await this.fill(["x", "y", "z"]);
    return {
      some_missing: pairs(await s.get(["z", "missing", "x"])),
      empty: pairs(await s.get([])),
      duplicates: pairs(await s.get(["y", "y"])),
      all_missing: pairs(await s.get(["q"])),
    };
  }
  async put_get_delete_returns() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const r = {};
    r.put = enc(await s.put("a", 1));
    r.put_many = enc(await s.put({ b: 2, c: 3 }));
    r.put_with_options = enc(await s.put("d", 4, { allowUnconfirmed: true, noCache: true }));
    r.get_missing = enc(await s.get("nope"));
    r.delete_existing = enc(await s.delete("a"));
    r.delete_missing = enc(await s.delete("a"));
    r.delete_many = enc(await s.delete(["b", "c", "nope"]));
    r.delete_many_empty = enc(await s.delete([]));
    r.delete_all = enc(await s.deleteAll());
    r.after = keysOf(await s.list());
    return r;
  }
  async put_errors() {
    const s = this.ctx.storage;
    await s.deleteAll();
    return {
      put_undefined_value: await cap(() => s.put("k", undefined)),
      put_no_args: await cap(() => s.put()),
      put_entries_then_value: await cap(() => s.put({ a: 1 }, "x")),
      get_no_args: await cap(() => s.get()),
      delete_no_args: await cap(() => s.delete()),
      stored: keysOf(await s.list()),
    };
  }
  async key_coercion() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put(5, "five");
    await s.put(1.5, "one and a half");
    await s.put(true, "yes");
    await s.put("", "empty key");
    return {
      get_str: enc(await s.get("5")),
      get_num: enc(await s.get(5)),
      get_float: enc(await s.get("1.5")),
      get_bool: enc(await s.get("true")),
      get_empty: enc(await s.get("")),
      keys: keysOf(await s.list()),
    };
  }
  async read_your_writes() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const r = {};
    s.put("ryw", 1);
    r.after_put = enc(await s.get("ryw"));
    s.delete("ryw");
    r.after_delete = enc(await s.get("ryw"));
    await s.put("z", 1);
    s.deleteAll();
    r.after_delete_all = enc(await s.get("z"));
    s.put({ m1: 1, m2: 2 });
    r.after_put_many = pairs(await s.list());
    return r;
  }
  async sqlite_no_legacy_limits() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const many = (n, p) => Object.fromEntries([...Array(n).keys()].map((i) => [p + i, i]));
    return {
      key_2049: await cap(() => s.put("k".repeat(2049), 1)),
      get_key_2049: await cap(() => s.get("k".repeat(2049))),
      value_200k: await cap(() => s.put("v", "x".repeat(200 * 1024))),
      value_200k_len: (await s.get("v")).length,
      put_129: await cap(() => s.put(many(129, "m"))),
      get_129: await cap(async () => (await s.get(Object.keys(many(129, "m")))).size),
      delete_129: await cap(() => s.delete(Object.keys(many(129, "m")))),
      value_1_9mb: await cap(() => s.put("big", "x".repeat(1_900_000))),
    };
  }
  async sqlite_value_over_2mb() {
    const s = this.ctx.storage;
    await s.deleteAll();
    return {
      value_2_1mb: await cap(() => s.put("big", "x".repeat(2_100_000))),
      value_3mib: await cap(() => s.put("big", "x".repeat(3 * 1024 * 1024))),
    };
  }

  // ----- transactions
  async txn_throw_rollback() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put({ x: 1, y: 1 });
    this.field = "set before";
    const r = {};
    r.caught = await cap(() =>
      s.transaction(async (txn) => {
        await txn.put("x", 2);
        await txn.delete("y");
        await txn.put("z", 3);
        r.inside = pairs(await txn.get(["x", "y", "z"]));
        throw new Error("boom");
      }));
    r.after = pairs(await s.get(["x", "y", "z"]));
    r.field = this.field;
    return r;
  }
  async txn_explicit_rollback() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("t", 3);
    const r = {};
    r.result = await cap(() =>
      s.transaction(async (txn) => {
        await txn.put("t", 4);
        txn.rollback();
        r.put_after = await cap(() => txn.put("t", 5));
        r.get_after = await cap(() => txn.get("t"));
        r.delete_after = await cap(() => txn.delete("t"));
        r.rollback_again = capS(() => txn.rollback());
        return "returned after rollback";
      }));
    r.t = enc(await s.get("t"));
    return r;
  }
  async txn_commit() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put({ x: 1, y: 1 });
    const r = {};
    r.result = await cap(() =>
      s.transaction(async (txn) => {
        await txn.put("x", 10);
        await txn.put("w", 0);
        return {
          inside: await txn.get("x"),
          outside_view: await s.get("x"),
          list_inside: keysOf(await txn.list()),
        };
      }));
    r.after = pairs(await s.list());
    return r;
  }
  async txn_nested() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("t", 3);
    const r = {};
    r.outer = await cap(() =>
      s.transaction(async (txn) => {
        await txn.put("t", 6);
        r.inner = await cap(() =>
          s.transaction(async (txn2) => {
            await txn2.put("t", 7);
            await sleep(5);
            return "inner committed";
          }));
        r.seen_in_outer = enc(await txn.get("t"));
        txn.rollback();
        return "outer rolled back";
      }));
    r.t = enc(await s.get("t"));
    r.nested_ok = await cap(() => s.transaction(async () => s.transaction(async (t2) => {
      await t2.put("n", 1);
      return "nested ok";
    })));
    r.n = enc(await s.get("n"));
    return r;
  }
  async txn_after_commit() {
    const s = this.ctx.storage;
    await s.deleteAll();
    let saved = null;
    await s.transaction(async (txn) => {
      saved = txn;
      await txn.put("k", 1);
    });
    return {
      put: await cap(() => saved.put("k", 2)),
      get: await cap(() => saved.get("k")),
      k: enc(await s.get("k")),
    };
  }
  async txn_delete_all_inside() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("k", 1);
    const r = {};
    r.result = await cap(() =>
      s.transaction(async (txn) => {
        r.txn_delete_all = await cap(() => txn.deleteAll());
        r.storage_delete_all = await cap(() => s.deleteAll());
        return "done";
      }));
    r.k = enc(await s.get("k"));
    return r;
  }
  async txn_sync_savepoints() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("i", 1);
    const r = {};
    r.outer = capS(() => s.transactionSync(() => {
      s.put("i", 2);
      r.inner = capS(() => s.transactionSync(() => {
        s.put("i", 3);
        s.put("j", 3);
        throw new Error("inner boom");
      }));
      return "outer ok";
    }));
    r.after = pairs(await s.get(["i", "j"]));
    r.outer_throw = capS(() => s.transactionSync(() => {
      s.put("i", 9);
      throw new Error("outer boom");
    }));
    r.after_outer_throw = enc(await s.get("i"));
    return r;
  }
  async txn_sync_return_throw() {
    const s = this.ctx.storage;
    return {
      number: capS(() => s.transactionSync(() => 5)),
      none: capS(() => s.transactionSync(() => null)),
      list: capS(() => s.transactionSync(() => [1, "a"])),
      type_error: capS(() => s.transactionSync(() => {
        throw new TypeError("bad type");
      })),
    };
  }
  async txn_sync_rollback_alarm() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const r = {};
    r.result = capS(() => s.transactionSync(() => {
      s.setAlarm(Date.now() + 60000);
      throw new Error("bar");
    }));
    r.alarm = enc(await s.getAlarm());
    return r;
  }

  // ----- input gate
  async reset_ctr() {
    await this.ctx.storage.delete("ctr");
  }
  async read_ctr() {
    return enc(await this.ctx.storage.get("ctr"));
  }
  async incr(mode) {
    const s = this.ctx.storage;
    const v = (await s.get("ctr")) ?? 0;
    if (mode === "timer") await sleep(10);
    if (mode === "fetch") await (await this.env.SELF.fetch("http://self/noop")).text();
    if (mode === "rpc") await this.env.OTHER.getByName("peer").ping();
    await s.put("ctr", v + 1);
    return v + 1;
  }
  async incr_bcw(mode) {
    return this.ctx.blockConcurrencyWhile(() => this.incr(mode));
  }
  async ping() {
    await sleep(5);
    return "pong";
  }

  // ----- blockConcurrencyWhile
  async reset_log() {
    this.log = [];
  }
  async bcw_a(useBcw, ms) {
    this.log.push("A:start");
    if (useBcw) {
      const res = await this.ctx.blockConcurrencyWhile(async () => {
        this.log.push("A:bcw-enter");
        await sleep(ms);
        this.log.push("A:bcw-exit");
        return "bcw-return-value";
      });
      this.log.push("A:after-bcw:" + res);
    } else {
      await sleep(ms);
      this.log.push("A:after-sleep");
    }
    return [...this.log];
  }
  async bcw_b() {
    this.log.push("B:run");
    return [...this.log];
  }
  async bcw_values() {
    const bcw = (cb) => this.ctx.blockConcurrencyWhile(cb);
    return {
      async_value: enc(await bcw(async () => {
        await sleep(5);
        return "v";
      })),
      sync_value: enc(await bcw(() => 42)),
      none_value: enc(await bcw(async () => {})),
      nested: enc(await bcw(async () => bcw(async () => "inner"))),
      storage_inside: enc(await bcw(async () => {
        await this.ctx.storage.put("b", 1);
        return this.ctx.storage.get("b");
      })),
    };
  }
  async bcw_throw() {
    await this.ctx.blockConcurrencyWhile(async () => {
      throw new Error("bcw boom");
    });
    return "unreachable";
  }

  async bcw_throw_after_write() {
    this.ctx.storage.put("before-bcw", 1);  // not awaited: is it committed before the reset?
    await this.ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.put("inside-bcw", 1);
      throw new Error("bcw boom");
    });
    return "unreachable";
  }

  // ----- alarms
  async alarm(info) {
    const s = this.ctx.storage;
    const cfg = (await s.get("alarm_cfg")) ?? { fail: 0, mode: "log" };
    const log = (await s.get("alarm_log")) ?? [];
    const st = info && info.scheduledTime;
    log.push({
      now: Date.now(),
      retryCount: info ? info.retryCount : null,
      isRetry: info ? info.isRetry : null,
      scheduledTime: st instanceof Date ? st.getTime() : st ?? null,
      getAlarm: await s.getAlarm(),
      rand: this.rand,
    });
    await s.put("alarm_log", log);
    if (cfg.mode === "delete_set_delete") {
      await s.deleteAlarm();
      await s.setAlarm(Date.now() + 50);
      await s.deleteAlarm();
    }
    if (cfg.mode === "rearm" && log.length === 1) {
      const next = Date.now() + 600000;
      await s.setAlarm(next);
      await s.put("rearmed_to", next);
      await s.put("get_after_rearm", await s.getAlarm());
    }
    // conf-a: deleteAlarm() / setAlarm() inside a run that then fails
    if (cfg.mode === "delete_then_fail" && log.length === 1) await s.deleteAlarm();
    if (cfg.mode === "set_then_fail" && log.length === 1) {
      const next = Date.now() + 600000;
      await s.setAlarm(next);
      await s.put("rearmed_to", next);
      await s.put("get_after_rearm", await s.getAlarm());
    }
    if (log.length <= cfg.fail) throw new Error("alarm failure #" + log.length);
  }
  async alarm_setup(fail, delayMs, mode) {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.deleteAlarm();
    const when = Date.now() + delayMs;
    await s.put("alarm_cfg", { fail, mode, when });
    await s.setAlarm(when);
    return { when, get_equals_set: (await s.getAlarm()) === when };
  }
  async alarm_report() {
    const s = this.ctx.storage;
    return {
      cfg: (await s.get("alarm_cfg")) ?? null,
      log: (await s.get("alarm_log")) ?? [],
      get_alarm: await s.getAlarm(),
      rearmed_to: (await s.get("rearmed_to")) ?? null,
      get_after_rearm: (await s.get("get_after_rearm")) ?? null,
    };
  }
  async alarm_get_set() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const r = {};
    r.none = enc(await s.getAlarm());
    const t = Date.now() + 3600e3;
    r.set_returns = enc(await s.setAlarm(t));
    r.get_equals = (await s.getAlarm()) === t;
    r.get_type = typeof (await s.getAlarm());
    const d = Math.floor(Date.now() / 1000) * 1000 + 7200e3;
    await s.setAlarm(new Date(d));
    r.date_equals = (await s.getAlarm()) === d;
    await s.setAlarm(t + 0.7);
    const g = await s.getAlarm();
    r.float_truncated = g === t;
    r.float_is_int = Number.isInteger(g);
    r.delete_returns = enc(await s.deleteAlarm());
    r.delete_again = enc(await s.deleteAlarm());
    r.after_delete = enc(await s.getAlarm());
    return r;
  }
  async alarm_set_errors() {
    const s = this.ctx.storage;
    const t = Date.now() + 3600e3;
    await s.setAlarm(t);
    const r = {
      string: await cap(() => s.setAlarm(String(t))),
      nan: await cap(() => s.setAlarm(NaN)),
      infinity: await cap(() => s.setAlarm(Infinity)),
      null: await cap(() => s.setAlarm(null)),
      no_arg: await cap(() => s.setAlarm()),
      bool: await cap(() => s.setAlarm(true)),
      negative: await cap(() => s.setAlarm(-1)),
      zero: await cap(() => s.setAlarm(0)),
    };
    r.still_set = (await s.getAlarm()) === t;
    await s.deleteAlarm();
    return r;
  }
  async alarm_delete_all() {
    const s = this.ctx.storage;
    await s.setAlarm(Date.now() + 3600e3);
    await s.put("k", 1);
    const r = { delete_all: enc(await s.deleteAll()) };
    r.alarm = enc(await s.getAlarm());
    r.keys = keysOf(await s.list());
    return r;
  }
  async alarm_past_time() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("alarm_cfg", { fail: 0, mode: "log" });
    const past = Date.now() - 60000;
    const r = { set: await cap(() => s.setAlarm(past)) };
    const g = await s.getAlarm();
    r.get_is_past_value = g === past;
    r.get_clamped_to_now = g !== null && Math.abs(g - Date.now()) < 1000;
    await sleep(200);
    const log = (await s.get("alarm_log")) ?? [];
    r.ran_during_sleep = log.map((e) => [e.retryCount, e.scheduledTime === g, e.getAlarm]);
    r.get_after_run = enc(await s.getAlarm());
    return r;
  }

  // ----- SQL
  async sql_cursor() {
    const sql = this.ctx.storage.sql;
    const X = (q, ...b) => capS(() => {
      const c = sql.exec(q, ...b);
      const rows = c.toArray();
      return { rows, columnNames: c.columnNames, rowsRead: c.rowsRead, rowsWritten: c.rowsWritten };
    });
    const ab = (arr) => new Uint8Array(arr).buffer;
    return {
      create: X("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)"),
      insert: X("INSERT INTO t (name, score, data) VALUES (?, ?, ?), (?, ?, ?)", "alice", 1.5, ab([1, 2, 3]), "bob", null, null),
      select: X("SELECT * FROM t ORDER BY id"),
      select_where: X("SELECT name FROM t WHERE id = ?", 2),
      expressions: X("SELECT 1 + 1 AS two, 'a' || 'b' AS ab, 1.5 * 2 AS three, NULL AS n, x'00ff' AS blob, 7 / 2 AS idiv"),
      update: X("UPDATE t SET score = 9 WHERE name IS NOT NULL"),
      delete: X("DELETE FROM t WHERE id = 2"),
      after: X("SELECT id, name, score FROM t"),
      iterate: capS(() => {
        const out = [];
        for (const row of sql.exec("SELECT id, name FROM t")) out.push(row);
        return out;
      }),
      multi_statement: X("INSERT INTO t (name) VALUES ('c'); SELECT id, name FROM t ORDER BY id"),
    };
  }
  async sql_rows_read_aggregate() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS agg (v INTEGER)");
    sql.exec("INSERT INTO agg VALUES (1), (2)");
    const c = sql.exec("SELECT count(*) AS n FROM agg");
    const rows = c.toArray();
    return { rows, rowsRead: c.rowsRead };
  }
  async sql_one() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS o (name TEXT)");
    sql.exec("INSERT INTO o VALUES ('a'), ('b')");
    return {
      one_row: capS(() => sql.exec("SELECT 123 AS foo, 'abc' AS bar").one()),
      where_one: capS(() => sql.exec("SELECT name FROM o WHERE name = ?", "a").one()),
      no_rows: capS(() => sql.exec("SELECT name FROM o WHERE name = ?", "zz").one()),
      multiple_rows: capS(() => sql.exec("SELECT name FROM o").one()),
      union_all: capS(() => sql.exec("SELECT 1 UNION ALL SELECT 2").one()),
    };
  }
  async sql_raw_dup_columns() {
    const sql = this.ctx.storage.sql;
    return {
      raw: capS(() => [...sql.exec("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'").raw()]),
      dup_to_array: capS(() => sql.exec("SELECT 1 AS a, 2 AS a").toArray()),
      dup_raw: capS(() => [...sql.exec("SELECT 1 AS a, 2 AS a").raw()]),
      dup_column_names: capS(() => sql.exec("SELECT 1 AS a, 2 AS a").columnNames),
      no_alias_names: capS(() => sql.exec("SELECT 1, 'x', 1 + 2").columnNames),
    };
  }
  async sql_errors() {
    const sql = this.ctx.storage.sql;
    await this.ctx.storage.put("kvkey", "kvval");
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      begin: X("BEGIN TRANSACTION"),
      savepoint: X("SAVEPOINT sp1"),
      read_cf_kv: X("SELECT * FROM _cf_KV"),
      read_cf_kv_value: X("SELECT value FROM _cf_KV"),
      create_cf_table: X("CREATE TABLE _cf_mine (x)"),
      sqlite_version: X("SELECT sqlite_version() AS v"),
      pragma_journal: X("PRAGMA journal_mode"),
      attach: X("ATTACH DATABASE 'x.db' AS x"),
      too_few_bindings: X("SELECT ?, ?", 1),
      too_many_bindings: X("SELECT ?", 1, 2),
      syntax: X("SELEC nonsense"),
      missing_table: X("SELECT * FROM nope"),
      empty: X(""),
      comment_only: X("-- nothing"),
    };
  }
  async sql_bindings() {
    const sql = this.ctx.storage.sql;
    const B = (v) => capS(() => {
      const row = sql.exec("SELECT ? AS v, typeof(?) AS t", v, v).one();
      return [row.v, row.t];
    });
    return {
      bool_true: B(true),
      bool_false: B(false),
      none: B(null),
      int: B(42),
      float: B(2.5),
      str: B("hé"),
      bytes: B(new Uint8Array([0, 1]).buffer),
      int_division: capS(() => sql.exec("SELECT ? / 2 AS v", 7).one().v),
    };
  }
  async sql_txn_sync() {
    const s = this.ctx.storage;
    const sql = s.sql;
    const tableCount = () => sql.exec("SELECT count(*) AS c FROM sqlite_master WHERE name = 't_sync'").one().c;
    const r = {};
    r.throw = capS(() => s.transactionSync(() => {
      sql.exec("CREATE TABLE t_sync (v INTEGER)");
      sql.exec("INSERT INTO t_sync VALUES (1)");
      throw new Error("sync boom");
    }));
    r.table_after_throw = tableCount();
    r.ok = capS(() => s.transactionSync(() => {
      sql.exec("CREATE TABLE t_sync (v INTEGER)");
      sql.exec("INSERT INTO t_sync VALUES (2)");
      return "ok";
    }));
    r.table_after_ok = tableCount();
    // scenario 7: savepoints
    sql.exec("CREATE TABLE s7 (i INTEGER)");
    sql.exec("INSERT INTO s7 VALUES (1)");
    const i = () => sql.exec("SELECT i FROM s7").one().i;
    r.outer = capS(() => s.transactionSync(() => {
      sql.exec("UPDATE s7 SET i = 2");
      r.inner = capS(() => s.transactionSync(() => {
        sql.exec("UPDATE s7 SET i = 3");
        throw new Error("inner");
      }));
      r.i_after_inner = i();
      return "outer";
    }));
    r.i_after_outer = i();
    return r;
  }
  async sql_delete_all_clears() {
    const s = this.ctx.storage;
    s.sql.exec("CREATE TABLE gone (x)");
    s.sql.exec("INSERT INTO gone VALUES (1)");
    await s.put("k", 1);
    await s.deleteAll();
    return {
      select: capS(() => s.sql.exec("SELECT * FROM gone").toArray()),
      k: enc(await s.get("k")),
    };
  }
  async sql_database_size() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE big (x TEXT)");
    const before = sql.databaseSize;
    for (let i = 0; i < 200; i++) sql.exec("INSERT INTO big VALUES (?)", "x".repeat(1000));
    const after = sql.databaseSize;
    return {
      is_int: Number.isInteger(before),
      positive: before > 0,
      page_multiple: before % 4096 === 0,
      grows: after > before,
      grows_by_at_least_200kb: after - before >= 200000,
    };
  }

  // ----- eviction
  async evict_info(bump) {
    const s = this.ctx.storage;
    if (bump) await s.put("counter", ((await s.get("counter")) ?? 0) + 1);
    return { rand: this.rand, counter: (await s.get("counter")) ?? null };
  }
  // ---- edges: WebIDL coercion and validation of arguments, as a Python Worker passes them
  async edge_list_arguments() {
    const s = this.ctx.storage;
    await this.fill(ORDER_KEYS);
    const L = (o) => listed(s, o);
    return {
      limit_int32_max: await L({ limit: 2147483647 }),
      limit_over_int32: await L({ limit: 2147483648 }),
      limit_negative: await L({ limit: -1 }),
      limit_zero: await L({ limit: 0 }),
      limit_nan: await L({ limit: NaN }),
      limit_text: await L({ limit: "abc" }),
      limit_null: await L({ limit: null, prefix: "a" }),
      options_number: await L(5),
      options_string: await L("x"),
      options_array: await L([]),
      prefix_number: await L({ prefix: 1 }),
      start_number: await L({ start: 2, limit: 2 }),
      reverse_text: await L({ reverse: "yes", limit: 1 }),
    };
  }
  async edge_key_arguments() {
    const s = this.ctx.storage;
    await s.put({ a: 1, b: 2 });
    const many = Array.from({ length: 129 }, (_, i) => "k" + i);
    return {
      get_empty_list: await cap(async () => [...(await s.get([]))]),
      get_duplicates: await cap(async () => [...(await s.get(["b", "a", "b"]))]),
      get_129_keys: await cap(async () => [...(await s.get(many))]),
      get_128_keys: await cap(async () => [...(await s.get(many.slice(0, 128)))]),
      delete_empty_list: await cap(() => s.delete([])),
      delete_some: await cap(() => s.delete(["a", "zz"])),
      delete_129_keys: await cap(() => s.delete(many)),
      put_129_entries: await cap(() => s.put(Object.fromEntries(many.map((k) => [k, 1])))),
      get_number_key: await cap(() => s.get(5)),
      put_number_key: await cap(() => s.put(7, "seven")),
      get_it_as_text: await cap(() => s.get("7")),
      put_null: await cap(() => s.put("u", null)),  // the SDK passes a None argument as null
      left: await cap(async () => [...(await s.list()).keys()]),
    };
  }
  async edge_surrogate_keys() {
    const s = this.ctx.storage;
    for (const [k, v] of [["\uD800", 1], ["a\uDC00b", 2], ["\uFFFF", 3], ["\u{10000}", 4], ["\uE000", 5]]) await s.put(k, v);
    return {
      keys: await listed(s, {}),
      get_lone: await cap(() => s.get("\uD800")),
      prefix_lone: await listed(s, { prefix: "\uD800" }),
      sql_bound: capS(() => s.sql.exec("SELECT ? AS t, hex(?) AS h", "\uD800", "\uD800").toArray()),
    };
  }
  async edge_callbacks() {
    const s = this.ctx.storage;
    this.mark = "kept";
    return {
      bcw_number: await cap(() => this.ctx.blockConcurrencyWhile(5)),
      bcw_nothing: await cap(() => this.ctx.blockConcurrencyWhile()),
      transaction_number: await cap(() => s.transaction(5)),
      transaction_sync_number: capS(() => s.transactionSync(5)),
      transaction_sync_value: capS(() => s.transactionSync(() => 42)),
      mark: this.mark,
      storage_works: await cap(async () => { await s.put("after", 1); return s.get("after"); }),
    };
  }
  async edge_alarm_arguments() {
    const s = this.ctx.storage;
    const far = Date.now() + 86400000;
    const out = {
      text: await cap(() => s.setAlarm("x")),
      nan: await cap(() => s.setAlarm(NaN)),
      infinity: await cap(() => s.setAlarm(Infinity)),
      nothing: await cap(() => s.setAlarm()),
      object: await cap(() => s.setAlarm({})),
      fraction: await cap(() => s.setAlarm(far + 0.75)),
      fraction_read: await cap(async () => (await s.getAlarm()) - far),
    };
    await s.deleteAlarm();
    out.deleted = await cap(() => s.getAlarm());
    return out;
  }
  // ---- edges: WebSockets inside an object
  async edge_websockets() {
    const ctx = this.ctx;
    const pair = () => Object.values(new WebSocketPair());
    const closeWith = (code, reason) => capS(() => {
      const [, server] = pair();
      server.accept();
      server.close(code, reason);
      return "closed";
    });
    const out = {};
    for (const code of [1000, 1001, 1004, 1005, 1006, 1015, 2999, 3000, 4999, 5000]) out["close_" + code] = closeWith(code, "r");
    out.reason_123_bytes = closeWith(1000, "\u00e9".repeat(61) + "a");
    out.reason_124_bytes = closeWith(1000, "\u00e9".repeat(62));
    out.reason_124_ascii = closeWith(1000, "a".repeat(124));
    const tagged = (tag) => capS(() => {
      const [, server] = pair();
      ctx.acceptWebSocket(server, [tag]);
      return ctx.getTags(server).map((t) => t.length);
    });
    out.tag_256_chars = tagged("a".repeat(256));
    out.tag_257_chars = tagged("a".repeat(257));
    out.tag_256_bytes_wide = tagged("\u00e9".repeat(128));
    out.tag_258_bytes_wide = tagged("\u00e9".repeat(129));
    for (const n of ["c", "a", "b"]) {
      const [, server] = pair();
      ctx.acceptWebSocket(server, ["order", n]);
    }
    out.order = capS(() => ctx.getWebSockets("order").map((w) => ctx.getTags(w)[1]));
    const sendOf = (v) => capS(() => {
      const [, server] = pair();
      server.accept();
      server.send(v);
      return "sent";
    });
    out.send_number = sendOf(5);
    out.send_object = sendOf({ a: 1 });
    out.send_bytes = sendOf(new Uint8Array([1, 2]));
    out.send_null = sendOf(null);
    const timeout = (v) => capS(() => {
      ctx.setHibernatableWebSocketEventTimeout(v);
      return ctx.getHibernatableWebSocketEventTimeout();
    });
    out.timeout_5000 = timeout(5000);
    out.timeout_0 = timeout(0);
    out.timeout_negative = timeout(-1);
    out.timeout_week = timeout(604800000);
    out.timeout_over_week = timeout(604800001);
    out.timeout_text = timeout("x");
    out.timeout_null = timeout(null);
    return out;
  }
  // ---- edges: SQL cursor protocol, PRAGMAs, errors, text
  async edge_sql_cursor_end() {
    const sql = this.ctx.storage.sql;
    const two = "SELECT 1 AS a UNION ALL SELECT 2";
    const c1 = sql.exec(two);
    const c2 = sql.exec(two);
    const c3 = sql.exec(two);
    const c4 = sql.exec(two);
    const c5 = sql.exec("SELECT 1 AS a WHERE 0");
    const c6 = sql.exec(two);
    const c7 = sql.exec(two);
    return {
      next_1: capS(() => c1.next()),
      next_2: capS(() => c1.next()),
      next_3: capS(() => c1.next()),
      next_4: capS(() => c1.next()),
      to_array_after_next: capS(() => c1.toArray()),
      to_array_1: capS(() => c2.toArray()),
      to_array_2: capS(() => c2.toArray()),
      rows_read_after: capS(() => c2.rowsRead),
      iterated: capS(() => [...c3]),
      raw_after_iteration: capS(() => [...c3.raw()]),
      names_after_iteration: capS(() => c3.columnNames),
      raw_next_1: capS(() => c4.raw().next()),
      rest_as_objects: capS(() => c4.toArray()),
      raw_next_after: capS(() => c4.raw().next()),
      one_zero: capS(() => c5.one()),
      after_one_zero: capS(() => c5.toArray()),
      one_two: capS(() => c6.one()),
      after_one_two: capS(() => c6.toArray()),
      one_after_next: capS(() => { c7.next(); return c7.one(); }),
      one_of_insert: capS(() => { sql.exec("CREATE TABLE ce (x)"); return sql.exec("INSERT INTO ce VALUES (1)").one(); }),
      dup_names: capS(() => sql.exec("SELECT 1 AS x, 2 AS X, 3 AS x").columnNames),
      dup_names_rows: capS(() => sql.exec("SELECT 1 AS x, 2 AS X, 3 AS x").toArray()),
      star_join_names: capS(() => sql.exec("SELECT * FROM ce AS p, ce AS q").columnNames),
    };
  }
  async edge_sql_pragmas() {
    const sql = this.ctx.storage.sql;
    await this.ctx.storage.put("kv", 1);
    sql.exec("CREATE TABLE pt (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', n REAL)");
    sql.exec("CREATE INDEX pt_name ON pt (name)");
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      table_info: X("PRAGMA table_info(pt)"),
      table_xinfo: X("PRAGMA table_xinfo(pt)"),
      index_list: X("PRAGMA index_list(pt)"),
      index_info: X("PRAGMA index_info(pt_name)"),
      foreign_keys: X("PRAGMA foreign_keys"),
      foreign_keys_on: X("PRAGMA foreign_keys = ON"),
      foreign_keys_after: X("PRAGMA foreign_keys"),
      quick_check: X("PRAGMA quick_check"),
      user_version: X("PRAGMA user_version"),
      page_size: X("PRAGMA page_size"),
      cache_size: X("PRAGMA cache_size"),
      function_list: capS(() => sql.exec("PRAGMA function_list").toArray().length > 0),
      table_info_function: X("SELECT name FROM pragma_table_info('pt') ORDER BY cid"),
    };
  }
  async edge_sql_internal_tables() {
    const sql = this.ctx.storage.sql;
    await this.ctx.storage.put("kv", 1);
    await this.ctx.storage.setAlarm(Date.now() + 3600000);
    sql.exec("CREATE TABLE it (v)");
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      table_list: X("PRAGMA table_list"),
      table_list_kv: X("PRAGMA table_list(_cf_KV)"),
      schema: X("SELECT type, name FROM sqlite_master ORDER BY name"),
    };
  }
  async edge_sql_errors() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE c (id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL, ck INTEGER CHECK (ck > 0))");
    sql.exec("CREATE TABLE ch (p INTEGER REFERENCES c(id))");
    sql.exec("INSERT INTO c VALUES (1, 'a', 'x', 1)");
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      unique: X("INSERT INTO c VALUES (2, 'a', 'x', 1)"),
      primary_key: X("INSERT INTO c VALUES (1, 'b', 'x', 1)"),
      not_null: X("INSERT INTO c VALUES (3, 'c', NULL, 1)"),
      check: X("INSERT INTO c VALUES (4, 'd', 'x', 0)"),
      named_check: X("CREATE TABLE nc (v INTEGER CONSTRAINT positive CHECK (v > 0))"),
      named_check_fails: X("INSERT INTO nc VALUES (-1)"),
      foreign_key_on: X("PRAGMA foreign_keys = ON"),
      foreign_key: X("INSERT INTO ch VALUES (99)"),
      partial_multi_row: X("INSERT INTO c VALUES (5, 'e', 'x', 1), (6, 'a', 'x', 1)"),
      rows_after: X("SELECT id FROM c ORDER BY id"),
      no_column: X("SELECT nosuch FROM c"),
      no_column_later: X("SELECT id,\n  nosuch FROM c"),
      no_function: X("SELECT nofunc(1)"),
      near_token: X("SELECT * FROM c WHERE"),
      unrecognized: X("SELECT 1 2"),
      second_statement: X("SELECT 1; SELECT nosuch FROM c"),
      datatype_mismatch: X("INSERT INTO c VALUES ('x', 'f', 'x', 1)"),
      strict_table: X("CREATE TABLE st (v INTEGER) STRICT"),
      strict_mismatch: X("INSERT INTO st VALUES ('abc')"),
      raise_abort: X("SELECT RAISE(ABORT, 'mine')"),
      division_by_zero: X("SELECT 1 / 0 AS v"),
      bad_json: X("SELECT json('{')"),
    };
  }
  async edge_sql_text() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE tx (v TEXT)");
    sql.exec("INSERT INTO tx VALUES (CAST(x'61ff62' AS TEXT))");
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      cast_ff: X("SELECT CAST(x'ff' AS TEXT) AS t"),
      cast_mid: X("SELECT CAST(x'61ff62' AS TEXT) AS t"),
      cast_truncated: X("SELECT CAST(x'61c3' AS TEXT) AS t"),
      cast_surrogate: X("SELECT CAST(x'eda080' AS TEXT) AS t"),
      cast_nul: X("SELECT CAST(x'610062' AS TEXT) AS t"),
      length: X("SELECT length(CAST(x'61ff62' AS TEXT)) AS n"),
      stored: X("SELECT v, typeof(v) AS t, hex(v) AS h FROM tx"),
      bound_nul: X("SELECT ? AS t, length(?) AS n", "a\u0000b", "a\u0000b"),
      emoji_length: X("SELECT length(?) AS n, hex(?) AS h", "\u{1F600}", "\u{1F600}"),
    };
  }
  async edge_sql_new_functions() {
    const sql = this.ctx.storage.sql;
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      unhex: X("SELECT unhex('6869') AS v"),
      concat: X("SELECT concat('a', NULL, 1) AS v"),
      concat_ws: X("SELECT concat_ws('-', 'a', 'b') AS v"),
      string_agg: X("SELECT string_agg(x, ',') AS v FROM (SELECT 'a' AS x UNION ALL SELECT 'b')"),
      subsec: X("SELECT typeof(unixepoch('now', 'subsec')) AS v"),
      jsonb: X("SELECT typeof(jsonb('[1]')) AS v"),
      octet_length: X("SELECT octet_length('é') AS v"),
    };
  }
  // ---- section: sqlite ----
  // SQL parity (issue 18 item 5): the SQLite version's functions, row counts with indexes,
  // databaseSize, the PRAGMA and function allow-lists, error codes and offsets, the cursor
  // protocol, bindings and results. Python twins in scenarios.py's section of the same name.
  _sqlCounts(q, ...b) {
    const sql = this.ctx.storage.sql;
    return capS(() => {
      const c = sql.exec(q, ...b);
      const rows = c.toArray();
      return { rows, rowsRead: c.rowsRead, rowsWritten: c.rowsWritten };
    });
  }
  async sqlp_functions_3_54() {
    const sql = this.ctx.storage.sql;
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      subsec: X("SELECT unixepoch('2026-01-01 00:00:00.250', 'subsec') AS v"),
      timediff: X("SELECT timediff('2026-03-01', '2026-01-01') AS v"),
      format: X("SELECT format('%d-%s-%.2f', 7, 'x', 2.5) AS v"),
      iif2: X("SELECT iif(0, 'yes') AS v"),
      concat_ws_null: X("SELECT concat_ws(',', 'a', NULL, 'b') AS v"),
      string_agg_order: X("SELECT string_agg(v, '+' ORDER BY v DESC) AS v FROM (SELECT 'a' AS v UNION ALL SELECT 'b')"),
      jsonb_roundtrip: X("SELECT json(jsonb('{\"a\":[1,2]}')) AS v"),
      jsonb_extract: X("SELECT jsonb_extract(jsonb('{\"a\":5}'), '$.a') AS v"),
      json_pretty: X("SELECT json_pretty('[1]') AS v"),
      real_text: X("SELECT CAST(9007199254740991.0 AS TEXT) AS v, CAST(0.1 AS TEXT) AS w"),
      octet_length: X("SELECT octet_length('日本') AS v"),
      unhex_bad: X("SELECT unhex('zz') IS NULL AS v"),
    };
  }
  async sqlp_counts_insert_indexes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE ci (id INTEGER PRIMARY KEY, a TEXT, b TEXT UNIQUE, c INTEGER)");
    sql.exec("CREATE INDEX ci_a ON ci (a)");
    sql.exec("CREATE INDEX ci_ac ON ci (a, c)");
    return {
      one: this._sqlCounts("INSERT INTO ci (a, b, c) VALUES ('x', 'b1', 1)"),
      three: this._sqlCounts("INSERT INTO ci (a, b, c) VALUES ('y', 'b2', 2), ('z', 'b3', 3), ('x', 'b4', 4)"),
      plain_table: this._sqlCounts("CREATE TABLE cp (v); INSERT INTO cp VALUES (1), (2)"),
    };
  }
  async sqlp_counts_update_indexes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE cu (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER)");
    sql.exec("CREATE INDEX cu_a ON cu (a)");
    sql.exec("INSERT INTO cu (a, b, c) VALUES ('x', 'p', 1), ('y', 'q', 2), ('z', 'r', 3)");
    return {
      unindexed_by_id: this._sqlCounts("UPDATE cu SET b = 'n' WHERE id = 2"),
      indexed_by_id: this._sqlCounts("UPDATE cu SET a = 'w' WHERE id = 2"),
      unindexed_all: this._sqlCounts("UPDATE cu SET c = c + 1"),
      indexed_all: this._sqlCounts("UPDATE cu SET a = a || '!'"),
    };
  }
  async sqlp_counts_delete_indexes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE cd (id INTEGER PRIMARY KEY, a TEXT, b TEXT UNIQUE)");
    sql.exec("CREATE INDEX cd_a ON cd (a)");
    sql.exec("INSERT INTO cd (a, b) VALUES ('x', '1'), ('y', '2'), ('z', '3'), ('w', '4')");
    return {
      by_id: this._sqlCounts("DELETE FROM cd WHERE id = 1"),
      all: this._sqlCounts("DELETE FROM cd"),
    };
  }
  async sqlp_counts_reads() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE cr (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)");
    sql.exec("CREATE INDEX cr_a ON cr (a)");
    sql.exec("CREATE TABLE ce (v)");
    sql.exec("INSERT INTO cr (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5)");
    return {
      empty_table: this._sqlCounts("SELECT * FROM ce"),
      full_scan: this._sqlCounts("SELECT * FROM cr"),
      scan_filter: this._sqlCounts("SELECT id FROM cr WHERE n = 3"),
      by_rowid: this._sqlCounts("SELECT n FROM cr WHERE id = 4"),
      count: this._sqlCounts("SELECT count(*) AS c FROM cr"),
      max: this._sqlCounts("SELECT max(n) AS m FROM cr"),
      order_by: this._sqlCounts("SELECT n FROM cr ORDER BY n DESC"),
      where_order_by: this._sqlCounts("SELECT n FROM cr WHERE n > 1 ORDER BY n DESC"),
      count_empty: this._sqlCounts("SELECT count(*) AS c FROM ce"),
      no_from: this._sqlCounts("SELECT 1 AS one"),
      by_rowid_miss: this._sqlCounts("SELECT n FROM cr WHERE id = 99"),
      update_miss: this._sqlCounts("UPDATE cr SET n = 0 WHERE id = 99"),
      insert_explicit_ids: this._sqlCounts("INSERT INTO cr (id, a, n) VALUES (100, 'q', 0), (101, 'r', 1)"),
    };
  }
  async sqlp_database_size_growth() {
    const sql = this.ctx.storage.sql;
    const sizes = { start: sql.databaseSize };
    sql.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)");
    sizes.table = sql.databaseSize;
    for (let i = 0; i < 40; i++) sql.exec("INSERT INTO big (body) VALUES (?)", "x".repeat(1000));
    sizes.rows = sql.databaseSize;
    sql.exec("CREATE INDEX big_body ON big (body)");
    sizes.index = sql.databaseSize;
    sql.exec("DELETE FROM big WHERE id > 20");
    sizes.deleted = sql.databaseSize;
    await this.ctx.storage.put("k", "v".repeat(5000));
    sizes.kv = sql.databaseSize;
    await this.ctx.storage.deleteAll();
    sizes.delete_all = sql.databaseSize;
    return sizes;
  }
  async sqlp_pragma_allow_list() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE pg (id INTEGER PRIMARY KEY, p INTEGER REFERENCES pg(id))");
    sql.exec("CREATE INDEX pg_p ON pg (p)");
    const P = (q) => capS(() => sql.exec(q).toArray().length);
    const out = {};
    for (const q of [
      "PRAGMA data_version", "PRAGMA page_size", "PRAGMA page_size = 8192", "PRAGMA foreign_keys",
      "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = maybe", "PRAGMA case_sensitive_like = 1",
      "PRAGMA defer_foreign_keys = true", "PRAGMA recursive_triggers = 'yes'",
      "PRAGMA foreign_key_check", "PRAGMA foreign_key_check(pg)", "PRAGMA foreign_key_list(pg)",
      "PRAGMA index_list(pg)", "PRAGMA index_info(pg_p)", "PRAGMA index_xinfo(pg_p)",
      "PRAGMA quick_check", "PRAGMA quick_check(5)", "PRAGMA quick_check(pg)", "PRAGMA optimize",
      "PRAGMA optimize = 0x10002", "PRAGMA table_info(pg)", "PRAGMA table_xinfo(pg)",
      "PRAGMA table_info(_cf_KV)", "PRAGMA index_list(_cf_KV)", "PRAGMA journal_mode",
      "PRAGMA user_version", "PRAGMA integrity_check", "PRAGMA compile_options",
      "PRAGMA function_list", "PRAGMA pragma_list", "PRAGMA main.foreign_keys", "PRAGMA FOREIGN_KEYS",
      "PRAGMA cache_size", "PRAGMA writable_schema = 1", "SELECT * FROM pragma_table_info('pg')",
      "SELECT * FROM pragma_index_list('pg')",
    ]) out[q] = P(q);
    sql.exec("PRAGMA foreign_keys = ON");
    return out;
  }
  async sqlp_function_allow_list() {
    const sql = this.ctx.storage.sql;
    const F = (q) => capS(() => sql.exec(q).toArray().length);
    const out = {};
    for (const q of [
      "SELECT sqlite_version()", "SELECT sqlite_source_id()", "SELECT sqlite_compileoption_used('FTS5')",
      "SELECT sqlite_offset(1)", "SELECT load_extension('x')", "SELECT jsonb_object('a', 1)",
      "SELECT jsonb_group_array(1)", "SELECT json_group_object('a', 1)", "SELECT percentile(1, 50)",
      "SELECT median(1)", "SELECT randomblob(4)", "SELECT likelihood(1, 0.5)", "SELECT soundex('x')",
      "SELECT fts5(1)", "SELECT readfile('x')", "SELECT printf('%s', 1)", "SELECT changes()",
      "SELECT last_insert_rowid()", "SELECT zeroblob(2)", "SELECT unistr('a')", "SELECT if(1, 2)",
      "SELECT json_pretty('[]')", "SELECT timediff('2026-01-02', '2026-01-01')", "SELECT stddev(1)",
    ]) out[q] = F(q);
    return out;
  }
  async sqlp_error_codes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE ep (id INTEGER PRIMARY KEY)");
    sql.exec("CREATE TABLE ec (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES ep(id), " +
      "s TEXT CHECK (length(s) < 3), u INTEGER UNIQUE)");
    sql.exec("CREATE TABLE es (i INTEGER, t TEXT) STRICT");
    sql.exec("CREATE TABLE et (v)");
    sql.exec("CREATE TRIGGER et_no BEFORE INSERT ON et WHEN NEW.v < 0 BEGIN SELECT RAISE(ABORT, 'negative'); END");
    sql.exec("INSERT INTO ep VALUES (1)");
    sql.exec("INSERT INTO ec VALUES (1, 1, 'a', 1)");
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      foreign_key: X("INSERT INTO ec VALUES (2, 5, 'b', 2)"),
      not_null: X("INSERT INTO ec VALUES (2, NULL, 'b', 2)"),
      check: X("INSERT INTO ec VALUES (2, 1, 'long', 2)"),
      unique: X("INSERT INTO ec VALUES (2, 1, 'b', 1)"),
      primary_key: X("INSERT INTO ec VALUES (1, 1, 'b', 3)"),
      strict_int: X("INSERT INTO es VALUES ('abc', 't')"),
      strict_text: X("INSERT INTO es VALUES (1, x'00')"),
      trigger_raise: X("INSERT INTO et VALUES (-1)"),
      fk_parent_delete: X("DELETE FROM ep WHERE id = 1"),
      after: X("SELECT count(*) AS n FROM ec"),
    };
  }
  async sqlp_error_offsets() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE eo (a, b)");
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      syntax_end: X("SELECT a FROM eo WHERE"),
      syntax_mid: X("SELECT a FROM eo WHERE a = = 1"),
      no_column: X("SELECT a, nope FROM eo"),
      no_column_second: X("SELECT nope FROM eo WHERE nope = 1"),
      unicode_before: X("SELECT 'héllo', nope FROM eo"),
      no_function: X("SELECT a, nofunc(b) FROM eo"),
      wrong_args: X("SELECT a, substr() FROM eo"),
      second_statement: X("SELECT 1;   SELECT nope FROM eo"),
      no_table: X("SELECT * FROM nope_table"),
      ambiguous: X("SELECT a FROM eo AS x, eo AS y"),
      unrecognized: X("SELECT a FROM eo WHERE a = #"),
      dq_string: X("SELECT \"nope\" FROM eo"),
      too_many_params: X("SELECT ?, ?, ?", 1),
    };
  }
  async sqlp_cursor_protocol() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE cp3 (v)");
    sql.exec("INSERT INTO cp3 VALUES (1), (2), (3)");
    const r = {};
    const c = sql.exec("SELECT v FROM cp3");
    r.after_exec = [c.rowsRead, c.rowsWritten];
    r.first = capS(() => c.next());
    r.after_first = c.rowsRead;
    r.rest = c.toArray();
    r.after_rest = c.rowsRead;
    r.next_done = capS(() => c.next());
    r.next_again = capS(() => c.next());
    r.to_array_done = c.toArray();
    r.raw_done = [...c.raw()];
    r.column_names_done = c.columnNames;
    r.one_done = capS(() => c.one());
    const d = sql.exec("SELECT v FROM cp3 ORDER BY v");
    r.raw_next = capS(() => d.raw().next());
    r.then_dict = capS(() => d.next());
    r.then_raw_rest = [...d.raw()];
    const e = sql.exec("SELECT v FROM cp3 ORDER BY v");
    r.spread_iter = [...e];
    const f = sql.exec("SELECT v FROM cp3 WHERE v > 5");
    r.empty_next = capS(() => f.next());
    r.empty_columns = f.columnNames;
    return r;
  }
  async sqlp_raw_one_columns() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE rc (id INTEGER PRIMARY KEY, v TEXT)");
    const X = (fn) => capS(fn);
    return {
      insert_columns: X(() => sql.exec("INSERT INTO rc (v) VALUES ('a')").columnNames),
      insert_raw: X(() => [...sql.exec("INSERT INTO rc (v) VALUES ('b')").raw()]),
      insert_one: X(() => sql.exec("INSERT INTO rc (v) VALUES ('c')").one()),
      returning_one: X(() => sql.exec("INSERT INTO rc (v) VALUES ('d') RETURNING id, v").one()),
      returning_raw: X(() => [...sql.exec("UPDATE rc SET v = v || '!' WHERE id <= 2 RETURNING id, v").raw()]),
      star_columns: X(() => sql.exec("SELECT *, id AS id FROM rc").columnNames),
      expr_columns: X(() => sql.exec("SELECT id + 1, upper(v), v AS \"a b\" FROM rc LIMIT 1").columnNames),
      raw_dup: X(() => [...sql.exec("SELECT id, id FROM rc ORDER BY id LIMIT 2").raw()]),
      one_returning_many: X(() => sql.exec("DELETE FROM rc RETURNING id").one()),
      after: X(() => sql.exec("SELECT count(*) AS n FROM rc").one()),
    };
  }
  async sqlp_bindings_every_type() {
    const sql = this.ctx.storage.sql;
    const B = (v) => capS(() => {
      const row = sql.exec("SELECT ? AS v, typeof(?) AS t", v, v).one();
      return [row.v, row.t];
    });
    return {
      zero: B(0),
      negative: B(-7),
      max_safe: B(9007199254740991),
      fraction: B(0.1),
      nan: B(NaN),
      infinity: B(Infinity),
      empty_string: B(""),
      emoji: B("😀"),
      nul_inside: B("a\u0000b"),
      empty_bytes: B(new Uint8Array([]).buffer),
      bytes: B(new Uint8Array([255, 0, 127]).buffer),
      array: B([1, "a", null]),
      nested_array: B([[1, 2], [3]]),
      object: B({ a: 1 }),
      date: B(new Date(86400000)),
      bool_in_array: B([true, false]),
      too_few: capS(() => sql.exec("SELECT ? AS a, ? AS b", 1).toArray()),
      too_many: capS(() => sql.exec("SELECT ? AS a", 1, 2).toArray()),
      numbered: capS(() => sql.exec("SELECT ?2 AS a, ?1 AS b", "x", "y").toArray()),
    };
  }
  async sqlp_blob_results() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE bl (b BLOB)");
    sql.exec("INSERT INTO bl VALUES (?), (x''), (zeroblob(3)), (NULL)", new Uint8Array([1, 2, 250]).buffer);
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      rows: X("SELECT b, typeof(b) AS t, length(b) AS n FROM bl"),
      raw: capS(() => [...sql.exec("SELECT b FROM bl").raw()]),
      literal: X("SELECT x'cafe' AS b"),
      randomblob_len: X("SELECT length(randomblob(5)) AS n"),
      cast_text_blob: X("SELECT CAST('hé' AS BLOB) AS b"),
      unhex: X("SELECT unhex('00ff') AS b"),
      blob_compare: X("SELECT x'01' < x'02' AS lt, x'' = x'' AS eq"),
    };
  }
  async sqlp_numbers() {
    const sql = this.ctx.storage.sql;
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      ints: X("SELECT 1 AS a, -1 AS b, 9007199254740993 AS c, 9223372036854775807 AS d"),
      reals: X("SELECT 1.0 AS a, -0.0 AS b, 1e300 * 1e10 AS c, 0.5 AS d, 3.0 / 2 AS e"),
      int_div: X("SELECT 7 / 2 AS a, 7 % 3 AS b, -7 / 2 AS c"),
      overflow: X("SELECT 9223372036854775807 + 1 AS a"),
      abs_min: X("SELECT abs(-9223372036854775808) AS a"),
    };
  }
  async sqlp_json_window() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE jw (g TEXT, v INTEGER, j TEXT)");
    sql.exec("INSERT INTO jw VALUES ('a', 1, '{\"x\":1}'), ('a', 2, '{\"x\":[2,3]}'), ('b', 3, '{}')");
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      arrows: X("SELECT j -> '$.x' AS a, j ->> '$.x' AS b FROM jw ORDER BY v"),
      each: X("SELECT key, value, type FROM jw, json_each(jw.j) ORDER BY v, key"),
      group: X("SELECT g, json_group_array(v) AS vs FROM jw GROUP BY g ORDER BY g"),
      window: X("SELECT v, sum(v) OVER (ORDER BY v) AS running, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM jw ORDER BY v"),
      bad_json: X("SELECT json('{') AS v"),
    };
  }
  async sqlp_virtual_tables() {
    const sql = this.ctx.storage.sql;
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray());
    return {
      fts_create: X("CREATE VIRTUAL TABLE docs USING fts5(title, body)"),
      fts_insert: X("INSERT INTO docs VALUES ('one', 'the quick brown fox'), ('two', 'lazy dogs sleep')"),
      fts_match: X("SELECT title, highlight(docs, 1, '[', ']') AS h FROM docs WHERE docs MATCH 'quick' ORDER BY rank"),
      rtree_create: X("CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy)"),
      rtree_insert: X("INSERT INTO boxes VALUES (1, 0, 10, 0, 10), (2, 5, 15, 5, 15)"),
      rtree_query: X("SELECT id FROM boxes WHERE maxx >= 12 ORDER BY id"),
      rtree_upper: X("CREATE VIRTUAL TABLE boxes2 USING RTREE_I32(id, a, b)"),
      refused_module: X("CREATE VIRTUAL TABLE s USING dbstat"),
      cf_name: X("CREATE VIRTUAL TABLE _cf_docs USING fts5(x)"),
    };
  }
  async sqlp_schema_changes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE sc (a INTEGER, b TEXT)");
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      add_column: X("ALTER TABLE sc ADD COLUMN c REAL DEFAULT 1.5"),
      rename_column: X("ALTER TABLE sc RENAME COLUMN b TO bb"),
      drop_column: X("ALTER TABLE sc DROP COLUMN c"),
      rename_table: X("ALTER TABLE sc RENAME TO sc2"),
      rename_to_cf: X("ALTER TABLE sc2 RENAME TO _cf_x"),
      create_view: X("CREATE VIEW scv AS SELECT a FROM sc2"),
      create_index: X("CREATE INDEX sc2_a ON sc2 (a)"),
      drop_index: X("DROP INDEX sc2_a"),
      drop_view: X("DROP VIEW scv"),
      temp_table: X("CREATE TEMP TABLE tt (x)"),
      temp_view: X("CREATE TEMP VIEW tv AS SELECT 1"),
      attach: X("ATTACH DATABASE ':memory:' AS other"),
      columns: X("SELECT name, type FROM pragma_table_info('sc2') ORDER BY cid"),
      drop_table: X("DROP TABLE sc2"),
    };
  }
  async sqlp_limits() {
    const sql = this.ctx.storage.sql;
    const X = (q, ...b) => capS(() => sql.exec(q, ...b).toArray().length);
    const cols = (n) => Array.from({ length: n }, (_, i) => `c${i}`).join(", ");
    return {
      columns_100: X(`CREATE TABLE w100 (${cols(100)})`),
      columns_101: X(`CREATE TABLE w101 (${cols(101)})`),
      compound_5: X("SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5"),
      compound_6: X("SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6"),
      like_50: X("SELECT 'a' LIKE ?", "%".repeat(50)),
      like_51: X("SELECT 'a' LIKE ?", "%".repeat(51)),
      glob_51: X("SELECT 'a' GLOB ?", "*".repeat(51)),
      function_args_32: X(`SELECT max(${Array(32).fill(1).join(", ")})`),
      expr_depth: X(`SELECT ${"(".repeat(101)}1${")".repeat(101)}`),
      blob_ok: X("SELECT length(zeroblob(1999999))"),
    };
  }
  async sqlp_transactions_refused() {
    const sql = this.ctx.storage.sql;
    const X = (q) => capS(() => sql.exec(q).toArray());
    return {
      begin: X("BEGIN"),
      begin_immediate: X("BEGIN IMMEDIATE"),
      commit: X("COMMIT"),
      rollback: X("ROLLBACK"),
      savepoint: X("SAVEPOINT s1"),
      release: X("RELEASE s1"),
      end: X("END"),
      in_batch: X("SELECT 1; BEGIN; SELECT 2"),
    };
  }
  async sqlp_multi_statement_counts() {
    const sql = this.ctx.storage.sql;
    const c = sql.exec("CREATE TABLE ms (v); INSERT INTO ms VALUES (1), (2), (3); SELECT v FROM ms");
    const rows = c.toArray();
    const d = sql.exec("UPDATE ms SET v = v * 10; DELETE FROM ms WHERE v = 20; SELECT count(*) AS n FROM ms");
    return {
      rows, rowsRead: c.rowsRead, rowsWritten: c.rowsWritten,
      second: d.toArray(), secondRead: d.rowsRead, secondWritten: d.rowsWritten,
      params_earlier: capS(() => sql.exec("SELECT ?; SELECT 1", 1).toArray()),
      trailing_comment: capS(() => sql.exec("SELECT 1 AS a; -- done").toArray()),
      only_comment: capS(() => sql.exec("-- nothing").toArray()),
    };
  }
  async sqlp_rows_read_seeks() {
    // Row counts of index seeks, a sorter with LIMIT and schema changes (the counting SQLite).
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE rs (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)");
    sql.exec("CREATE INDEX rs_a ON rs (a)");
    sql.exec("INSERT INTO rs (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5)");
    return {
      delete_by_index: this._sqlCounts("DELETE FROM rs WHERE a = 'y'"),
      select_by_index: this._sqlCounts("SELECT n FROM rs WHERE a = 'x'"),
      order_limit: this._sqlCounts("SELECT n FROM rs ORDER BY n DESC LIMIT 2"),
      add_column: this._sqlCounts("ALTER TABLE rs ADD COLUMN c REAL"),
      create_index: this._sqlCounts("CREATE INDEX rs_n ON rs (n)"),
      drop_table: this._sqlCounts("DROP TABLE rs"),
    };
  }
  async sqlp_kv_and_sql_tables() {
    const s = this.ctx.storage;
    const sql = s.sql;
    const X = (q) => capS(() => sql.exec(q).toArray());
    const r = {};
    r.before_put = X("SELECT name FROM sqlite_master ORDER BY name");
    r.before_size = sql.databaseSize;
    await s.put("a", 1);
    r.after_put = X("SELECT name FROM sqlite_master ORDER BY name");
    r.kv_info = X("PRAGMA table_info(_cf_KV)");
    r.read_kv = X("SELECT * FROM _cf_KV");
    r.write_kv = X("INSERT INTO _cf_KV VALUES ('x', x'00')");
    r.drop_kv = X("DROP TABLE _cf_KV");
    r.rename_kv = X("ALTER TABLE _cf_KV RENAME TO kv2");
    r.index_on_kv = X("CREATE INDEX kvi ON _cf_KV (value)");
    r.trigger_on_kv = X("CREATE TRIGGER kvt AFTER INSERT ON _cf_KV BEGIN SELECT 1; END");
    r.view_of_kv = X("CREATE VIEW kvv AS SELECT * FROM _cf_KV");
    r.lower_case = X("SELECT * FROM _CF_kv");
    await s.setAlarm(Date.now() + 3600000);
    r.after_alarm = X("SELECT name FROM sqlite_master ORDER BY name");
    r.metadata_info = X("PRAGMA table_info(_cf_METADATA)");
    await s.deleteAlarm();
    r.after_delete_alarm = X("SELECT name FROM sqlite_master ORDER BY name");
    await s.deleteAll();
    r.after_delete_all = X("SELECT name FROM sqlite_master ORDER BY name");
    r.list_after = keysOf(await s.list());
    return r;
  }
  // ---- end section: sqlite ----
  // ---- section: sqlcount ----
  // rowsRead / rowsWritten of every kind of statement (issue 18 item 5). Twins of scenarios.py's
  // sqlcount section: the same statements in the same order.
  async sqlc_index_reads() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE ir (id INTEGER PRIMARY KEY, a TEXT, n INTEGER, t TEXT)");
    sql.exec("CREATE INDEX ir_a ON ir (a)");
    sql.exec("CREATE INDEX ir_n ON ir (n)");
    sql.exec("INSERT INTO ir (a, n, t) VALUES ('x', 1, 'p'), ('y', 2, 'q'), ('z', 3, 'r'), ('x', 4, 's'), ('w', 5, 't'), ('v', 6, 'u'), ('x', 7, 'v'), ('u', 8, 'w')");
    const r = {};
    r.range_two = this._sqlCounts("SELECT a FROM ir WHERE n BETWEEN 3 AND 4");
    r.range_none = this._sqlCounts("SELECT a FROM ir WHERE n BETWEEN 100 AND 200");
    r.range_open = this._sqlCounts("SELECT a FROM ir WHERE n > 5");
    r.range_below = this._sqlCounts("SELECT a FROM ir WHERE n < 3");
    r.eq_three = this._sqlCounts("SELECT n FROM ir WHERE a = 'x'");
    r.eq_miss = this._sqlCounts("SELECT n FROM ir WHERE a = 'nope'");
    r.eq_miss_between = this._sqlCounts("SELECT n FROM ir WHERE a = 'xa'");
    r.in_list = this._sqlCounts("SELECT n FROM ir WHERE a IN ('w', 'z', 'nope')");
    r.rowid_range = this._sqlCounts("SELECT a FROM ir WHERE id > 5");
    r.rowid_in = this._sqlCounts("SELECT a FROM ir WHERE id IN (2, 4, 99)");
    r.covering_scan = this._sqlCounts("SELECT a FROM ir ORDER BY a");
    r.order_index_limit = this._sqlCounts("SELECT n FROM ir ORDER BY n DESC LIMIT 2");
    r.order_sorter_limit = this._sqlCounts("SELECT t FROM ir ORDER BY t DESC LIMIT 3");
    r.order_sorter_offset = this._sqlCounts("SELECT t FROM ir ORDER BY t LIMIT 2 OFFSET 3");
    r.min_index = this._sqlCounts("SELECT min(n) AS m FROM ir");
    r.max_index = this._sqlCounts("SELECT max(n) AS m FROM ir");
    r.count_where = this._sqlCounts("SELECT count(*) AS c FROM ir WHERE a = 'x'");
    r.group_by = this._sqlCounts("SELECT t, count(*) AS c FROM ir GROUP BY t");
    r.group_by_index = this._sqlCounts("SELECT a, count(*) AS c FROM ir GROUP BY a");
    r.distinct = this._sqlCounts("SELECT DISTINCT t FROM ir");
    r.like = this._sqlCounts("SELECT n FROM ir WHERE t LIKE 'q%'");
    r.limit_scan = this._sqlCounts("SELECT * FROM ir LIMIT 3");
    r.stepping = capS(() => {
      const c = sql.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5");
      const seen = [c.rowsRead];
      for (const _ of c) seen.push(c.rowsRead);
      return seen;
    });
    r.interleaved = capS(() => {
      const c = sql.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5");
      c.next();
      sql.exec("SELECT * FROM ir").toArray();
      sql.exec("INSERT INTO ir (a, n, t) VALUES ('k', 100, 'k')");
      this.ctx.storage.kv.put("between", 1);
      c.toArray();
      return [c.rowsRead, c.rowsWritten];
    });
    return r;
  }
  async sqlc_joins() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE jp (id INTEGER PRIMARY KEY, name TEXT)");
    sql.exec("CREATE TABLE jc (id INTEGER PRIMARY KEY, pid INTEGER, v INTEGER)");
    sql.exec("CREATE INDEX jc_pid ON jc (pid)");
    sql.exec("CREATE TABLE jn (k INTEGER, w TEXT)");
    sql.exec("INSERT INTO jp (name) VALUES ('a'), ('b'), ('c'), ('d')");
    sql.exec("INSERT INTO jc (pid, v) VALUES (1, 10), (1, 11), (2, 20), (4, 40), (4, 41), (4, 42)");
    sql.exec("INSERT INTO jn (k, w) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (9, 'nine')");
    const r = {};
    r.join_index = this._sqlCounts("SELECT jp.name, jc.v FROM jp JOIN jc ON jc.pid = jp.id");
    r.join_rowid = this._sqlCounts("SELECT jp.name, jc.v FROM jc JOIN jp ON jp.id = jc.pid");
    r.left_join = this._sqlCounts("SELECT jp.name, jc.v FROM jp LEFT JOIN jc ON jc.pid = jp.id");
    r.join_autoindex = this._sqlCounts("SELECT jp.name, jn.w FROM jp JOIN jn ON jn.k = jp.id");
    r.in_subquery = this._sqlCounts("SELECT name FROM jp WHERE id IN (SELECT pid FROM jc WHERE v > 15)");
    r.exists = this._sqlCounts("SELECT name FROM jp WHERE EXISTS (SELECT 1 FROM jc WHERE jc.pid = jp.id)");
    r.correlated = this._sqlCounts("SELECT name, (SELECT count(*) FROM jc WHERE jc.pid = jp.id) AS c FROM jp");
    r.union = this._sqlCounts("SELECT name AS x FROM jp UNION SELECT w FROM jn");
    r.union_all = this._sqlCounts("SELECT name AS x FROM jp UNION ALL SELECT w FROM jn");
    r.recursive_cte = this._sqlCounts("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) SELECT i FROM c");
    r.window = this._sqlCounts("SELECT v, sum(v) OVER (PARTITION BY pid ORDER BY v) AS s FROM jc");
    r.group_join = this._sqlCounts("SELECT jp.name, sum(jc.v) AS s FROM jp JOIN jc ON jc.pid = jp.id GROUP BY jp.name ORDER BY s DESC");
    return r;
  }
  async sqlc_writes() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE wp (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    sql.exec("CREATE TABLE wc (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES wp(id) ON DELETE CASCADE, a TEXT, n INTEGER)");
    sql.exec("CREATE INDEX wc_a ON wc (a)");
    sql.exec("CREATE INDEX wc_pid ON wc (pid)");
    sql.exec("CREATE TABLE wlog (msg TEXT)");
    sql.exec("CREATE TRIGGER wc_log AFTER UPDATE OF n ON wc BEGIN INSERT INTO wlog VALUES ('n ' || new.n); END");
    sql.exec("INSERT INTO wp (name) VALUES ('p1'), ('p2'), ('p3')");
    sql.exec("INSERT INTO wc (pid, a, n) VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3), (2, 'z', 4), (3, 'x', 5), (3, 'w', 6)");
    const r = {};
    r.update_by_index = this._sqlCounts("UPDATE wc SET a = 'q' WHERE a = 'z'");
    r.update_by_index_miss = this._sqlCounts("UPDATE wc SET a = 'q' WHERE a = 'nope'");
    r.update_trigger = this._sqlCounts("UPDATE wc SET n = n + 10 WHERE a = 'x'");
    r.delete_by_index = this._sqlCounts("DELETE FROM wc WHERE a = 'y'");
    r.delete_range = this._sqlCounts("DELETE FROM wc WHERE n > 14");
    r.update_limit = this._sqlCounts("UPDATE wc SET a = 'l' WHERE n > 0 ORDER BY n LIMIT 2");
    r.delete_limit = this._sqlCounts("DELETE FROM wc WHERE a = 'l' LIMIT 1");
    r.insert_select = this._sqlCounts("INSERT INTO wc (pid, a, n) SELECT pid, a || '2', n + 100 FROM wc WHERE pid = 2");
    r.upsert = this._sqlCounts("INSERT INTO wp (id, name) VALUES (1, 'p1') ON CONFLICT (name) DO UPDATE SET name = 'p1b'");
    r.replace_unique = this._sqlCounts("INSERT OR REPLACE INTO wp (id, name) VALUES (9, 'p3')");
    r.insert_fk_check = this._sqlCounts("INSERT INTO wc (pid, a, n) VALUES (2, 'f', 0)");
    r.delete_cascade = this._sqlCounts("DELETE FROM wp WHERE name = 'p2'");
    r.insert_returning = this._sqlCounts("INSERT INTO wlog VALUES ('r') RETURNING msg");
    r.update_returning = this._sqlCounts("UPDATE wlog SET msg = msg || '!' WHERE msg = 'r' RETURNING msg");
    r.delete_scan = this._sqlCounts("DELETE FROM wlog WHERE msg > 'n 12'");
    r.delete_all = this._sqlCounts("DELETE FROM wlog");
    return r;
  }
  async sqlc_schema() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE sd (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)");
    sql.exec("INSERT INTO sd (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5), ('v', 6)");
    const r = {};
    r.create_index = this._sqlCounts("CREATE INDEX sd_n ON sd (n)");
    r.create_unique_index = this._sqlCounts("CREATE UNIQUE INDEX sd_an ON sd (a, n)");
    r.create_index_exists = this._sqlCounts("CREATE INDEX IF NOT EXISTS sd_n ON sd (n)");
    r.create_partial_index = this._sqlCounts("CREATE INDEX sd_p ON sd (a) WHERE n > 3");
    r.drop_index = this._sqlCounts("DROP INDEX sd_p");
    r.add_column = this._sqlCounts("ALTER TABLE sd ADD COLUMN c TEXT");
    r.rename_column = this._sqlCounts("ALTER TABLE sd RENAME COLUMN c TO d");
    r.drop_column = this._sqlCounts("ALTER TABLE sd DROP COLUMN d");
    r.rename_table = this._sqlCounts("ALTER TABLE sd RENAME TO sd2");
    r.create_as_select = this._sqlCounts("CREATE TABLE sd3 AS SELECT a, n FROM sd2 WHERE n > 2");
    r.create_view = this._sqlCounts("CREATE VIEW sdv AS SELECT a FROM sd2");
    r.select_view = this._sqlCounts("SELECT a FROM sdv");
    r.create_trigger = this._sqlCounts("CREATE TRIGGER sdt AFTER INSERT ON sd3 BEGIN SELECT 1; END");
    r.drop_view = this._sqlCounts("DROP VIEW sdv");
    r.drop_table = this._sqlCounts("DROP TABLE sd3");
    r.analyze = this._sqlCounts("ANALYZE");
    r.pragma_table_info = this._sqlCounts("PRAGMA table_info(sd2)");
    return r;
  }
  async sqlc_virtual() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE VIRTUAL TABLE fv USING fts5(body)");
    sql.exec("INSERT INTO fv (body) VALUES ('alpha beta'), ('beta gamma'), ('gamma delta'), ('alpha omega')");
    sql.exec("CREATE VIRTUAL TABLE rv USING rtree(id, x0, x1)");
    sql.exec("INSERT INTO rv VALUES (1, 0, 1), (2, 2, 3), (3, 4, 5)");
    const r = {};
    r.fts_match = this._sqlCounts("SELECT body FROM fv WHERE fv MATCH 'alpha'");
    r.fts_scan = this._sqlCounts("SELECT body FROM fv");
    r.fts_insert = this._sqlCounts("INSERT INTO fv (body) VALUES ('epsilon')");
    r.fts_delete = this._sqlCounts("DELETE FROM fv WHERE rowid = 1");
    r.rtree_query = this._sqlCounts("SELECT id FROM rv WHERE x0 >= 2");
    r.rtree_insert = this._sqlCounts("INSERT INTO rv VALUES (4, 6, 7)");
    return r;
  }
  // ---- end section: sqlcount ----
  // ---- section: conf-a ----
  // Storage API arguments (WebIDL coercion as a Python Worker passes them), values round-tripped
  // as a Python Worker sees them, RPC and alarms. Each method's Python twin has the same name in
  // scenarios.py's conf-a section.
  async st_list_limit_coercion() {
    const s = this.ctx.storage;
    await this.fill(["a", "b", "c", "d"]);
    const L = (limit) => listed(s, { limit });
    return {
      int32_max: await L(2147483647), over_int32: await L(2147483648), int32_min: await L(-2147483648),
      under_int32_min: await L(-2147483649), fraction_1_9: await L(1.9), fraction_0_5: await L(0.5),
      fraction_neg: await L(-0.5), infinity: await L(Infinity), neg_infinity: await L(-Infinity),
      text_3: await L("3"), text_spaces: await L(" 2 "), text_hex: await L("0x2"), text_empty: await L(""),
      empty_list: await L([]), list_2: await L([2]), bool_true: await L(true), bool_false: await L(false),
      bigint: await L(2n ** 64n), object: await L({}),
      left: keysOf(await s.list()),
    };
  }
  async st_list_range_combos() {
    const s = this.ctx.storage;
    await this.fill(["a", "aa", "ab", "b", "ba", "c"]);
    const L = (o) => listed(s, o);
    return {
      start_after_end: await L({ startAfter: "a", end: "b" }),
      start_after_prefix: await L({ startAfter: "aa", prefix: "a" }),
      start_outside_prefix: await L({ start: "b", prefix: "a" }),
      end_inside_prefix: await L({ end: "ab", prefix: "a" }),
      end_before_prefix: await L({ end: "a", prefix: "b" }),
      start_empty: await L({ start: "", limit: 2 }),
      end_empty: await L({ end: "" }),
      start_after_empty: await L({ startAfter: "", limit: 2 }),
      start_after_past_prefix: await L({ startAfter: "az", prefix: "a" }),
      reverse_start_after_limit: await L({ startAfter: "a", reverse: true, limit: 2 }),
      reverse_start_end: await L({ start: "aa", end: "ba", reverse: true }),
      reverse_start_after_end: await L({ startAfter: "b", end: "c", reverse: true }),
      reverse_end_before_start: await L({ start: "c", end: "a", reverse: true }),
      start_equals_start_after: await L({ start: "b", startAfter: "b" }),
      start_after_equals_end: await L({ startAfter: "b", end: "b" }),
    };
  }
  async st_list_option_types() {
    const s = this.ctx.storage;
    await this.fill(["a", "b", "null", "true", "5"]);
    const L = (o) => listed(s, o);
    return {
      null_options: await L(null),
      empty_options: await L({}),
      reverse_zero: await L({ reverse: 0, limit: 1 }),
      reverse_one: await L({ reverse: 1, limit: 1 }),
      reverse_empty_text: await L({ reverse: "", limit: 1 }),
      reverse_null: await L({ reverse: null, limit: 1 }),
      prefix_null: await L({ prefix: null }),
      start_null: await L({ start: null }),
      end_null: await L({ end: null }),
      start_after_null: await L({ startAfter: null }),
      prefix_true: await L({ prefix: true }),
      prefix_number: await L({ prefix: 5 }),
      allow_concurrency_text: await L({ allowConcurrency: "x", limit: 1 }),
      no_cache_number: await L({ noCache: 1, limit: 1 }),
      options_true: await L(true),
      options_list: await L([1]),
    };
  }
  async st_options_not_objects() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("a", 1);
    const t = Date.now() + 3600000;
    const r = {
      get_number: await cap(() => s.get("a", 5)),
      get_text: await cap(() => s.get("a", "x")),
      get_true: await cap(() => s.get("a", true)),
      get_null: await cap(() => s.get("a", null)),
      get_concurrency: await cap(() => s.get("a", { allowConcurrency: true, noCache: true })),
      get_many_number: await cap(async () => [...(await s.get(["a"], 5))]),
      put_number: await cap(() => s.put("p1", 1, 5)),
      put_text: await cap(() => s.put("p2", 1, "x")),
      put_null: await cap(() => s.put("p3", 1, null)),
      put_unconfirmed: await cap(() => s.put("p4", 1, { allowUnconfirmed: "yes" })),
      put_entries_number: await cap(() => s.put({ p5: 1 }, 5)),
      put_entries_null: await cap(() => s.put({ p6: 1 }, null)),
      delete_number: await cap(() => s.delete("a", 5)),
      delete_many_text: await cap(() => s.delete(["a"], "x")),
      delete_all_number: await cap(() => s.deleteAll(5)),
      get_alarm_number: await cap(() => s.getAlarm(5)),
      set_alarm_number: await cap(() => s.setAlarm(t, 5)),
      delete_alarm_text: await cap(() => s.deleteAlarm("x")),
    };
    r.left = pairs(await s.list());
    r.alarm = enc(await s.getAlarm());
    await s.deleteAlarm();
    return r;
  }
  async st_key_types() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const r = {
      put_null: await cap(() => s.put(null, "n")),
      get_null: await cap(() => s.get(null)),
      put_true: await cap(() => s.put(true, "t")),
      put_whole_float: await cap(() => s.put(1, "one")),
      put_neg_zero: await cap(() => s.put(-0, "zero")),
      put_1e21: await cap(() => s.put(1e21, "big")),
      put_bigint: await cap(() => s.put(2n ** 64n, "bigint")),
      put_nan: await cap(() => s.put(NaN, "nan")),
      put_list_key: await cap(() => s.put(["l1", "l2"], 1)),
      get_nested_list: await cap(async () => [...(await s.get([["l1", "l2"], "zero"]))]),
      get_mixed_list: await cap(async () => [...(await s.get([null, true, 1, 1e21]))]),
      delete_nested: await cap(() => s.delete([["1", "0"]])),
    };
    r.keys = keysOf(await s.list());
    return r;
  }
  async st_many_keys_duplicates() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put({ a: 1, b: 2 });
    const unique128 = Array.from({ length: 128 }, (_, i) => "u" + i);
    return {
      get_129_same: await cap(async () => [...(await s.get(Array(129).fill("a")))]),
      get_128_same: await cap(async () => [...(await s.get(Array(128).fill("a")))]),
      get_128_unique_plus_dup: await cap(async () => (await s.get([...unique128, "u0"])).size),
      delete_129_same: await cap(() => s.delete(Array(129).fill("b"))),
      delete_128_same: await cap(() => s.delete(Array(128).fill("b"))),
      left: keysOf(await s.list()),
    };
  }
  async st_callback_types() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const before = this.rand;
    const r = {
      bcw_text: await cap(() => this.ctx.blockConcurrencyWhile("f")),
      bcw_object: await cap(() => this.ctx.blockConcurrencyWhile({})),
      bcw_list: await cap(() => this.ctx.blockConcurrencyWhile([])),
      txn_null: await cap(() => s.transaction(null)),
      txn_text: await cap(() => s.transaction("x")),
      txn_object: await cap(() => s.transaction({})),
      txn_sync_null: capS(() => s.transactionSync(null)),
      txn_sync_text: capS(() => s.transactionSync("x")),
    };
    r.same_instance = this.rand === before;
    r.storage_works = await cap(async () => { await s.put("after", 1); return s.get("after"); });
    return r;
  }
  async st_bcw_uncaught(v) {
    await this.ctx.blockConcurrencyWhile(v);
    return "unreachable";
  }
  async st_bcw_caught() {
    try {
      await this.ctx.blockConcurrencyWhile(async () => { throw new Error("inside bcw"); });
      return "not thrown";
    } catch (e) {
      return "caught: " + e.message;
    }
  }
  async st_callback_results() {
    const s = this.ctx.storage;
    const vals = { whole: 3, neg_zero: -0, half: 2.5, big: 2n ** 60n, nan: NaN, inf: Infinity, text: "s", none: undefined };
    const out = {};
    for (const [k, v] of Object.entries(vals)) {
      out[k] = [
        await cap(() => this.ctx.blockConcurrencyWhile(async () => v)),
        await cap(() => s.transaction(async () => v)),
        capS(() => s.transactionSync(() => v)),
      ];
    }
    return out;
  }
  async st_txn_nested_rollback() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const r = {};
    r.inner_throw = await cap(() => s.transaction(async (t) => {
      await t.put("x", 1);
      r.inner_error = await cap(() => s.transaction(async (t2) => { await t2.put("y", 1); throw new Error("inner"); }));
      return "outer ok";
    }));
    r.after_inner_throw = pairs(await s.get(["x", "y"]));
    r.inner_rollback = await cap(() => s.transaction(async (t) => {
      await t.put("a", 1);
      await s.transaction(async (t2) => { await t2.put("b", 1); t2.rollback(); });
      return "outer ok";
    }));
    r.after_inner_rollback = pairs(await s.get(["a", "b"]));
    r.outer_rollback = await cap(() => s.transaction(async (t) => {
      await s.transaction(async (t2) => { await t2.put("c", 1); });
      t.rollback();
      return "rolled back";
    }));
    r.after_outer_rollback = enc(await s.get("c"));
    r.inner_sees_outer = await cap(() => s.transaction(async (t) => {
      await t.put("o", 5);
      return s.transaction(async (t2) => t2.get("o"));
    }));
    r.outer_txn_used_inside = await cap(() => s.transaction(async (t) => s.transaction(async () => {
      await t.put("u", 1);
      return t.get("u");
    })));
    r.left = keysOf(await s.list());
    return r;
  }
  async st_txn_sync_in_async() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const r = {};
    r.sync_inside_async = await cap(() => s.transaction(async (t) => {
      await t.put("a", 1);
      return s.transactionSync(() => { s.put("b", 2); return "sync"; });
    }));
    r.sync_inside_async_throw = await cap(() => s.transaction(async (t) => {
      await t.put("c", 1);
      r.inner = capS(() => s.transactionSync(() => { s.put("d", 2); throw new Error("sync boom"); }));
      return "outer";
    }));
    r.left = pairs(await s.list());
    return r;
  }
  async st_put_failed_unchanged() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put("keep", 1);
    const t = (c) => ("err" in c ? { err_type: c.err.type } : c);
    const r = {
      entries_with_function: t(await cap(() => s.put({ a: 1, b: () => 1 }))),
      value_function: t(await cap(() => s.put("keep", () => 2))),
      nested_function: t(await cap(() => s.put("keep", { ok: 1, f: [() => 2] }))),
      txn_with_function: t(await cap(() => s.transaction(async (tx) => { await tx.put("t1", 1); await tx.put("t2", () => 1); }))),
    };
    r.left = pairs(await s.list());
    return r;
  }
  async st_sync_kv_edges() {
    const s = this.ctx.storage;
    await s.deleteAll();
    const kv = s.kv;
    const r = {
      put_whole_float: capS(() => kv.put("k", 3)),
      get_whole_float: capS(() => kv.get("k")),
      put_no_value: capS(() => kv.put("u")),
      put_null_key: capS(() => kv.put(null, 1)),
      get_null_key: capS(() => kv.get("null")),
      get_missing: capS(() => kv.get("missing")),
      delete_missing: capS(() => kv.delete("missing")),
      delete_existing: capS(() => kv.delete("null")),
      list_prefix: capS(() => [...kv.list({ prefix: "k" })]),
      list_limit0: capS(() => [...kv.list({ limit: 0 })]),
      list_reverse_limit1: capS(() => [...kv.list({ reverse: true, limit: 1 })]),
      list_options_number: capS(() => [...kv.list(5)]),
      get_list_key: capS(() => kv.get(["k"])),
    };
    r.left = pairs(await s.list());
    return r;
  }
  async st_alarm_replace() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const t1 = Date.now() + 3600000;
    const t2 = t1 + 60000;
    const r = {};
    await s.setAlarm(t1);
    await s.setAlarm(t2);
    r.later_replaces = (await s.getAlarm()) === t2;
    r.same_again = await cap(() => s.setAlarm(t2));
    await s.setAlarm(t1);
    r.earlier_replaces = (await s.getAlarm()) === t1;
    r.get_with_options = (await s.getAlarm({ allowConcurrency: true })) === t1;
    r.set_unconfirmed = await cap(() => s.setAlarm(t2, { allowUnconfirmed: true }));
    r.after_unconfirmed = (await s.getAlarm()) === t2;
    r.delete = enc(await s.deleteAlarm());
    r.delete_again = enc(await s.deleteAlarm());
    r.after = enc(await s.getAlarm());
    return r;
  }
  async st_txn_alarm_rollback() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const t1 = Date.now() + 3600000;
    const r = {};
    r.set_then_throw = await cap(() => s.transaction(async (t) => {
      await t.setAlarm(t1);
      r.seen_inside = (await t.getAlarm()) === t1;
      r.outside_sees_it = (await s.getAlarm()) === t1;
      throw new Error("undo");
    }));
    r.after_throw = enc(await s.getAlarm());
    await s.setAlarm(t1);
    r.delete_then_rollback = await cap(() => s.transaction(async (t) => {
      await t.deleteAlarm();
      r.deleted_inside = enc(await t.getAlarm());
      t.rollback();
      return "rolled back";
    }));
    r.after_rollback_is_t1 = (await s.getAlarm()) === t1;
    r.set_commit = await cap(() => s.transaction(async (t) => { await t.setAlarm(t1 + 1000); }));
    r.after_commit = (await s.getAlarm()) === t1 + 1000;
    await s.deleteAlarm();
    return r;
  }
  async alm_time_bounds() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const S = (v) => cap(() => s.setAlarm(v));
    const r = {
      max_2189: await S(9223372036854),
      max_2189_read: enc(await s.getAlarm()),
      over_2189: await S(9223372036855),
      date_max: await S(8.64e15),
      over_date_max: await S(8.64e15 + 1),
      neg_date_max: await S(-8.64e15),
      neg_half: await S(-0.5),
      bigint: await S(2n ** 64n),
      list: await S([Date.now() + 3600000]),
      after_errors: enc(await s.getAlarm()),
      one: await S(1),
      half: await S(0.5),
      almost_one: await S(0.9999),
    };
    await s.deleteAlarm();
    return r;
  }
  async alm_datetime_forms() {
    const s = this.ctx.storage;
    await s.deleteAlarm();
    const base = Date.UTC(2100, 0, 1);
    const set = async (d) => {
      const c = await cap(() => s.setAlarm(d));
      if ("err" in c) return c;
      return { ok: enc(await s.getAlarm()) };
    };
    const r = {
      naive: await set(new Date(base)),
      aware_plus_2: await set(new Date(base)),
      microseconds: await set(new Date(base + 999.999)),
      epoch: await set(new Date(0)),
      before_epoch: await set(new Date(Date.UTC(1960, 0, 1))),
      sub_ms_before_epoch: await set(new Date(-0.5)),
      after_errors: enc(await s.getAlarm()),
    };
    await s.deleteAlarm();
    return r;
  }
  // values, as a Python Worker sees them once stored and read back
  async val_whole_floats() {
    return this.roundtrip({
      three: 3, neg_zero: -0, e20: 1e20, two_53: 2 ** 53, safe_max: 9007199254740991, neg_safe: -9007199254740991,
      point3: 0.1 + 0.2, list: [1, 2.5], dict: { f: 4 }, float_key: { 1: "k" }, set: new Set([1, 2.5]),
    });
  }
  async val_big_ints() {
    return this.roundtrip({
      safe_max: 9007199254740991, two_53: 2n ** 53n, neg_two_53: -(2n ** 53n), two_63: 2n ** 63n,
      neg_two_64_5: -(2n ** 64n) - 5n, ten_30: 10n ** 30n, in_list: [2n ** 70n], in_dict: { b: -(2n ** 60n) },
    });
  }
  async val_bytes_views() {
    const s = this.ctx.storage;
    const out = await this.roundtrip({
      bytes: new Uint8Array([1, 2, 3]), view_slice: new Uint8Array([2, 3]), empty: new Uint8Array(0),
      nested: { d: { b: new Uint8Array([9]) } }, in_list: [new Uint8Array([1]), new Uint8Array([2])],
    });
    await s.put("v:big", new Uint8Array(70000).fill(7));
    const big = await s.get("v:big");
    out.big_length = big.byteLength;
    out.big_last = new Uint8Array(big)[69999];
    return out;
  }
  async val_datetimes() {
    const base = Date.UTC(2020, 0, 1);
    return this.roundtrip({
      naive: new Date(base), aware_plus_0530: new Date(base), microseconds: new Date(Date.UTC(2021, 5, 1, 12) + 123.456),
      pre_epoch: new Date(Date.UTC(1960, 5, 1)), pre_epoch_sub_ms: new Date(-0.5), epoch: new Date(0),
      year_1: new Date("0001-01-01T00:00:00Z"), year_9999: new Date("9999-12-31T23:59:59.999Z"),
      in_list: [new Date(base)], in_dict: { d: new Date(base) },
    });
  }
  async val_none_nested() {
    return this.roundtrip({
      none: null, list: [null, 1], dict: { a: null }, nested: { a: [null] }, deep: [[null]], set: new Set([undefined]),
    });
  }
  async val_errors() {
    return pyErrors(await this.roundtrip({
      plain: new Error("boom"), type_error: new Error("t"), empty: new Error(""), in_list: [new Error("in list")],
      in_dict: { e: new Error("v") },
    }));
  }
  async val_dict_keys() {
    const d = Object.fromEntries([[2, "a"], [true, "b"], [null, "c"], [2.5, "d"], ["z", 1], ["0", 2], [10, 3], [-1, 4],
      ["01", 5], [4294967295, 6], [4294967294, 7]]);
    return this.roundtrip({ keys: d });
  }
  async val_list_get_paths() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put({ w: 3, b: new Uint8Array([1]), d: new Date(Date.UTC(2020, 0, 1)), n: null, z: -0, f: 1.5 });
    return {
      list: pairs(await s.list()),
      get_many: pairs(await s.get(["z", "w", "n", "f", "d", "b"])),
    };
  }
  async val_shared_refs() {
    // The SDK rebuilds dicts and lists without a memo (shared ones split) and keeps sets as they
    // are; this is the value it sends.
    const s = this.ctx.storage;
    const set = new Set([1]);
    await s.put("shared", { a: [1], b: [1], s1: set, s2: set, d: [{ k: 1 }, { k: 1 }] });
    const r = await s.get("shared");
    return { lists_same: r.a === r.b, sets_same: r.s1 === r.s2, dicts_same: r.d[0] === r.d[1], value: enc(r) };
  }
  rpc_shared() {
    const set = new Set([1]);
    return { a: [1], b: [1], s1: set, s2: set };
  }
  // RPC
  rpc_echo(...args) {
    return { seen: args.map(enc), back: args };
  }
  async rpc_call_back(fn, x) {
    return await fn(x);
  }
  async rpc_call_twice(fn, x) {
    const a = await fn(x);
    const b = await fn(a);
    return [a, b];
  }
  rpc_make_counter(start) {
    let n = start;
    return (k) => { n += k; return n; };
  }
  rpc_make_tools(start) {
    let n = start;
    return { label: "tools", inc: (k) => { n += k; return n; }, get: async () => { await sleep(1); return n; } };
  }
  async rpc_call_stub(other) {
    return await other.ping();
  }
  _rpc_private() {
    return "private reached";
  }
  static rpc_static() {
    return "static reached";
  }
  rpc_keep_fn(fn) {
    this.keptFn = fn;
    return "kept";
  }
  async rpc_call_kept(x) {
    return await this.keptFn(x);
  }
  rpc_length(text) {
    return text.length;
  }
  rpc_peer_stub() {
    return { peer: this.env.OTHER.getByName("peer"), label: "peer" };
  }
  rpc_errors_as_values() {
    return { plain: new Error("boom"), list: [new Error("in list")], empty: new Error("") };
  }
  rpc_big(n) {
    return "x".repeat(n);
  }
  // ---- end section: conf-a ----
}

export class OtherDO extends TestDO {}

// A class without an alarm() handler.
export class NoAlarmDO extends DurableObject {
  async try_set_alarm() {
    const s = this.ctx.storage;
    return {
      set: await cap(() => s.setAlarm(Date.now() + 60000)),
      get: await cap(() => s.getAlarm()),
      delete: await cap(() => s.deleteAlarm()),
    };
  }
}

// blockConcurrencyWhile in the constructor (scenario: it finishes before the first event).
export class CtorDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = null;
    ctx.blockConcurrencyWhile(async () => {
      const prev = (await ctx.storage.get("ctor_count")) ?? 0;
      await ctx.storage.put("ctor_count", prev + 1);
      await sleep(20);
      this.ready = { prev };
    });
  }
  async state() {
    return { ready: this.ready, count: (await this.ctx.storage.get("ctor_count")) ?? null };
  }
}

// ------------------------------------------------------------------ scenarios (Worker side)

const lowerHex64 = (s) => /^[0-9a-f]{64}$/.test(s);

async function gate(env, name, method, mode, n) {
  const stub = env.TEST.getByName(name);
  await stub.reset_ctr();
  const rs = await Promise.all(Array.from({ length: n }, () => stub[method](mode)));
  return { results: rs.sort((a, b) => a - b), final: await stub.read_ctr() };
}

async function bcwOrdering(env, name, useBcw) {
  const stub = env.TEST.getByName(name);
  await stub.reset_log();
  const pA = stub.bcw_a(useBcw, 200);
  await sleep(50);
  const pB = stub.bcw_b();
  const [a, b] = await Promise.all([pA, pB]);
  return { a, b };
}

const rpc = (env, name, method, ...args) => env.TEST.getByName(name)[method](...args);

// Fetch url from the object and record the status, or the error with its flags.
async function fetchStatus(env, binding, name, url) {
  try {
    const resp = await env[binding].getByName(name).fetch(url);
    return { ok: { status: resp.status } };
  } catch (e) {
    return { err: errFlags(e) };
  }
}

const SCENARIOS = {
  async ids_from_name(env) {
    const id = env.TEST.idFromName("foo");
    const s = id.toString();
    return {
      foo: s,
      lower_hex_64: lowerHex64(s),
      deterministic: env.TEST.idFromName("foo").toString() === s,
      equals_same: id.equals(env.TEST.idFromName("foo")),
      equals_other: id.equals(env.TEST.idFromName("bar")),
      name: id.name ?? null,
      empty: capS(() => env.TEST.idFromName("").toString()),
      unicode: capS(() => env.TEST.idFromName("h\u00e9llo\u{1F600}").toString()),
      number_is_string: env.TEST.idFromName(123).toString() === env.TEST.idFromName("123").toString(),
      number_name: env.TEST.idFromName(123).name ?? null,
      other_namespace: env.OTHER.idFromName("foo").toString(),
      stub_name: env.TEST.get(id).name ?? null,
      stub_id: env.TEST.get(id).id.toString(),
      get_by_name_id: env.TEST.getByName("foo").id.toString(),
    };
  },
  async ids_from_string_errors(env) {
    const s = env.TEST.idFromName("foo").toString();
    const bad = {
      empty: "", short: "abc", non_hex_64: "z".repeat(64), hex63: s.slice(0, 63), hex65: s + "0",
      flipped_last: s.slice(0, 63) + (s[63] === "0" ? "1" : "0"),
      flipped_first: (s[0] === "0" ? "1" : "0") + s.slice(1),
      other_namespace: env.OTHER.idFromName("foo").toString(),
      all_zeros: "0".repeat(64), leading_space: " " + s.slice(1),
    };
    const r = {};
    for (const [k, v] of Object.entries(bad)) r[k] = capS(() => env.TEST.idFromString(v).toString());
    r.number = capS(() => env.TEST.idFromString(123).toString());
    r.no_argument = capS(() => env.TEST.idFromString().toString());
    return r;
  },
  async ids_from_string_valid(env) {
    const id = env.TEST.idFromName("foo");
    const s = id.toString();
    const back = env.TEST.idFromString(s);
    const upper = env.TEST.idFromString(s.toUpperCase());
    return {
      str: back.toString(),
      equals: back.equals(id),
      name: back.name ?? null,
      upper_accepted: upper.toString(),
      upper_equals: upper.equals(id),
    };
  },
  async ids_new_unique(env) {
    const a = env.TEST.newUniqueId();
    const b = env.TEST.newUniqueId();
    return {
      lower_hex_64: lowerHex64(a.toString()) && lowerHex64(b.toString()),
      differ: a.toString() !== b.toString(),
      equals: a.equals(b),
      name: a.name ?? null,
      parses_back: env.TEST.idFromString(a.toString()).equals(a),
      rejected_by_other_namespace: capS(() => env.OTHER.idFromString(a.toString()).toString()),
      jurisdiction_eu: capS(() => env.TEST.newUniqueId({ jurisdiction: "eu" }).toString()),
      jurisdiction_null: capS(() => lowerHex64(env.TEST.newUniqueId({ jurisdiction: null }).toString())),
    };
  },
  async ids_name_inside(env) {
    const byName = await env.TEST.getByName("named").who();
    const byId = await env.TEST.get(env.TEST.idFromName("named2")).who();
    const fromString = await env.TEST.get(env.TEST.idFromString(env.TEST.idFromName("by-string").toString())).who();
    const uid = env.TEST.newUniqueId();
    const unique = await env.TEST.get(uid).who();
    return {
      by_name: byName,
      by_id_from_name: byId,
      by_id_from_string: fromString,
      unique_name: unique.name,
      unique_id_matches: unique.id === uid.toString(),
    };
  },
  async edge_request_urls(env) {
    const stub = env.TEST.getByName("edge-urls");
    const seen = (url) => cap(async () => (await stub.fetch(url)).text());
    return {
      dot_segments: await seen("http://do/a/../echo-url"),
      dot: await seen("http://do/./echo-url"),
      port_80: await seen("http://do:80/echo-url"),
      port_443: await seen("https://do:443/echo-url"),
      port_other: await seen("http://do:8080/echo-url"),
      fragment: await seen("http://do/echo-url#x"),
      upper_host: await seen("http://DO.Example/echo-url"),
      query: await seen("http://do/echo-url?b=1&a=2"),
      space_in_query: await seen("http://do/echo-url?q=a b"),
      no_path: await seen("http://do?x=1"),
      status_text_through_stub: await cap(async () => {
        const r = await stub.fetch("http://do/not-found");
        await r.text();
        return [r.status, r.statusText];
      }),
    };
  },
  async edge_responses(env) {
    // The Python SDK's Response raises what JS throws as Python errors (`_to_python_exception`
    // in workers/utils.py): a RangeError is a ValueError, a TypeError stays a TypeError.
    const made = (body, status) => {
      try {
        const r = new Response(body, { status });
        return { ok: enc([r.status, r.statusText, r.ok]) };
      } catch (e) {
        const type = { RangeError: "py:ValueError", TypeError: "py:TypeError" }[e.name] ?? e.name;
        return { err: { type, message: e.message } };
      }
    };
    return {
      status_201: made(null, 201),
      status_599: made(null, 599),
      status_200_body: made("x", 200),
      status_418: made(null, 418),
      status_101_body: made("x", 101),
      status_204_body: made("x", 204),
      status_204_null: made(null, 204),
      status_205_empty: made("", 205),
      status_600: made(null, 600),
      status_199: made(null, 199),
    };
  },
  async edge_ids_rpc(env) {
    const id = env.TEST.idFromName("a");
    const stub = env.TEST.getByName("edge-rpc");
    return {
      equals_string: capS(() => id.equals(id.toString())),
      equals_null: capS(() => id.equals(null)),
      equals_object: capS(() => id.equals({})),
      equals_same: capS(() => id.equals(env.TEST.idFromName("a"))),
      equals_other_namespace: capS(() => id.equals(env.OTHER.idFromName("a"))),
      unique_empty_options: capS(() => lowerHex64(env.TEST.newUniqueId({}).toString())),
      unique_number: capS(() => lowerHex64(env.TEST.newUniqueId(5).toString())),
      unique_jurisdiction_number: capS(() => env.TEST.newUniqueId({ jurisdiction: 5 }).toString()),
      rpc_alarm: await cap(() => stub.alarm()),
      rpc_web_socket_message: await cap(() => stub.webSocketMessage(null, "x")),
      // a missing method: rpc_unknown_method and rpc_python_entrypoint (the Python entrypoint's message)
      rpc_works_after: await cap(() => stub.who()),
    };
  },
  async ids_long_name(env) {
    const exact = "x".repeat(1024);
    const long = "x".repeat(1025);
    const wide = "\u00e9".repeat(513); // 1026 UTF-8 bytes, 513 UTF-16 units
    const inside = async (n) => (await env.TEST.getByName(n).who()).name;
    return {
      exact_1024_inside: (await inside(exact)) === exact,
      long_1025_inside: (await inside(long)) ?? null,
      wide_1026_bytes_inside: (await inside(wide)) ?? null,
      long_stub_name: env.TEST.getByName(long).name === long,
      long_id_name: env.TEST.idFromName(long).name === long,
    };
  },

  gate_storage_only: (env) => gate(env, "gate-plain", "incr", "plain", 5),
  gate_timer_lost_update: (env) => gate(env, "gate-timer", "incr", "timer", 2),
  gate_fetch_lost_update: (env) => gate(env, "gate-fetch", "incr", "fetch", 2),
  gate_rpc_lost_update: (env) => gate(env, "gate-rpc", "incr", "rpc", 2),
  gate_bcw_restores: (env) => gate(env, "gate-bcw", "incr_bcw", "timer", 2),

  bcw_ordering: (env) => bcwOrdering(env, "bcw-order", true),
  bcw_no_bcw_ordering: (env) => bcwOrdering(env, "bcw-order-2", false),
  async bcw_throw_resets(env) {
    const stub = env.TEST.getByName("bcw-throw");
    await stub.put_value("survives", 1);
    const before = await stub.rand_of();
    const res = await cap(() => stub.bcw_throw(), errFlags);
    const fresh = env.TEST.getByName("bcw-throw");
    const after = await fresh.rand_of();
    return {
      result: res,
      constructor_ran_again: before !== after,
      stored_value_survives: await fresh.get_value("survives"),
    };
  },
  async bcw_write_then_throw(env) {
    const stub = env.TEST.getByName("bcw-write-throw");
    const res = await cap(() => stub.bcw_throw_after_write(), errFlags);
    const fresh = env.TEST.getByName("bcw-write-throw");
    return {
      result: res,
      before_bcw: await fresh.get_value("before-bcw"),
      inside_bcw: await fresh.get_value("inside-bcw"),
    };
  },
  async bcw_throw_resets_fetch(env) {
    const stub = env.TEST.getByName("bcw-throw-fetch");
    const before = await stub.rand_of();
    let res;
    try {
      const resp = await stub.fetch("http://do/bcw-throw");
      res = { ok: { status: resp.status, body: await resp.text() } };
    } catch (e) {
      res = { err: errFlags(e) };
    }
    const after = await env.TEST.getByName("bcw-throw-fetch").rand_of();
    return { result: res, constructor_ran_again: before !== after };
  },
  rpc_unknown_method: (env) => cap(() => env.TEST.getByName("rpc-unknown").no_such_method(1), errFlags),
  fetch_without_handler: (env) => fetchStatus(env, "NOALARM", "no-fetch", "http://do/"),
  fetch_non_response: (env) => fetchStatus(env, "TEST", "non-response", "http://do/not-a-response"),
  async bcw_constructor(env) {
    const stub = env.CTOR.getByName("ctor");
    const [a, b] = await Promise.all([stub.state(), stub.state()]);
    return { a, b };
  },
  async handler_throw_no_reset(env) {
    const stub = env.TEST.getByName("handler-throw");
    const before = await stub.rand_of();
    const res = await cap(() => stub.throw_error(), errFlags);
    return { result: res, same_instance: (await stub.rand_of()) === before };
  },

  async python_exception_crosses_as_python_error(env) {
    try {
      await env.TEST.getByName("python-error").throw_python_error();
    } catch (e) {
      const lines = e.message.trimEnd().split("\n");
      return { type: e.name, first_line: lines[0], last_line: lines[lines.length - 1], remote: !!e.remote,
               is_value_error: false };
    }
    return "no error";
  },

  alarm_no_handler: (env) => env.NOALARM.getByName("no-handler").try_set_alarm(),

  // Multi-step scenarios: run.py calls each step (?step=...) and waits in between.
  async alarm_steps(env, url) {
    const name = url.searchParams.get("name");
    const stub = env.TEST.getByName(name);
    if (url.searchParams.get("step") === "setup") {
      return stub.alarm_setup(Number(url.searchParams.get("fail")), Number(url.searchParams.get("delay")),
        url.searchParams.get("mode"));
    }
    return stub.alarm_report();
  },
  async eviction_steps(env, url) {
    const stub = env.TEST.getByName("evict");
    return stub.evict_info(url.searchParams.get("bump") === "1");
  },
};

// ---- section: conf-b ----
// WebSockets, HTTP, lifecycle and the compatibility-date matrix. ConfBDO is this section's object
// (binding CONFB); each scenario is an RPC method of it (scenarios.py's `B` rows, routed through
// /confb/<object>/<method>) or a Worker-level driver in CONF_B_SCENARIOS. The same worker.js also
// runs at other compatibility dates (config.capnp), reached at /at/<date>/...

// What a WebSocket's receiving end saw, in arrival order: text as is, binary as bytes.
function wsRecorder(ws) {
  const got = [];
  ws.addEventListener("message", (e) => got.push(typeof e.data === "string" ? e.data
    : e.data instanceof Blob ? { blob_size: enc(e.data.size) } : enc(new Uint8Array(e.data))));
  ws.addEventListener("close", (e) => got.push({ close: enc([e.code, e.reason, e.wasClean]) }));
  return got;
}

// Resolve once `ws` has seen its close event (or after `ms`, with "no close event").
function closedWithin(ws, ms) {
  return new Promise((resolve) => {
    ws.addEventListener("close", (e) => resolve(enc({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
    setTimeout(() => resolve("no close event"), ms);
  });
}

export class ConfBDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.events = [];
    this.rand = crypto.randomUUID(); // changes whenever the constructor runs again
  }

  // /ws: a hibernatable socket; /ws-standard: a standard-API one whose close listener does not
  // close back; /headers: the request's headers; /body?mode=: the body read one way;
  // /respond?kind=: a response of that kind; anything else: the URL and method seen.
  async fetch(request) {
    const url = new URL(request.url);
    const q = (k) => url.searchParams.get(k);
    if (url.pathname === "/ws") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server, [q("tag") ?? "t"]);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/ws-standard") {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("close", (e) => this.events.push(["close", enc(e.code), e.reason, e.wasClean, enc(server.readyState)]));
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/ws-hib") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server, ["hib", "room"]);
      server.serializeAttachment({ n: 1, rand: this.rand });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/headers") return new Response(JSON.stringify([...request.headers]));
    if (url.pathname === "/misc") {
      return new Response(JSON.stringify({ cf: request.cf ?? null, redirect: request.redirect, method: request.method,
        body_is_null: request.body === null, headers: [...request.headers], url: request.url }));
    }
    if (url.pathname === "/body") return new Response(JSON.stringify(await readBody(request, q("mode"))));
    if (url.pathname === "/respond") return respondWith(q("kind"));
    return new Response(JSON.stringify({ url: request.url, method: request.method }));
  }

  // Pending I/O: a timer that writes when it fires; does it keep the idle object in memory?
  async start_pending(ms) {
    setTimeout(() => this.ctx.storage.put("pending-done", true), ms);
    return this.rand;
  }

  async start_pending_15s() {
    return this.start_pending(15000);
  }

  async start_wait_until_15s() {
    this.ctx.waitUntil(sleep(15000).then(() => this.ctx.storage.put("pending-done", true)));
    return this.rand;
  }

  async pending_report() {
    return { rand: this.rand, done: (await this.ctx.storage.get("pending-done")) ?? false };
  }

  async tick() {
    return 1;
  }

  // Hibernation: this object holds a standard-API client socket to "hib-target" (which pins it
  // in memory); the target's hibernatable end may hibernate meanwhile.
  async hold_hib() {
    const resp = await this.env.CONFB.getByName("hib-target").fetch("http://do/ws-hib", { headers: { Upgrade: "websocket" } });
    this.ws = resp.webSocket;
    this.ws.accept();
    this.got = [];
    this.ws.addEventListener("message", (e) => this.got.push(e.data));
    return this.rand;
  }

  async ask_who() {
    this.ws.send("who");
    for (let i = 0; i < 100 && !this.got.length; i++) await sleep(20);
    return this.got.shift() ?? null;
  }

  webSocketMessage(ws, message) {
    if (typeof message !== "string" && message.byteLength > 1024) {
      ws.send("got " + message.byteLength);
      return;
    }
    if (message === "who") {
      ws.send(JSON.stringify({ rand: this.rand, attachment: ws.deserializeAttachment(), tags: this.ctx.getTags(ws),
        sockets: this.ctx.getWebSockets().length }));
      return;
    }
    this.events.push(["message", typeof message === "string" ? message : enc(new Uint8Array(message)), enc(ws.readyState)]);
    if (message === "close-me") ws.close(4001, "asked");
  }

  webSocketClose(ws, code, reason, wasClean) {
    this.events.push(["close", enc(code), reason, wasClean, enc(ws.readyState)]);
  }

  webSocketError(ws, error) {
    this.events.push(["error", errOf(error)]);
  }

  // The handler events seen so far, once at least `n` arrived (or after about 1 s).
  async events_seen(n) {
    for (let i = 0; i < 50 && this.events.length < n; i++) await sleep(20);
    return this.events;
  }

  // deleteAll() and the alarm: deleted with it from 2026-02-24 (delete_all_deletes_alarm), kept before.
  async delete_all_alarm() {
    const s = this.ctx.storage;
    const when = Date.now() + 3600000;
    await s.setAlarm(when);
    await s.put("k", 1);
    const out = { delete_all: enc(await s.deleteAll()) };
    const alarm = await s.getAlarm();
    out.alarm_kept = alarm === when;
    out.alarm_null = alarm === null;
    out.keys = [...(await s.list()).keys()];
    await s.deleteAlarm();
    return out;
  }

  async alarm() {}

  async ws_tag_counts() {
    const ctx = this.ctx;
    const tagged = (tags) => capS(() => {
      const [, server] = Object.values(new WebSocketPair());
      ctx.acceptWebSocket(server, tags);
      return ctx.getTags(server);
    });
    const ten = Array.from({ length: 10 }, (_, i) => "t" + i);
    return {
      ten: tagged(ten),
      eleven: tagged([...ten, "t10"]),
      ten_then_duplicate: tagged([...ten, "t0"]),
      duplicates_kept_once: tagged(["b", "a", "b", "c", "a"]),
      none: tagged(undefined),
      empty: tagged([]),
      empty_string: tagged([""]),
      numbers: tagged([5, 1.5]),
      wide_128: tagged(["\u{1F600}".repeat(64)]),
      wide_129: tagged(["\u{1F600}".repeat(65)]),
    };
  }

  async ws_get_websockets() {
    const ctx = this.ctx;
    const accept = (tags) => {
      const [client, server] = Object.values(new WebSocketPair());
      ctx.acceptWebSocket(server, tags);
      return { client, server };
    };
    const a = accept(["x", "y"]);
    const b = accept(["y"]);
    const c = accept([]);
    const d = accept(["x"]);
    const names = new Map([[a.server, "a"], [b.server, "b"], [c.server, "c"], [d.server, "d"]]);
    const seen = (tag) => capS(() => ctx.getWebSockets(tag).map((w) => names.get(w)));
    const out = { all: seen(), x: seen("x"), y: seen("y"), missing: seen("zz"), empty_tag: seen("") };
    b.server.close(1000, "bye");
    out.after_close_all = seen();
    out.closed_state = enc(b.server.readyState);
    out.tags_of_closed = capS(() => ctx.getTags(b.server));
    out.get_tags_plain = capS(() => {
      const [, s] = Object.values(new WebSocketPair());
      s.accept();
      return ctx.getTags(s);
    });
    out.get_tags_unaccepted = capS(() => {
      const [, s] = Object.values(new WebSocketPair());
      return ctx.getTags(s);
    });
    return out;
  }

  async ws_send_values() {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    const got = wsRecorder(client);
    server.accept();
    const out = {};
    for (const [k, v] of [["text", "hi"], ["empty", ""], ["int", 5], ["float", 1.5], ["true", true],
      ["bytes", new Uint8Array([0, 1, 255])], ["empty_bytes", new Uint8Array([])], ["unicode", "h\u00e9\u{1F600}"]]) {
      out[k] = capS(() => (server.send(v), "sent"));
    }
    await sleep(20);
    out.received = got;
    return out;
  }

  // binaryType: "blob" by default from 2026-03-17 (websocket_standard_binary_type), before it
  // "arraybuffer"; an unknown value is ignored; webSocketMessage always gets an ArrayBuffer.
  async ws_binary_type() {
    const [client, server] = Object.values(new WebSocketPair());
    const out = { default: client.binaryType };
    client.accept();
    const got = wsRecorder(client);
    server.accept();
    server.send(new Uint8Array([1, 2, 3]));
    await sleep(20);
    client.binaryType = "arraybuffer";
    out.set_arraybuffer = client.binaryType;
    server.send(new Uint8Array([4, 5]));
    await sleep(20);
    client.binaryType = "nonsense";
    out.set_nonsense = client.binaryType;
    client.binaryType = "blob";
    out.set_blob = client.binaryType;
    server.send(new Uint8Array([6]));
    await sleep(20);
    out.received = got;
    const [c2, s2] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(s2);
    c2.accept();
    c2.send(new Uint8Array([9, 9]));
    await sleep(20);
    out.handler_got = this.events;
    return out;
  }

  async ws_after_close() {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    const got = wsRecorder(client);
    server.accept();
    server.send("before");
    server.close(1000, "done");
    const out = {
      state_after_close: enc(server.readyState),
      send_after_close: capS(() => server.send("after")),
      close_again: capS(() => (server.close(1000, "again"), "ok")),
      close_again_bad_code: capS(() => (server.close(1, "x"), "ok")),
    };
    await sleep(20);
    out.client_received = got;
    out.client_state = enc(client.readyState);
    out.server_state = enc(server.readyState);
    out.send_unaccepted = capS(() => {
      const [, s] = Object.values(new WebSocketPair());
      s.send("x");
    });
    return out;
  }

  async ws_close_without_code() {
    const run = async (fn) => {
      const [client, server] = Object.values(new WebSocketPair());
      client.accept();
      const got = wsRecorder(client);
      server.accept();
      fn(server);
      await sleep(20);
      return got;
    };
    return {
      no_arguments: await run((s) => s.close()),
      code_only: await run((s) => s.close(1000)),
      reason_undefined: await run((s) => s.close(3000, undefined)),
      code_as_text: await run((s) => s.close("4000", "t")),
    };
  }

  async ws_attachments() {
    const [, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    const attach = (v) => capS(() => {
      server.serializeAttachment(v);
      return server.deserializeAttachment();
    });
    return {
      fresh: capS(() => server.deserializeAttachment()),
      object: attach({ a: 1, b: [1, 2], c: "x" }),
      number: attach(2.5),
      date: attach(new Date(86400000)),
      map: attach(new Map([["k", 1]])),
      null_value: attach(null),
      limit_string: attach("a".repeat(16380)),
      over_limit: attach("a".repeat(16381)),
      after_failed: capS(() => server.deserializeAttachment()),
      copy_not_live: capS(() => {
        const v = { n: 1 };
        server.serializeAttachment(v);
        v.n = 2;
        return server.deserializeAttachment();
      }),
    };
  }

  async ws_auto_response() {
    const ctx = this.ctx;
    const out = {};
    out.unset = capS(() => ctx.getWebSocketAutoResponse());
    out.too_big_request = capS(() => ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("a".repeat(2049), "b")));
    out.too_big_response_wide = capS(() => ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "\u00e9".repeat(1025))));
    out.exact_2048 = capS(() => ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("a".repeat(2048), "b")));
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    out.pair = capS(() => {
      const p = ctx.getWebSocketAutoResponse();
      return [p.request, p.response];
    });
    const [client, server] = Object.values(new WebSocketPair());
    ctx.acceptWebSocket(server);
    client.accept();
    const got = wsRecorder(client);
    out.timestamp_before = capS(() => ctx.getWebSocketAutoResponseTimestamp(server));
    const before = Date.now();
    client.send("ping");
    client.send("PING");
    client.send("ping ");
    await sleep(50);
    out.client_received = got;
    out.handler_saw = this.events.map((e) => e[1]);
    out.timestamp_is_date = capS(() => ctx.getWebSocketAutoResponseTimestamp(server) instanceof Date);
    out.timestamp_not_before_send = capS(() => ctx.getWebSocketAutoResponseTimestamp(server).getTime() >= before - 1000);
    ctx.setWebSocketAutoResponse();
    out.removed = capS(() => ctx.getWebSocketAutoResponse());
    out.timestamp_kept_after_removal = capS(() => ctx.getWebSocketAutoResponseTimestamp(server) instanceof Date);
    client.send("ping");
    await sleep(50);
    out.handler_saw_after_removal = this.events.map((e) => e[1]);
    out.not_a_socket = capS(() => ctx.getWebSocketAutoResponseTimestamp({}));
    return out;
  }

  async ws_event_timeouts() {
    const ctx = this.ctx;
    const timeout = (v) => capS(() => {
      ctx.setHibernatableWebSocketEventTimeout(v);
      return ctx.getHibernatableWebSocketEventTimeout();
    });
    return {
      unset: capS(() => ctx.getHibernatableWebSocketEventTimeout()),
      numeric_text: timeout("250"),
      fraction: timeout(1500.9),
      nothing: timeout(undefined),
      one: timeout(1),
      two_pow_32: timeout(4294967296),
      two_pow_32_plus_7: timeout(4294967303),
      nan: timeout(NaN),
      bool: timeout(true),
    };
  }

  async ws_accept_errors() {
    const ctx = this.ctx;
    const pair = () => Object.values(new WebSocketPair());
    return {
      after_accept: capS(() => {
        const [, s] = pair();
        s.accept();
        ctx.acceptWebSocket(s);
      }),
      twice: capS(() => {
        const [, s] = pair();
        ctx.acceptWebSocket(s);
        ctx.acceptWebSocket(s);
      }),
      peer_accepted: capS(() => {
        const [c, s] = pair();
        c.accept();
        ctx.acceptWebSocket(s);
      }),
      accept_after_hibernatable: capS(() => {
        const [, s] = pair();
        ctx.acceptWebSocket(s);
        s.accept();
      }),
      accept_twice: capS(() => {
        const [, s] = pair();
        s.accept();
        s.accept();
        return "ok";
      }),
      both_ends: capS(() => {
        const [c, s] = pair();
        c.accept();
        s.accept();
        return [c.readyState, s.readyState];
      }),
    };
  }
}

// The request body read as `mode` says, or the error that gave.
async function readBody(request, mode) {
  const out = { body_is_null: request.body === null, used_before: request.bodyUsed };
  try {
    if (mode === "reader") {
      const reader = request.body.getReader();
      const chunks = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(...value);
      }
      out.value = enc(new Uint8Array(chunks));
    } else if (mode === "text") out.value = await request.text();
    else if (mode === "bytes") out.value = enc(new Uint8Array(await request.arrayBuffer()));
    else if (mode === "json") out.value = enc(await request.json());
    else if (mode === "twice") {
      out.value = await request.text();
      out.again = await request.text();
    }
  } catch (e) {
    // The Python SDK's Request checks bodyUsed itself and raises OSError("Body already used")
    // (workers/request.py, _raise_if_failed) before JavaScript would throw this TypeError.
    out.error = e instanceof TypeError && /already been used/.test(e.message)
      ? { type: "py:OSError", message: "Body already used" } : errOf(e);
  }
  out.used_after = request.bodyUsed;
  return out;
}

// A response of the given kind (ConfBDO's /respond).
function respondWith(kind) {
  switch (kind) {
    case "headers":
      return new Response("ok", { headers: [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"], ["X-Y", "1"], ["x-y", "2"], ["X-A", "z"]] });
    case "status-text": return new Response("x", { status: 299, statusText: "Fine" });
    case "teapot": return new Response("x", { status: 418 });
    // the SDK passes statusText only when it is not empty (Response._create_options)
    case "empty-text": return new Response("x", { status: 201 });
    case "redirect": return Response.redirect("http://do/landed", 302);
    case "no-content": return new Response(null, { status: 204 });
    case "not-modified": return new Response(null, { status: 304 });
    // the SDK's Response.json(data) is new Response(json.dumps(data)) with the JSON type
    case "json": return new Response('{"a": [1, 2]}', { headers: { "content-type": "application/json" } });
  }
  return new Response("unknown kind", { status: 400 });
}

// A socket to ConfBDO `name` through its fetch handler (a hibernatable server end there), or the
// failed upgrade's status.
async function openSocket(env, name) {
  const resp = await env.CONFB.getByName(name).fetch("http://do/ws", { headers: { Upgrade: "websocket" } });
  const ws = resp.webSocket;
  ws.accept();
  return { status: resp.status, ws };
}

// What the object saw as request.url (or the error stub.fetch threw), for each URL.
async function urlsSeen(env, name, urls) {
  const stub = env.CONFB.getByName(name);
  const out = {};
  for (const [k, u] of Object.entries(urls)) out[k] = await cap(async () => JSON.parse(await (await stub.fetch(u)).text()).url);
  return out;
}

const CONF_B_SCENARIOS = {
  // new WebSocket(url): the constructor's checks, the CONNECTING state, and a handshake that
  // fails (workerd refuses 127.0.0.1:1; the emulator's outbound answers 200, not 101).
  async ws_client(env) {
    const out = {};
    for (const [k, args] of Object.entries({ ftp: ["ftp://x/"], https: ["https://x/"], relative: ["/rel"], fragment: ["ws://x/#f"],
      dup_protocols: ["ws://x/", ["a", "a"]], bad_protocol: ["ws://x/", "a b"] })) {
      out[k] = capS(() => new WebSocket(...args).url);
    }
    const ws = new WebSocket("ws://127.0.0.1:1/x?y");
    out.initial = [enc(ws.readyState), ws.url, ws.protocol, ws.extensions, ws.binaryType];
    out.send_connecting = capS(() => ws.send("x"));
    const events = [];
    for (const k of ["open", "error", "close", "message"]) {
      ws.addEventListener(k, (e) => events.push(k === "close" ? [k, enc(e.code), e.reason, e.wasClean] : [k]));
    }
    for (let i = 0; i < 100 && !events.some((e) => e[0] === "close"); i++) await sleep(20);
    out.events = events;
    out.state_after = enc(ws.readyState);
    out.close_after = capS(() => (ws.close(), "ok"));
    return out;
  },
  // Big binary messages from a client: production refuses one over 32 MiB (1009); workerd does not.
  async ws_message_size(env) {
    const out = {};
    for (const size of [1048577, 33554432, 33554433]) {
      const { ws } = await openSocket(env, "size-" + size);
      const ev = [];
      ws.addEventListener("message", (e) => ev.push(e.data));
      ws.addEventListener("close", (e) => ev.push(["close", enc(e.code), e.reason, e.wasClean]));
      ws.send(new Uint8Array(size));
      for (let i = 0; i < 100 && ev.length === 0; i++) await sleep(20);
      out[String(size)] = { events: ev, state: enc(ws.readyState) };
    }
    return out;
  },
  // A client sends, closes, then tries to send again: the object gets the message, then the close.
  async ws_close_handler_order(env) {
    const name = "close-order";
    const { ws } = await openSocket(env, name);
    ws.send("a");
    ws.close(1000, "done");
    const late = capS(() => ws.send("b"));
    return { late_send: late, client_state: enc(ws.readyState), handler_events: await env.CONFB.getByName(name).events_seen(2) };
  },
  // The standard API: from 2026-04-07 the runtime answers a Close frame itself and readyState is
  // CLOSED in the close listener; before, CLOSING, and the client waits.
  async ws_close_reply_standard(env) {
    const name = "close-reply-standard";
    const resp = await env.CONFB.getByName(name).fetch("http://do/ws-standard", { headers: { Upgrade: "websocket" } });
    const ws = resp.webSocket;
    ws.accept();
    const closed = closedWithin(ws, 1000);
    ws.close(4000, "client bye");
    const seen = await closed;
    const events = await env.CONFB.getByName(name).events_seen(1);
    return { client_saw: seen, client_state: enc(ws.readyState), listener_events: events };
  },
  // Codes and reasons as the object's webSocketClose receives them from a client.
  async ws_close_codes_from_client(env) {
    const out = {};
    for (const [k, args] of Object.entries({ none: [], code_1000: [1000], code_3000_reason: [3000, "ré"], code_4999: [4999, ""] })) {
      const name = "close-codes-" + k;
      const { ws } = await openSocket(env, name);
      ws.close(...args);
      out[k] = await env.CONFB.getByName(name).events_seen(1);
    }
    return out;
  },
  http_url_paths: (env) => urlsSeen(env, "urls", {
    space: "http://do/a b", unicode: "http://do/é", encoded_kept: "http://do/%41%2f", dot_dot_encoded: "http://do/a/%2e%2E/b",
    dots: "http://do/a/./b/../c", backslashes: "http://do\\a\\b", double_slash: "http://do/a//b", empty_query: "http://do/x?",
    query_unicode: "http://do/x?a=é&b=%20", fragment: "http://do/x#frag", query_and_fragment: "http://do/x?q=a#f",
    bad_escape: "http://do/%zz", specials: "http://do/`{}|^", query_quote: "http://do/x?q='\"<>",
  }),
  http_url_hosts: (env) => urlsSeen(env, "hosts", {
    upper_scheme_host: "HTTP://DO.EXAMPLE/x", ipv4_port_80: "http://127.0.0.1:80/x", ipv6: "http://[::1]:8080/x",
    userinfo: "http://u:p@do/x", trailing_dot: "http://do./x", port_leading_zeros: "http://do:0080/x",
    https_443_no_path: "https://do:443", http_443: "http://do:443/x", idna: "http://éxample.com/x",
  }),
  http_url_invalid: (env) => urlsSeen(env, "bad-urls", {
    relative: "do/x", no_host: "http://", port_too_big: "http://do:99999/", space_in_host: "http://a b/", empty: "",
  }),
  async http_methods(env) {
    const stub = env.CONFB.getByName("methods");
    const out = {};
    for (const m of ["post", "patch", "Delete", "put", "options", "FOO", "get", "head"]) {
      out[m] = await cap(async () => {
        const r = await stub.fetch("http://do/m", { method: m });
        const t = await r.text();
        return t ? JSON.parse(t).method : [r.status, t];
      });
    }
    out.get_with_body = await cap(() => stub.fetch("http://do/m", { method: "GET", body: "x" }));
    return out;
  },
  async http_request_headers(env) {
    const r = await env.CONFB.getByName("headers").fetch("http://do/headers", {
      method: "POST", body: "b",
      headers: [["X-B", "1"], ["x-a", "2"], ["X-A", "3"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["Content-Type", "text/plain"]],
    });
    return { pairs: JSON.parse(await r.text()) };
  },
  // A plain GET through the stub, as the object sees it: no cf object, redirect mode, no body.
  async http_request_misc(env) {
    const stub = env.CONFB.getByName("misc");
    const seen = async (init) => JSON.parse(await (await stub.fetch("http://do/misc?x=1", init)).text());
    return {
      get: await seen(undefined),
      manual: await seen({ redirect: "manual" }),
      cf_given: await seen({ cf: { colo: "AMS" } }),
      delete_empty_body: await seen({ method: "DELETE", body: "" }),
    };
  },
  async http_response_headers(env) {
    const r = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=headers");
    return {
      pairs: [...r.headers],
      get_set_cookie: r.headers.get("set-cookie"),
      get_x_y: r.headers.get("X-Y"),
      has_x_a: r.headers.has("x-a"),
      missing: r.headers.get("nope"),
    };
  },
  async http_status_text(env) {
    const stub = env.CONFB.getByName("respond");
    const out = {};
    for (const kind of ["status-text", "teapot", "empty-text", "json"]) {
      const r = await stub.fetch("http://do/respond?kind=" + kind);
      out[kind] = [enc(r.status), r.statusText, await r.text()];
    }
    const made = (statusText) => {
      try {
        const r = new Response(null, { status: 200, statusText });
        return { ok: r.statusText };
      } catch (e) {
        return { err: { type: e.name === "TypeError" ? "py:TypeError" : e.name, message: e.message } };
      }
    };
    out.constructed_default = new Response(null).statusText;
    out.constructed_newline = made("a\nb");
    out.constructed_latin1 = made("été");
    out.constructed_euro = made("€");
    return out;
  },
  async http_redirects(env) {
    const r = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=redirect");
    const out = { followed: [enc(r.status), r.redirected, r.url, r.headers.get("location"), await r.text()] };
    const manual = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=redirect", { redirect: "manual" });
    out.manual = [enc(manual.status), manual.redirected, manual.headers.get("location")];
    const made = (url, status) => {
      try {
        const x = Response.redirect(url, status);
        return { ok: [enc(x.status), x.headers.get("location")] };
      } catch (e) {
        const type = { RangeError: "py:ValueError", TypeError: "py:TypeError" }[e.name] ?? e.name;
        return { err: { type, message: e.message } };
      }
    };
    out.made_301 = made("http://do/a b", 301);
    out.made_300 = made("http://do/", 300);
    out.made_relative = made("/x", 302);
    return out;
  },
  async http_null_bodies(env) {
    const stub = env.CONFB.getByName("respond");
    const out = {};
    for (const kind of ["no-content", "not-modified"]) {
      const r = await stub.fetch("http://do/respond?kind=" + kind);
      out[kind] = [enc(r.status), r.body === null, await r.text()];
    }
    return out;
  },
  async http_request_body(env) {
    const stub = env.CONFB.getByName("body");
    const post = async (mode, body) => JSON.parse(await (await stub.fetch("http://do/body?mode=" + mode, { method: "POST", body })).text());
    return {
      reader: await post("reader", "héllo"),
      text: await post("text", "héllo"),
      bytes: await post("bytes", "héllo"),
      json: await post("json", '{"a": [1, 2.5, null]}'),
      twice: await post("twice", "x"),
      get_has_no_body: JSON.parse(await (await stub.fetch("http://do/body?mode=none")).text()),
      empty_post: await post("text", ""),
    };
  },
  async http_response_body_twice(env) {
    const stub = env.CONFB.getByName("respond");
    const r = await stub.fetch("http://do/respond?kind=json");
    const out = { first: await cap(() => r.json()), used: r.bodyUsed };
    out.second = await cap(() => r.text());
    const r2 = await stub.fetch("http://do/respond?kind=status-text");
    const c = r2.clone();
    out.clone_both = [await r2.text(), await c.text()];
    out.clone_after_read = await cap(() => r2.clone());
    return out;
  },
  // workerd has no queue limit of its own: 1,100 concurrent calls to one object all succeed.
  async overload_burst(env) {
    const stub = env.CONFB.getByName("burst");
    const results = await Promise.allSettled(Array.from({ length: 1100 }, () => stub.tick()));
    const out = { ok: 0, errors: {} };
    for (const r of results) {
      if (r.status === "fulfilled") out.ok += 1;
      else out.errors[r.reason.message] = (out.errors[r.reason.message] ?? 0) + 1;
    }
    return { ok: enc(out.ok), errors: enc(out.errors) };
  },

  // The client closes; the object's webSocketClose does not close back. From 2026-04-07
  // (web_socket_auto_reply_to_close) the runtime answers the Close frame itself and readyState
  // is CLOSED in the handler; before, it is CLOSING and no reply is sent.
  async ws_close_reply(env) {
    const name = "close-reply";
    const { status, ws } = await openSocket(env, name);
    const closed = closedWithin(ws, 1000);
    ws.close(4000, "client bye");
    const seen = await closed;
    const events = await env.CONFB.getByName(name).events_seen(1);
    return { status: enc(status), client_saw: seen, client_state: enc(ws.readyState), handler_events: events };
  },
  // Messages through a real upgrade: text, binary, and a close the object starts.
  async ws_upgrade_messages(env) {
    const name = "upgrade-messages";
    const { status, ws } = await openSocket(env, name);
    const got = wsRecorder(ws);
    ws.send("hello");
    ws.send(new Uint8Array([7, 8]));
    ws.send("close-me");
    await sleep(100);
    const events = await env.CONFB.getByName(name).events_seen(3);
    return { status: enc(status), client_got: got, client_state: enc(ws.readyState), handler_events: events };
  },
};
Object.assign(SCENARIOS, CONF_B_SCENARIOS);

// /at/<date>/<rest>: the same request to this Worker running at compatibility date <date>.
function atDate(env, url, date) {
  const service = env["AT_" + String(date).replaceAll("-", "_")];
  if (!service) return json({ error: "no service for date " + date }, 404);
  const rest = url.pathname.split("/").slice(3).join("/");
  return service.fetch("http://at/" + rest + url.search);
}
// ---- end section: conf-b ----

// ---- section: conf-a ----
// Errors as the Python SDK reads a stored JS Error: Exception(error.toString()).
function pyErrors(x) {
  if (Array.isArray(x)) return x.map(pyErrors);
  if (x && typeof x === "object") {
    if (x.error && x.error.type === "Error" && Object.keys(x).length === 1) {
      return { error: { type: "Error", message: x.error.message ? "Error: " + x.error.message : "Error" } };
    }
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, pyErrors(v)]));
  }
  return x;
}

const CONF_A_SCENARIOS = {
  async st_bcw_non_function_no_reset(env) {
    const stub = env.TEST.getByName("st-bcw-uncaught");
    await stub.put_value("survives", 1);
    const before = await stub.rand_of();
    return {
      number: await cap(() => stub.st_bcw_uncaught(5), errFlags),
      text: await cap(() => stub.st_bcw_uncaught("f"), errFlags),
      same_instance: (await stub.rand_of()) === before,
      stored: await stub.get_value("survives"),
    };
  },
  async st_bcw_caught_throw(env) {
    const stub = env.TEST.getByName("st-bcw-caught");
    const before = await stub.rand_of();
    const res = await cap(() => stub.st_bcw_caught(), errFlags);
    const after = await env.TEST.getByName("st-bcw-caught").rand_of();
    return { result: res, constructor_ran_again: before !== after };
  },
  async val_shared_refs_rpc(env) {
    const r = await env.TEST.getByName("val-shared-rpc").rpc_shared();
    return { lists_same: r.a === r.b, sets_same: r.s1 === r.s2, value: enc(r) };
  },
  async rpc_values(env) {
    const stub = env.TEST.getByName("rpc-values");
    const r = await stub.rpc_echo(3, -0, NaN, Infinity, 2n ** 60n, new Uint8Array([1, 2]), new Date(Date.UTC(2020, 0, 1)),
      { a: 1, n: null }, [null, 2], new Set([1]), 1.5, "s", true);
    return { seen: r.seen, back: enc(r.back) };
  },
  async rpc_keyword_arguments(env) {
    const stub = env.TEST.getByName("rpc-kwargs");
    const seen = async (p) => (await p).seen;
    return {
      positional_and_keywords: await seen(stub.rpc_echo(1, { x: 2, y: null })),
      keywords_only: await seen(stub.rpc_echo({ x: 1 })),
      nothing: await seen(stub.rpc_echo()),
      none_argument: await seen(stub.rpc_echo(null)),
    };
  },
  async rpc_function_argument(env) {
    const stub = env.TEST.getByName("rpc-fn-arg");
    let count = 0;
    return {
      sync_fn: await cap(() => stub.rpc_call_back((n) => n * 2, 21)),
      async_fn: await cap(() => stub.rpc_call_back(async (n) => { await sleep(1); return n + 1; }, 1)),
      text_fn: await cap(() => stub.rpc_call_twice((s) => s + "!", "a")),
      closure_state: await cap(() => stub.rpc_call_twice(() => ++count, null)),
      count_after: count,
      fraction_result: await cap(() => stub.rpc_call_back((n) => n + 0.5, 1)),
    };
  },
  async rpc_function_result(env) {
    const stub = env.TEST.getByName("rpc-fn-result");
    const inc = await stub.rpc_make_counter(10);
    const tools = await stub.rpc_make_tools(100);
    return {
      first: await cap(() => inc(1)),
      second: await cap(() => inc(5)),
      label: tools.label,
      tools_inc: await cap(() => tools.inc(2)),
      tools_get: await cap(() => tools.get()),
      other_counter: await cap(async () => (await stub.rpc_make_counter(0))(7)),
    };
  },
  async rpc_stub_argument(env) {
    const stub = env.TEST.getByName("rpc-stub-arg");
    return {
      stub_as_argument: await cap(() => stub.rpc_call_stub(env.OTHER.getByName("peer"))),
      id_as_argument: await cap(async () => (await stub.rpc_echo(env.TEST.idFromName("x"))).seen),
    };
  },
  async rpc_reserved_and_private(env) {
    const stub = env.TEST.getByName("rpc-reserved");
    return {
      web_socket_close: await cap(() => stub.webSocketClose(null, 1000, "", true)),
      web_socket_error: await cap(() => stub.webSocketError(null, null)),
      private_method: await cap(() => stub._rpc_private()),
      works_after: await cap(() => stub.rand_of().then((r) => typeof r)),
    };
  },
  async rpc_python_entrypoint(env) {
    const stub = env.TEST.getByName("rpc-entrypoint");
    return {
      missing: await cap(() => stub.no_such_method(), errFlags),
      attribute_not_callable: await cap(() => stub.field(), errFlags),
      static_method: await cap(() => stub.rpc_static()),
      works_after: await cap(() => stub.rpc_static()),
    };
  },
  async rpc_function_after_call(env) {
    const stub = env.TEST.getByName("rpc-fn-after");
    const kept = await stub.rpc_keep_fn((n) => n + 1);
    return { kept, call_after: await cap(() => stub.rpc_call_kept(1), errFlags) };
  },
  async rpc_size_limit(env) {
    const stub = env.TEST.getByName("rpc-size");
    const MiB = 1024 * 1024;
    return {
      arg_under: await cap(() => stub.rpc_length("x".repeat(32 * MiB - 64))),
      arg_over: await cap(() => stub.rpc_length("x".repeat(32 * MiB + 1)), errFlags),
      result_under: await cap(async () => (await stub.rpc_big(32 * MiB - 64)).length),
      result_over: await cap(async () => (await stub.rpc_big(32 * MiB + 1)).length, errFlags),
    };
  },
  async rpc_stub_result(env) {
    const stub = env.TEST.getByName("rpc-stub-result");
    const r = await stub.rpc_peer_stub();
    return {
      label: r.label,
      call_returned_stub: await cap(() => r.peer.ping()),
      stub_in_argument_dict: await cap(async () => (await stub.rpc_echo({ s: env.OTHER.getByName("p2") })).seen.length),
    };
  },
  async rpc_error_values(env) {
    const stub = env.TEST.getByName("rpc-error-values");
    const r = await stub.rpc_errors_as_values();
    const seen = await stub.rpc_echo(new Error("as argument"));
    return pyErrors({ result: enc(r), seen: seen.seen });
  },
  async id_new_unique_arguments(env) {
    const U = (o) => capS(() => lowerHex64(env.TEST.newUniqueId(o).toString()));
    return {
      none: U(undefined),
      text: U("eu"),
      bool: U(true),
      list: U([]),
      jurisdiction_fedramp: U({ jurisdiction: "fedramp" }),
      jurisdiction_empty: U({ jurisdiction: "" }),
      unknown_option: U({ other: 1 }),
      namespace_jurisdiction: capS(() => typeof env.TEST.jurisdiction("eu")),
    };
  },
  async id_odd_names(env) {
    const hex = (n) => capS(() => env.TEST.idFromName(n).toString());
    const same = (a, b) => capS(() => env.TEST.idFromName(a).toString() === env.TEST.idFromName(b).toString());
    return {
      none_is_undefined: same(undefined, "undefined"),
      none_name: capS(() => env.TEST.idFromName(undefined).name),
      bool: same(true, "true"),
      float_1_5: same(1.5, "1.5"),
      whole_float: same(2, "2"),
      neg_zero: same(-0, "0"),
      bigint: same(2n ** 64n, "18446744073709551616"),
      nul_char: hex("a\u0000b"),
      space: hex(" "),
      emoji_name: capS(() => env.TEST.idFromName("\u{1F600}").name),
    };
  },
  async id_from_string_odd(env) {
    const s = env.TEST.idFromName("foo").toString();
    const parse = (v) => capS(() => env.TEST.idFromString(v).toString());
    return {
      none: parse(undefined),
      bool: parse(true),
      mixed_case: parse(s.slice(0, 32).toUpperCase() + s.slice(32)),
      trailing_newline: parse(s + "\n"),
      fullwidth_digits: parse("\uff10".repeat(64)),
      name_of_parsed: capS(() => env.TEST.idFromString(s).name),
    };
  },
  async id_get_across(env) {
    const other = env.OTHER.idFromName("x");
    const mine = env.TEST.idFromName("x");
    return {
      get_other_namespace: capS(() => env.TEST.get(other).id.toString() === other.toString()),
      call_other_namespace: await cap(async () => (await env.TEST.get(other).who()).id === other.toString()),
      get_string: capS(() => env.TEST.get(mine.toString()).id.toString()),
      get_none: capS(() => env.TEST.get(undefined).id.toString()),
      get_location_hint: capS(() => env.TEST.get(mine, { locationHint: "enam" }).id.equals(mine)),
      get_bad_hint: capS(() => env.TEST.get(mine, { locationHint: "mars" }).id.equals(mine)),
      get_options_number: capS(() => env.TEST.get(mine, 5).id.equals(mine)),
      get_by_name_none: capS(() => env.TEST.getByName(undefined).name ?? null),
      get_by_name_number: capS(() => env.TEST.getByName(5).name ?? null),
    };
  },
  async id_equals_and_text(env) {
    const id = env.TEST.idFromName("x");
    return {
      str_is_hex: String(id) === id.toString(),
      equals_from_string: capS(() => id.equals(env.TEST.idFromString(id.toString()))),
      equals_stub_id: capS(() => id.equals(env.TEST.get(id).id)),
      stub_id_equals: capS(() => env.TEST.get(id).id.equals(id)),
      equals_number: capS(() => id.equals(5)),
      equals_nothing: capS(() => id.equals()),
      equals_stub: capS(() => id.equals(env.TEST.get(id))),
      stub_name_from_string: capS(() => env.TEST.get(env.TEST.idFromString(id.toString())).name ?? null),
      stub_name_from_name: capS(() => env.TEST.get(id).name ?? null),
    };
  },
};
Object.assign(SCENARIOS, CONF_A_SCENARIOS);
// ---- end section: conf-a ----

// ---- section: perf-caller ----
// The order in which the continuations of calls in flight together run, when the object answers
// them in the order they were sent: a fetch (redirects followed, the default), a fetch with
// redirect "manual", an RPC call, and a fetch that is redirected once.
const PERF_CALLER_SCENARIOS = {
  async call_reply_order(env) {
    const stub = env.CONFB.getByName("reply-order");
    await stub.tick(); // the object exists before the calls race
    const send = {
      fetch: () => stub.fetch("http://do/respond?kind=teapot"),
      manual: () => stub.fetch("http://do/respond?kind=teapot", { redirect: "manual" }),
      rpc: () => stub.tick(),
      redirected: () => stub.fetch("http://do/respond?kind=redirect"),
    };
    const out = {};
    for (const calls of [["fetch", "rpc"], ["rpc", "fetch"], ["manual", "fetch"], ["fetch", "manual"],
      ["fetch", "rpc", "manual"], ["redirected", "rpc"], ["rpc", "redirected", "fetch"]]) {
      const order = [];
      await Promise.all(calls.map((call) => send[call]().then(() => order.push(call))));
      out[calls.join(",")] = order;
    }
    return out;
  },
  async call_error_order(env) {
    const stub = env.TEST.getByName("error-order");
    await stub.who();
    const send = {
      fetch: () => stub.fetch("http://do/echo-url"),
      fetch_error: () => stub.fetch("http://do/not-a-response"),
      manual_error: () => stub.fetch("http://do/not-a-response", { redirect: "manual" }),
      rpc: () => stub.who(),
      rpc_error: () => stub.throw_error(),
    };
    const out = {};
    for (const calls of [["fetch_error", "rpc"], ["fetch_error", "fetch"], ["fetch", "fetch_error"],
      ["manual_error", "fetch"], ["fetch_error", "manual_error"], ["fetch", "rpc_error"], ["rpc_error", "fetch_error"]]) {
      const order = [];
      const noted = (call) => () => order.push(call);
      await Promise.all(calls.map((call) => send[call]().then(noted(call), noted(call))));
      out[calls.join(",")] = order;
    }
    return out;
  },
};
Object.assign(SCENARIOS, PERF_CALLER_SCENARIOS);
// ---- end section: perf-caller ----

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    try {
      if (parts[0] === "noop") return new Response("ok");
      if (parts[0] === "at") return await atDate(env, url, parts[1]); // section conf-b
      if (parts[0] === "confb" && parts.length === 3) return json(await env.CONFB.getByName(parts[1])[parts[2]]()); // section conf-b
      if (parts[0] === "count") return await env.TEST.getByName(parts[1] || "bench").fetch("http://do/increment");
      if (parts[0] === "sc" && SCENARIOS[parts[1]]) return json(await SCENARIOS[parts[1]](env, url));
      if (parts[0] === "rpc" && parts.length === 3) return json(await rpc(env, parts[1], parts[2]));
      return json({ error: "no route " + url.pathname }, 404);
    } catch (e) {
      return json({ uncaught: errFlags(e), stack: e && e.stack }, 500);
    }
  },
};
