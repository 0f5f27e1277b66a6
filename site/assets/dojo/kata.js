// Durable Dojo: a kata page you can do in the browser. The learner file in an editor
// (editor.js, CodeMirror), "Run tests" (runner.js: the kata's tests with pytest in Pyodide),
// the verdict as `dojo check` gives it, Reset, the solution opened once the kata passes, and
// progress kept in this browser (localStorage): the file as last edited, and which katas pass.
(function () {
  "use strict";

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

  // The verdict exactly as `dojo check` prints it: the worker sends its lines as made by the
  // runner's own code (`verdict_lines`: pieces of text with the terminal's styles, "bold red",
  // "dim"...), drawn here with those styles; or, from an older worker, its plain text.
  function renderVerdict(result, box) {
    const status = (result.verdict && result.verdict.status) || "error";
    box.className = "dojo-verdict dojo-verdict--" + status;
    const lines = result.lines || String(result.output || "").split("\n").map((line) => [[line, ""]]);
    const pre = el("pre", { class: "dojo-verdict__lines" });
    for (const line of lines) {
      for (const [text, style] of line) {
        const classes = String(style || "").split(/\s+/).filter(Boolean).map((s) => "dojo-s-" + s);
        pre.append(classes.length ? el("span", { class: classes.join(" "), text }) : text);
      }
      pre.append("\n");
    }
    box.replaceChildren(pre);
  }

  function start(app) {
    const data = JSON.parse(app.parentNode.querySelector(".dojo-kata-data").textContent);
    const stored = load(data.id);
    const run = el("button", { type: "button", class: "md-button md-button--primary dojo-run", text: "Run tests" });
    const reset = el("button", { type: "button", class: "md-button dojo-reset", text: "Reset",
      title: "Put the file back as it ships and forget its pass (Ctrl-Z in the editor undoes the edit)" });
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
    app.dojoEditor = editor; // for automation: get(), set(text)
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

    reset.addEventListener("click", () => { // as `dojo reset`: the file as shipped, its pass forgotten
      editor.set(data.source);
      save(data.id, { source: data.source, passed: false });
      badge.textContent = "";
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
        renderVerdict(result, verdictBox);
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

  // The kata index: a mark beside each kata passed in this browser.
  function markPassed() {
    document.querySelectorAll("article table a[href]").forEach((link) => {
      const id = (link.getAttribute("href").match(/([^/]+)\/?$/) || [])[1];
      if (id && load(id).passed && !link.querySelector(".dojo-badge")) {
        link.append(" ", el("span", { class: "dojo-badge", title: "passed in this browser", text: "✓" }));
      }
    });
  }

  function startAll() {
    document.querySelectorAll(".dojo-kata-app").forEach(start);
    if (document.querySelector(".dojo-kata-index")) markPassed();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
