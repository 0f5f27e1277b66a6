// The in-browser runner: Python (Pyodide) in a Web Worker, running the kata tests and the
// chapters' cells on the emulator. A module worker, created by the page on the first Run:
//
//     const worker = new Worker(new URL("assets/dojo/runner-worker.js", base), {type: "module"});
//
// Everything it loads comes from the site itself, next to it in ../pyodide/ (written at build
// time by site/vendor.py): Pyodide's core, the pure-Python wheels pytest needs, and the
// project's bundle (the emulator, the kata files and tests). vendor.json lists them with their
// hashes; the hash goes into each address, so a browser never mixes files of two builds.
//
// Messages: see the contract in the project's notes (web-core.md). In short:
//   {type: "init", interrupt?}                      -> {type: "ready", pyodide, interrupt: "shared" | "clock"}
//   {type: "runKata", id, kata, source, limits?}    -> {type: "test", ...} per test, {type: "kataResult", ...}
//                                                      ({type: "stuck", id, ...the hung verdict} if interrupted)
//   {type: "runCell", id, chapter, index, source}   -> {type: "cellResult", ...}
//   {type: "resetChapter", id, chapter}             -> {type: "chapterReset", id, chapter}
//   {type: "widget", id, view, action, argument}    -> {type: "widgetResult", id, view: {view, objects, html, message}}
//   {type: "hangVerdict", id, kata, test}           -> {type: "kataResult", ...} (the verdict of a run the page stopped)
// While loading: {type: "progress", text, loaded, total}. A failure: {type: "error", id, message};
// with `fatal: true` this worker's Python is gone (its stack ran out): the page starts a new worker.
// Messages are handled one at a time, in order.
//
// The hang guard. Learner code that never returns keeps this worker busy; Pyodide reads an
// "interrupt buffer" while Python runs (every few dozen bytecode jumps and calls) and raises
// KeyboardInterrupt where the code is when it finds SIGINT there. Python then ends the run with
// the hung verdict naming the learner's line (durable_dojo._browser.host.interrupts), and this
// same worker runs the next request. Two sources of the SIGINT:
//   - a cross-origin isolated page sends `interrupt`, an Int32Array over a SharedArrayBuffer,
//     with `init`, and writes SIGINT into it at its deadline;
//   - elsewhere the page sends its deadlines with each request (`limits: {firstMs, perTestMs}`:
//     from the start, then from each test's start) and the buffer here reads the clock.
// Code stuck in C (which Python never leaves to look at the buffer) or that catches the
// KeyboardInterrupt and goes on: the page gives up after a short grace and ends this worker.

import { loadPyodide } from "../pyodide/pyodide.mjs";

const ASSETS = new URL("../pyodide/", import.meta.url);

let api = null; // the Python side: durable_dojo._browser.worker
let loading = null;
let dead = null; // Pyodide's fatal error, after which it can run nothing more

const post = (message) => self.postMessage(message);

const SIGINT = 2;
let shared = null; // the page's Int32Array over a SharedArrayBuffer (cross-origin isolated pages)
let deadline = Infinity; // elsewhere: when (performance.now()) this worker interrupts itself
// What Pyodide reads as its interrupt buffer where there is no shared one: slot 0 holds SIGINT
// once the deadline has passed, once (Pyodide clears the slot after reading it).
const clock = {
  get 0() {
    if (performance.now() < deadline) return 0;
    deadline = Infinity;
    return SIGINT;
  },
  set 0(value) {},
};
// From now, the run must end within `ms` (a new deadline replaces the last one).
function allow(ms) {
  if (!shared && ms != null) deadline = performance.now() + ms;
}
function quiet() {
  deadline = Infinity;
  if (shared) Atomics.store(shared, 0, 0); // a SIGINT written after the last run ended is void
}

async function fetchBytes(entry, progress) {
  const url = new URL(`${entry.path}?v=${entry.sha256.slice(0, 16)}`, ASSETS);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${entry.path}: ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  progress(bytes.length);
  return bytes;
}

