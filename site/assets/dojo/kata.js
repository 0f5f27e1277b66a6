// Durable Dojo: a kata page you can do in the browser. The learner file in an editor
// (editor.js, CodeMirror), "Run tests" (runner.js: the kata's tests with pytest in Pyodide),
// the verdict as `dojo check` gives it, Reset, the solution opened once the kata passes, and
// progress kept in this browser (localStorage): the file as last edited, and which katas pass.
(function () {
  "use strict";

  const SYMBOL = { passed: "✓", failed: "✗", error: "✗", hung: "⏱", skipped: "–", "not run": "·" };
  const FAILING = ["failed", "error", "hung"];
  const STORE = "dojo:kata:"; // + kata id -> {source, passed}

  function load(id) {
    try { return JSON.parse(localStorage.getItem(STORE + id)) || {}; } catch (e) { return {}; }
  }
  function save(id, change) {
    try { localStorage.setItem(STORE + id, JSON.stringify(Object.assign(load(id), change))); } catch (e) { /* private mode: nothing kept */ }
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // A test failure message as dojo check shows it (run.short_message's rules, kept short).
  function shortMessage(message, maxLines) {
    let lines = message.trim().split("\n");
    if (lines[0] && lines[0].startsWith("Failed: ")) lines[0] = lines[0].slice(8);
    if (lines[0] && lines[0].startsWith("AssertionError: ")) {
      lines[0] = lines[0].slice(16);
      const cut = lines.findIndex((line, i) => i && line.startsWith("assert "));
      if (cut > 0) lines = lines.slice(0, cut);
    } else if (lines[0] === "AssertionError") {
      lines = lines.slice(1).length ? lines.slice(1) : ["the test's assertion failed"];
    }
    const text = lines.slice(0, maxLines).map((l) => l.trimEnd()).join("\n");
    return lines.length > maxLines ? text + "\n…" : text;
  }

  function summary(kata, verdict) {
    const tests = verdict.tests || [];
    if (verdict.status === "passed") return `all ${tests.length} tests pass`;
    if (verdict.status === "hung") return `stopped after ${kata.timeout} s`;
    if (verdict.status === "error") return "could not run";
    if (verdict.status === "crashed") return "the tests' process ended early";
    const failing = tests.filter((t) => t.outcome !== "passed").length;
    return `${failing} of ${tests.length} tests failing`;
  }

  // The verdict, laid out as `dojo check` prints it: the head line, each test with its mark,
  // the first failure in full (the kata tests quote the emulator's trace), the others short,
  // the run's message and notes, the rule.
  function renderVerdict(kata, verdict, box) {
    box.replaceChildren();
    const status = verdict.status;
    box.className = "dojo-verdict dojo-verdict--" + status;
    const seconds = verdict.seconds ? `  (${verdict.seconds.toFixed(1)} s)` : "";
    box.append(el("div", { class: "dojo-verdict__head" }, [
      el("strong", { text: `${SYMBOL[status] || "✗"} ${kata.id}  ${kata.title}` }),
      `  ${verdict.summary || summary(kata, verdict)}`, el("span", { class: "dojo-dim", text: seconds })]));
    const list = el("ul", { class: "dojo-verdict__tests" });
    let first = true;
    for (const test of verdict.tests || []) {
      const item = el("li", { class: "dojo-test dojo-test--" + test.outcome.replace(" ", "-") },
        [el("span", { class: "dojo-mark", text: SYMBOL[test.outcome] || "✗" }), " ", el("code", { text: test.name })]);
      if (FAILING.includes(test.outcome) && test.message) {
        item.append(el("pre", { class: "dojo-verdict__message", text: shortMessage(test.message, first ? 15 : 4) }));
        first = false;
      }
      if (FAILING.includes(test.outcome) && test.where) item.append(el("div", { class: "dojo-dim", text: `at ${test.where}` }));
      list.append(item);
    }
    box.append(list);
    if (verdict.message) box.append(el("pre", { class: "dojo-verdict__message dojo-verdict__run", text: verdict.message }));
    for (const note of verdict.notes || []) box.append(el("pre", { class: "dojo-verdict__note", text: note }));
    box.append(el("p", { class: "dojo-verdict__rule" }, ["Rule: ", el("em", { text: kata.rule })]));
  }

  function start(app) {
    const data = JSON.parse(app.parentNode.querySelector(".dojo-kata-data").textContent);
    const stored = load(data.id);
    const run = el("button", { type: "button", class: "md-button md-button--primary dojo-run", text: "Run tests" });
    const reset = el("button", { type: "button", class: "md-button dojo-reset", text: "Reset",
      title: "Put the file back as it ships (Ctrl-Z in the editor undoes it)" });
    const status = el("span", { class: "dojo-status", role: "status", "aria-live": "polite" });
    const badge = el("span", { class: "dojo-badge", text: stored.passed ? "✓ passed in this browser" : "" });
    const holder = el("div", { class: "dojo-editor" });
    const verdictBox = el("div", { class: "dojo-verdict", "aria-live": "polite" });
    app.append(
      el("p", { class: "dojo-intro", text: `Edit ${data.file} here and run its tests in your browser: nothing to install. `
        + "The first run loads Python into this page, once; your edits are kept in this browser." }),
      el("div", { class: "dojo-toolbar" }, [run, reset, status, badge]), holder, verdictBox);

    const editor = window.DojoEditor.create(holder, stored.source != null ? stored.source : data.source,
      (text) => save(data.id, { source: text }));
    app.hidden = false;
    const shipped = app.parentNode.querySelector(".dojo-shipped");
    if (shipped) shipped.hidden = true;

    const { runner, checkKata } = window.DojoRunner;
    let busy = false;
    runner.on((state, text) => {
      if (state === "loading") status.textContent = text;
      else if (state === "running") status.textContent = "Running the tests…";
      else if (!busy) status.textContent = "";
    });

    reset.addEventListener("click", () => {
      editor.set(data.source);
      save(data.id, { source: data.source });
      verdictBox.replaceChildren();
      verdictBox.className = "dojo-verdict";
    });

    run.addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      run.disabled = true;
      verdictBox.setAttribute("aria-busy", "true");
      try {
        const result = await checkKata(data.id, editor.get(), (event) => {
          if (event.type === "test") status.textContent = `Running ${event.name}…`;
        });
        renderVerdict(data, result.verdict, verdictBox);
        status.textContent = "";
        if (result.verdict.status === "passed") {
          save(data.id, { passed: true });
          badge.textContent = "✓ passed in this browser";
          showSolution(verdictBox);
        } else {
          verdictBox.append(nextHintLine(data));
        }
      } catch (error) {
        verdictBox.replaceChildren(el("pre", { class: "dojo-verdict__message", text: String(error.message || error) }));
        verdictBox.className = "dojo-verdict dojo-verdict--error";
        status.textContent = "";
      } finally {
        busy = false;
        run.disabled = false;
        verdictBox.removeAttribute("aria-busy");
      }
    });
  }

  // Once the kata passes: the solution and its explanation (folded on the page until now) open.
  function showSolution(box) {
    const blocks = document.querySelectorAll("article details.success, article details.note");
    blocks.forEach((block) => { block.open = true; });
    if (blocks.length) {
      const link = el("a", { href: "#solution", text: "the reference solution and why it works" });
      box.append(el("p", {}, ["Passed. Compare with ", link, " (opened below)."]));
    }
  }

  // Instead of `dojo hint`: a button that opens the next folded hint on the page.
  function nextHintLine(data) {
    const hints = Array.from(document.querySelectorAll("article details.tip"));
    const next = hints.find((h) => !h.open);
    if (!next) return el("p", { class: "dojo-dim", text: "All hints are open below." });
    const button = el("button", { type: "button", class: "md-button dojo-hint",
      text: `Stuck? Open hint ${hints.indexOf(next) + 1} of ${hints.length}` });
    button.addEventListener("click", () => {
      next.open = true;
      next.scrollIntoView({ block: "center" });
      button.remove();
    });
    return el("p", {}, [`Edit ${data.file} above · `, button]);
  }

  function startAll() {
    document.querySelectorAll(".dojo-kata-app").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
