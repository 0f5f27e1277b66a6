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
// The hang guard. When a kata's test runs longer than the kata's timeout (katas.toml), Python
// in the worker is interrupted where the code is stuck (Pyodide's interrupt buffer: this page
// writes SIGINT into a SharedArrayBuffer where it is cross-origin isolated, elsewhere the worker
// reads its own clock against the deadlines sent with the request) and the run ends with the
// verdict `dojo check` gives, naming the learner's line; the same worker, warm, runs the next
// one. If no answer comes within a short grace (code stuck in C, or code that catches the
// interrupt and goes on), the worker is terminated as a Web Worker can only be from outside,
// the run ends as hung all the same, and a fresh worker starts loading at once, so the page
// stays usable. A run past its deadline never counts as passed, whatever the worker answers.
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
  // After the deadline, how long an interrupted run has to end (pytest winds down, the verdict
  // is made) before its worker is terminated instead.
  const INTERRUPT_GRACE_MS = 5000;
  const SIGINT = 2;
  const FATAL = /fatal error/i; // Pyodide's words when its interpreter cannot go on
  // A SharedArrayBuffer can reach the worker only where the page is cross-origin isolated
  // (served with Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp).
  const ISOLATED = self.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";

  // A run that overran its deadline. `stuck`: the worker's hung verdict, told the moment the
  // interrupt stopped the code (it names the line); `late`: what the worker answered after it.
  class Hung extends Error {
    constructor(stuck, late) {
      super("hung");
      this.stuck = stuck || null;
      this.late = late || null;
    }
  }

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
      this.started = 0; // workers started in this page (for tests: a warm run after a hang uses the same one)
      this.interrupt = null; // how a run past its deadline is interrupted: "shared" | "clock" | null (it cannot be)
      this.shared = null; // the Int32Array over the SharedArrayBuffer this page writes SIGINT into
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
      this.started += 1;
      this.warm = false;
      this.interrupt = null;
      this.shared = ISOLATED ? new Int32Array(new SharedArrayBuffer(4)) : null;
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
      worker.postMessage({ type: "init", interrupt: this.shared });
      return this.loaded;
    }

    receive(worker, message, resolve, reject) {
      if (worker !== this.worker || !message) return; // a message from a worker already ended
      if (message.type === "progress") {
        this.tell("loading", describeProgress(message));
      } else if (message.type === "ready") {
        this.interrupt = message.interrupt || null;
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
      const startMs = this.warm ? 0 : STARTUP_ALLOWANCE_MS; // a fresh worker's first run imports more
      // the deadlines, for a worker that interrupts itself (pages that are not cross-origin isolated)
      const limits = { firstMs: guard.firstMs, perTestMs: guard.perTestMs + startMs };
      this.tell("running", "");
      try {
        return await new Promise((resolve, reject) => {
          let timer = null;
          let overdue = false; // past the deadline: whatever comes back now is a hang
          let stuck = null; // the worker's hung verdict, if the interrupt stopped the code
          const giveUp = () => {
            this.fail(worker, new Hung(stuck));
            this.restart(); // a fresh worker takes over at once
          };
          const deadlinePassed = () => {
            overdue = true;
            if (!this.interrupt) return giveUp(); // a worker that cannot be interrupted is ended
            if (this.interrupt === "shared") Atomics.store(this.shared, 0, SIGINT);
            timer = setTimeout(giveUp, INTERRUPT_GRACE_MS);
          };
          const arm = (ms) => {
            clearTimeout(timer);
            timer = setTimeout(deadlinePassed, ms);
          };
          const settle = (fn) => (value) => { clearTimeout(timer); fn(value); };
          this.pending.set(id, {
            resolve: settle((result) => {
              const hung = result && result.verdict && result.verdict.status === "hung";
              if (overdue && !hung) reject(new Hung(stuck, result)); // a caught interrupt is no pass
              else resolve(result);
            }),
            reject: settle((error) => reject(overdue && !(error instanceof Hung) ? new Hung(stuck) : error)),
            onEvent: (event) => {
              if (event.type === "stuck") {
                stuck = event;
                return;
              }
              if (guard.onEvent) guard.onEvent(event);
              if (event.type === "test" && !overdue) arm(limits.perTestMs);
            },
          });
          arm(limits.firstMs);
          worker.postMessage(Object.assign({ id, limits }, message));
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
      if (error.stuck) return error.stuck; // the worker's own hung verdict: it names the line
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
      // interrupted in place: the worker's traceback of the KeyboardInterrupt says where it was
      const late = error.late && error.late.error;
      const where = late && late.ename === "KeyboardInterrupt" ? late.traceback.slice(0, -1) : [];
      return { outputs: [{ output_type: "error", ename: "Stopped",
        evalue: `the cell did not finish within ${seconds} s and was stopped`,
        traceback: [`The cell did not finish within ${seconds} s and was stopped. Likely cause: an infinite loop or a blocking call (time.sleep), or an await that never completes.`, ...where] }] };
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