async function load() {
  const started = Date.now();
  post({ type: "progress", text: "Loading Python…" });
  const response = await fetch(new URL("vendor.json", ASSETS), { cache: "no-cache" });
  if (!response.ok) throw new Error(`vendor.json: ${response.status} ${response.statusText}`);
  const vendor = await response.json();
  const total = vendor.bytes;
  let loaded = 0;
  const progress = (n) => {
    loaded += n;
    post({ type: "progress", text: "Loading Python…", loaded, total });
  };
  // The wheels and the bundle download while Pyodide starts.
  const files = [...vendor.wheels, vendor.bundle, ...(vendor.bytecode ? [vendor.bytecode] : [])];
  const packages = Promise.all(files.map((entry) => fetchBytes(entry, progress)));
  const pyodide = await loadPyodide({
    indexURL: ASSETS.protocol === "file:" ? decodeURIComponent(ASSETS.pathname) : ASSETS.href,
    stdout: () => {},
    stderr: () => {},
  });
  progress(vendor.core.reduce((sum, entry) => sum + entry.size, 0)); // fetched by loadPyodide itself
  const bytes = await packages;
  const sitePackages = `/lib/python${vendor.python}/site-packages`;
  vendor.wheels.forEach((entry, i) => pyodide.unpackArchive(bytes[i], "wheel", { extractDir: sitePackages }));
  // the bundle keeps the repository's layout: /dojo/src, /dojo/katas, /dojo/tests/katas
  pyodide.unpackArchive(bytes[vendor.wheels.length], "zip", { extractDir: vendor.project });
  if (vendor.bytecode) pyodide.unpackArchive(bytes[vendor.wheels.length + 1], "zip", { extractDir: "/" });
  pyodide.runPython(`import sys; sys.path.append("${vendor.project}/src")`);
  api = pyodide.pyimport("durable_dojo._browser.worker");
  api.start(vendor.project);
  pyodide.setInterruptBuffer(shared || clock);
  post({ type: "ready", pyodide: pyodide.version, interrupt: shared ? "shared" : "clock",
    seconds: (Date.now() - started) / 1000 });
}

function ready() {
  if (loading === null) loading = load();
  return loading;
}

async function handle(message) {
  const id = message.id;
  if (dead) return post({ type: "error", id, fatal: true, message: dead });
  if (message.type === "init" && message.interrupt instanceof Int32Array && !api) shared = message.interrupt;
  const limits = message.limits || {};
  try {
    await ready();
    quiet();
    allow(limits.firstMs);
    switch (message.type) {
      case "init":
        return;
      case "runKata": {
        const kata = message.kata ?? message.id;
        const onTest = (name) => {
          allow(limits.perTestMs);
          post({ type: "test", id, kata, name });
        };
        const onStuck = (verdict) => post({ type: "stuck", id, ...JSON.parse(verdict) });
        const result = JSON.parse(api.run_kata(kata, message.source, onTest, onStuck));
        return post({ type: "kataResult", id, ...result });
      }
      case "hangVerdict": {
        const result = JSON.parse(api.hang_verdict(message.kata, message.test ?? null));
        return post({ type: "kataResult", id, ...result });
      }
      case "runCell": {
        const result = JSON.parse(api.run_cell(message.chapter, message.index ?? 0, message.source));
        return post({ type: "cellResult", id, chapter: message.chapter, index: message.index, ...result });
      }
      case "widget": {
        const view = JSON.parse(api.widget(message.view, message.action, message.argument ?? null));
        return post({ type: "widgetResult", id, view });
      }
      case "resetChapter":
        api.reset_chapter(message.chapter);
        return post({ type: "chapterReset", id, chapter: message.chapter });
      default:
        return post({ type: "error", id, message: `unknown message type: ${message.type}` });
    }
  } catch (error) {
    const text = String(error && error.message ? error.message : error);
    if (error && error.pyodide_fatal_error) {
      // e.g. values nested so deep that WebAssembly's stack ran out: this Python is gone
      dead = `Python stopped with a fatal error (${text}). Run again to start a fresh one.`;
      return post({ type: "error", id, fatal: true, message: dead });
    }
    post({ type: "error", id, message: text });
  } finally {
    quiet();
  }
}

let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};
