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
//   {type: "init"}                                  -> {type: "ready", pyodide}
//   {type: "runKata", id, kata, source}             -> {type: "test", ...} per test, {type: "kataResult", ...}
//   {type: "runCell", id, chapter, index, source}   -> {type: "cellResult", ...}
//   {type: "resetChapter", id, chapter}             -> {type: "chapterReset", id, chapter}
//   {type: "widget", id, view, action, argument}    -> {type: "widgetResult", id, view: {view, objects, html, message}}
//   {type: "hangVerdict", id, kata, test}           -> {type: "kataResult", ...} (the verdict of a run the page stopped)
// While loading: {type: "progress", text, loaded, total}. A failure: {type: "error", id, message};
// with `fatal: true` this worker's Python is gone (its stack ran out): the page starts a new worker.
// Messages are handled one at a time, in order. The page owns the hang guard: learner code that
// never returns keeps this worker busy, and the page terminates it and starts a new one.

import { loadPyodide } from "../pyodide/pyodide.mjs";

const ASSETS = new URL("../pyodide/", import.meta.url);

let api = null; // the Python side: durable_dojo._browser.worker
let loading = null;
let dead = null; // Pyodide's fatal error, after which it can run nothing more

const post = (message) => self.postMessage(message);

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
  post({ type: "ready", pyodide: pyodide.version, seconds: (Date.now() - started) / 1000 });
}

function ready() {
  if (loading === null) loading = load();
  return loading;
}

async function handle(message) {
  const id = message.id;
  if (dead) return post({ type: "error", id, fatal: true, message: dead });
  try {
    await ready();
    switch (message.type) {
      case "init":
        return;
      case "runKata": {
        const kata = message.kata ?? message.id;
        const onTest = (name) => post({ type: "test", id, kata, name });
        const result = JSON.parse(api.run_kata(kata, message.source, onTest));
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
  }
}

let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};
