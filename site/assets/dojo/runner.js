// Durable Dojo: Python in the reader's browser, for the kata and chapter pages.
//
// The Python (Pyodide, with the emulator and pytest) runs in a Web Worker, runner-worker.js,
// which this file starts on the first Run and talks to; nothing here loads from another host.
// This file also defines `window.dojo`, the API that automation (and the tests) use:
//
//   await dojo.ready()                    // Python is loaded (starts loading if it was not)
//   await dojo.runKata(id, source)        // -> {passed: [...], failed: [...], output: "..."}
//   await dojo.runChapter(name)           // -> {cells: N, errors: [...]}
//
// The hang guard: a Web Worker cannot be interrupted from outside, only ended. When a kata's
// test runs longer than the kata's timeout (katas.toml), the worker is terminated, the run
// ends with the words `dojo check` uses, and a fresh worker starts loading at once, so the
// page stays usable.
(function () {
  "use strict";

  const here = document.currentScript.src;
  const ROOT = new URL("../../", here).href; // assets/dojo/runner.js -> the site's root
  const WORKER_URL = new URL("runner-worker.js", here).href;
  // Before the first test starts, the run also imports pytest and collects the tests: as
  // `dojo check` allows its child process time to start, the page allows this much more. A
  // fresh worker's first run also imports the emulator inside its first test (measured: several
  // seconds on a busy machine), so until a worker has finished one run its tests get it too.
  const STARTUP_ALLOWANCE_MS = 30000;
  const CELL_TIMEOUT_MS = 60000; // a chapter's cell: generous, the chapters run in seconds
  const FATAL = /fatal error/i; // Pyodide's words when its interpreter cannot go on

  class Hung extends Error {}

  // One worker at a time; requests are answered in order (the worker runs one at a time).
  class Runner {
    constructor() {
      this.worker = null;
      this.loaded = null; // a promise: the worker reported ready
      this.pending = new Map(); // request id -> {resolve, reject, onEvent}
      this.nextId = 1;
      this.queue = Promise.resolve();
      this.listeners = new Set(); // status listeners: (state, text) => void
      this.state = "idle"; // idle | loading | ready | running
      this.warm = false; // the current worker has answered a request
    }

    on(listener) {
      this.listeners.add(listener);
      listener(this.state, "");
    }

    tell(state, text) {
      this.state = state;
      for (const listener of this.listeners) listener(state, text || "");
    }

    // Start the worker (if it is not running) and resolve when Python is loaded.
    ready() {
      if (this.loaded) return this.loaded;
      const worker = new Worker(WORKER_URL, { type: "module" }); // it imports Pyodide (an ES module)
      this.worker = worker;
      this.warm = false;
      this.tell("loading", "Loading Python in your browser (the first run only)…");
      this.loaded = new Promise((resolve, reject) => {
        worker.onmessage = (event) => this.receive(worker, event.data, resolve, reject);
        worker.onerror = (event) => {
          event.preventDefault();
          const error = new Error("Python stopped in this page: " + (event.message || "unknown error"));
          this.fail(worker, error);
          reject(error);
        };
      });
      this.loaded.catch(() => {}); // a failed load is reported to whoever waits on it
      worker.postMessage({ type: "init" });
      return this.loaded;
    }

    receive(worker, message, resolve, reject) {
      if (worker !== this.worker || !message) return; // a message from a worker already ended
      if (message.type === "progress") {
        this.tell("loading", describeProgress(message));
      } else if (message.type === "ready") {
        this.tell("ready", "");
        resolve();
      } else if (message.type === "error" && message.id === undefined) {
        const error = new Error(message.message || "Python could not be loaded");
        this.fail(worker, error);
        reject(error);
      } else if (message.id !== undefined && this.pending.has(message.id)) {
        const request = this.pending.get(message.id);
        if (/Result$|^chapterReset$/.test(message.type)) { // kataResult, cellResult, widgetResult...
          this.pending.delete(message.id);
          this.warm = true;
          request.resolve(message);
        } else if (message.type === "error") {
          const error = new Error(message.message || "the run failed");
          if (FATAL.test(error.message)) { // the interpreter died (e.g. its stack ran out): a fresh worker
            this.fail(worker, error);
            this.restart();
            return;
          }
          this.pending.delete(message.id);
          request.reject(error);
        } else if (request.onEvent) {
          request.onEvent(message); // e.g. {type: "test", name}: a test started
        }
      }
    }

    // End the worker (hung or broken), fail what it was doing, and start a fresh one.
    fail(worker, error) {
      if (worker !== this.worker) return;
      worker.terminate();
      this.worker = null;
      this.loaded = null;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
      this.tell("idle", "");
    }

    restart() {
      this.ready().catch(() => {});
    }

    // Send one request once the worker is ready and the previous one is answered.
    // guard(onEvent) -> {deadline(): ms from now, or null} decides when the run counts as hung.
    request(message, guard) {
      const run = this.queue.then(() => this.send(message, guard));
      this.queue = run.catch(() => {});
      return run;
    }

    async send(message, guard) {
      await this.ready();
      const worker = this.worker;
      const id = this.nextId++;
      this.tell("running", "");
      try {
        return await new Promise((resolve, reject) => {
          let timer = null;
          const arm = (ms) => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              const error = new Hung("hung");
              this.fail(worker, error);
              this.restart(); // a fresh worker takes over at once
            }, ms);
          };
          const done = (fn) => (value) => { clearTimeout(timer); fn(value); };
          this.pending.set(id, {
            resolve: done(resolve),
            reject: done(reject),
            onEvent: (event) => {
              if (guard.onEvent) guard.onEvent(event);
              if (event.type === "test") arm(guard.perTestMs + (this.warm ? 0 : STARTUP_ALLOWANCE_MS));
            },
          });
          arm(guard.firstMs);
          worker.postMessage(Object.assign({ id }, message));
        });
      } finally {
        if (this.worker === worker) this.tell("ready", "");
      }
    }
  }

  function describeProgress(message) {
    let text = message.text || "Loading Python…";
    if (message.total) {
      text += ` ${(message.loaded / 1e6).toFixed(1)} of ${(message.total / 1e6).toFixed(1)} MB`;
    }
    return text;
  }

  const runner = new Runner();

  // The manifest's data for every kata (assets/dojo/katas.json), fetched once when needed.
  let katas = null;
  function kataInfo(id) {
    katas = katas || fetch(ROOT + "assets/dojo/katas.json").then((r) => r.json());
    return katas.then((all) => {
      const kata = all[id];
      if (!kata) throw new Error(`no kata ${id}`);
      return kata;
    });
  }

  // Run a kata's tests on `source`. Resolves to the worker's result with `verdict`; a run that
  // overran the timeout resolves to a verdict of status "hung" with dojo check's message.
  async function checkKata(id, source, onEvent) {
    const kata = await kataInfo(id);
    let running = null;
    const timeoutMs = kata.timeout * 1000;
    const started = performance.now();
    try {
      return await runner.request({ type: "runKata", kata: id, source }, {
        firstMs: STARTUP_ALLOWANCE_MS + timeoutMs,
        perTestMs: timeoutMs,
        onEvent: (event) => {
          if (event.type === "test") running = event.name;
          if (onEvent) onEvent(event);
        },
      });
    } catch (error) {
      if (!(error instanceof Hung)) throw error;
      return hungResult(kata, running, (performance.now() - started) / 1000);
    }
  }

  // The verdict on a run the page stopped: dojo check's, made at build time by the runner's own
  // code (katas.json: site/pages.py hang_verdicts), with the test that was running and the time.
  function hungResult(kata, running, seconds) {
    const verdict = running ? kata.hang.test : kata.hang.none;
    const fill = (text) => text.replace("{test}", running || "");
    const lines = verdict.lines.map((line) => line.map(([text, style]) => [fill(text), style]));
    const head = lines[0];
    const last = head[head.length - 1];
    if (/^\s*\(0\.0 s\)$/.test(last[0])) last[0] = `  (${seconds.toFixed(1)} s)`;
    return {
      passed: [], failed: running ? [running] : [], lines,
      output: lines.map((line) => line.map(([text]) => text).join("")).join("\n"),
      verdict: { status: "hung", message: fill(verdict.message) },
    };
  }

  // The code cells of a chapter (assets/dojo/chapters/<name>.json), in order.
  function chapterCells(name) {
    return fetch(ROOT + `assets/dojo/chapters/${name}.json`).then((r) => {
      if (!r.ok) throw new Error(`no chapter ${name}`);
      return r.json();
    });
  }

  // Run one cell of a chapter; `first` starts the chapter's Python namespace afresh.
  function runCell(chapter, index, source, first) {
    const guard = { firstMs: CELL_TIMEOUT_MS, perTestMs: CELL_TIMEOUT_MS };
    const reset = first ? runner.request({ type: "resetChapter", chapter }, guard) : Promise.resolve();
    return reset.then(() => runner.request({ type: "runCell", chapter, index, source }, guard)).catch((error) => {
      if (!(error instanceof Hung)) throw error;
      const seconds = CELL_TIMEOUT_MS / 1000;
      return { outputs: [{ output_type: "error", ename: "Stopped",
        evalue: `the cell did not finish within ${seconds} s and was stopped`,
        traceback: [`The cell did not finish within ${seconds} s and was stopped. Likely cause: an infinite loop or a blocking call (time.sleep), or an await that never completes.`] }] };
    });
  }

  // Run every code cell of a chapter in order. onCell(index, result) sees each result.
  async function runChapter(name, onCell) {
    const chapter = await chapterCells(name);
    const errors = [];
    for (const [index, source] of chapter.cells.entries()) {
      const result = await runCell(name, index, source, index === 0);
      for (const output of result.outputs || []) {
        if (output.output_type === "error") errors.push({ cell: index, error: `${output.ename}: ${output.evalue}` });
      }
      if (onCell) await onCell(index, result);
    }
    return { cells: chapter.cells.length, errors };
  }

  function sendWidget(view, action, argument) {
    return runner.request({ type: "widget", view, action, argument },
      { firstMs: CELL_TIMEOUT_MS, perTestMs: CELL_TIMEOUT_MS });
  }

  // The pages' own parts (kata.js, chapter.js) use these; automation uses window.dojo.
  window.DojoRunner = { runner, checkKata, runChapter, runCell, sendWidget, chapterCells, ROOT };

  // runChapter on the page of that chapter also shows its outputs (chapter.js registers it).
  const chapterHooks = {};
  window.DojoRunner.onChapterPage = (name, hook) => { chapterHooks[name] = hook; };

  window.dojo = {
    ready: () => runner.ready(),
    runKata: async (id, source) => {
      const result = await checkKata(id, source);
      return { passed: result.passed || [], failed: result.failed || [], output: result.output || "" };
    },
    runChapter: (name) => (chapterHooks[name] ? chapterHooks[name]() : runChapter(name)),
  };
})();
