// Durable Dojo: a chapter you can run in the browser. "Run the chapter" runs its code cells in
// order in a Web Worker (runner.js), each cell's outputs replacing the ones the notebook stored.
// The workbook's widgets get working controls, the ones their notebook view has: the Inspector's
// (evict, hibernate, fire alarm, advance the clock, refresh) and the scheduler playground's (one
// button per ready event, Restart, Run the rest). Each button sends its name to the live view in
// the worker (durable_dojo._browser.views), whose `press` acts on the chapter's world, and the
// page draws the state it answers: no widget logic here.
(function () {
  "use strict";

  const INSPECTOR = "application/vnd.durable-dojo.inspector+json"; // durable_dojo._browser.views.MIME
  const PLAYGROUND = "application/vnd.durable-dojo.playground+json"; // views.PLAYGROUND_MIME
  const ANSI = /\u001b\[[0-9;]*m/g;
  let live = []; // the views drawn by this run: {view, show}, redrawn after each cell

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

  // One output, as nbconvert lays it out (so the page's notebook styles apply).
  function renderOutput(output, count) {
    const child = el("div", { class: "jp-OutputArea-child dojo-output" });
    const prompt = el("div", { class: "jp-OutputPrompt jp-OutputArea-prompt",
      text: output.output_type === "execute_result" && count ? `Out[${count}]:` : "" });
    child.append(prompt);
    const type = output.output_type;
    if (type === "stream" || type === "error") {
      const text = type === "stream" ? output.text : (output.traceback || [`${output.ename}: ${output.evalue}`]).join("\n");
      const stderr = type === "error" || output.name === "stderr";
      child.append(el("div", { class: "jp-RenderedText jp-OutputArea-output" + (type === "error" ? " dojo-error" : ""),
        "data-mime-type": stderr ? "application/vnd.jupyter.stderr" : "text/plain" },
      [el("pre", { text: String(text).replace(ANSI, "") })]));
      return child;
    }
    const data = output.data || {};
    if (data[INSPECTOR]) {
      child.append(inspectorView(data[INSPECTOR]));
    } else if (data[PLAYGROUND]) {
      child.append(playgroundView(data[PLAYGROUND]));
    } else if (data["text/html"] != null) {
      const box = el("div", { class: "jp-RenderedHTMLCommon jp-RenderedHTML jp-OutputArea-output", "data-mime-type": "text/html" });
      box.innerHTML = String(data["text/html"]); // HTML made by the chapter's own code, in the reader's own page
      child.append(box);
    } else if (data["image/svg+xml"] != null) {
      const box = el("div", { class: "jp-RenderedSVG jp-OutputArea-output", "data-mime-type": "image/svg+xml" });
      box.innerHTML = String(data["image/svg+xml"]);
      child.append(box);
    } else if (data["image/png"] != null) {
      child.append(el("div", { class: "jp-RenderedImage jp-OutputArea-output" },
        [el("img", { src: "data:image/png;base64," + data["image/png"], alt: "" })]));
    } else {
      child.append(el("div", { class: "jp-RenderedText jp-OutputArea-output", "data-mime-type": "text/plain" },
        [el("pre", { text: String(data["text/plain"] || "") })]));
    }
    return child;
  }

  function button(text, title, onClick) {
    const b = el("button", { type: "button", class: "md-button dojo-widget__button", text, title });
    b.addEventListener("click", onClick);
    return b;
  }

  // A live view: `press(action, argument)` sends one button to the view in the worker and draws
  // the state it answers with `show`; the view's buttons wait meanwhile. It is redrawn after
  // each later cell too (see redraw).
  function liveView(box, state, show, kind) {
    const message = el("div", { class: `dojo-widget__message dojo-${kind}__message`, role: "status" });
    async function press(action, argument) {
      box.setAttribute("aria-busy", "true");
      box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        const result = await window.DojoRunner.sendWidget(state.view, action, argument);
        show(result.view);
      } catch (error) {
        message.textContent = String(error.message || error);
      } finally {
        box.removeAttribute("aria-busy");
        box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      }
    }
    live.push({ view: state.view, show });
    return { press, message };
  }

  // An Inspector with its controls, as the notebook's widget has them. Its state:
  // {view: id, objects: [names], html, message, timeline}.
  function inspectorView(state) {
    const box = el("div", { class: "jupyter-widgets jp-OutputArea-output dojo-widget dojo-inspector" });
    const table = el("div", { class: "widget-html-content" });
    const choice = el("select", { "aria-label": "object" });
    const seconds = el("input", { type: "number", value: "10", min: "0", step: "any", "aria-label": "seconds" });
    const timeline = el("div", { class: "widget-html-content dojo-inspector__timeline" });
    const { press, message } = liveView(box, state, show, "inspector");
    const control = (text, title, action, argument) => button(text, title, () => press(action, argument()));
    box.append(table,
      el("div", { class: "dojo-widget__row" }, [el("label", { text: "object " }, [choice]),
        control("Evict", "drop memory, keep storage", "evict", () => choice.value),
        control("Hibernate", "drop memory, keep hibernatable sockets", "hibernate", () => choice.value),
        control("Fire alarm", "run the stored alarm now", "fire_alarm", () => choice.value)]),
      el("div", { class: "dojo-widget__row" }, [el("label", { text: "seconds " }, [seconds]),
        control("Advance clock", "move virtual time forward", "advance", () => Number(seconds.value)),
        control("Refresh", "read the world again", "refresh", () => null)]),
      message, timeline);

    function show(next) {
      table.innerHTML = next.html; // the Inspector's own HTML (Inspector.html(): a table, no scripts)
      const current = choice.value;
      choice.replaceChildren(...next.objects.map((name) => el("option", { value: name, text: name })));
      if (next.objects.includes(current)) choice.value = current;
      message.textContent = next.message || "";
      timeline.innerHTML = next.timeline || ""; // Timeline.html(): a table, no scripts
    }
    show(state);
    return box;
  }

  // The scheduler playground, as the notebook's widget has it: its view (storage, timeline, the
  // check's verdict once every request finished), one button per ready event, Restart and Run
  // the rest. Its state: {view: id, html, choices: [what each ready event's button says], message}.
  function playgroundView(state) {
    const box = el("div", { class: "jupyter-widgets jp-OutputArea-output dojo-widget dojo-playground" });
    const view = el("div", { class: "widget-html-content dojo-playground__view" });
    const choices = el("div", { class: "dojo-widget__column dojo-playground__choices" });
    const { press, message } = liveView(box, state, show, "playground");
    box.append(view, choices,
      el("div", { class: "dojo-widget__row" }, [
        button("Restart", "a fresh world, the requests sent again", () => press("restart", null)),
        button("Run the rest", "the world's own order for every remaining choice", () => press("auto", null))]),
      message);

    function show(next) {
      view.innerHTML = next.html; // SchedulerPlayground.html(): escaped text, no scripts
      choices.replaceChildren(...next.choices.map((text, index) =>
        button(text, "run this event next", () => press("choose", index))));
      message.textContent = next.message || "";
    }
    show(state);
    return box;
  }

  // The cell's outputs replaced by the ones this run made.
  function showOutputs(cell, result, count) {
    let wrapper = cell.querySelector(":scope > .jp-Cell-outputWrapper");
    if (!wrapper) {
      wrapper = el("div", { class: "jp-Cell-outputWrapper" }, [
        el("div", { class: "jp-Collapser jp-OutputCollapser jp-Cell-outputCollapser" }),
        el("div", { class: "jp-OutputArea jp-Cell-outputArea" })]);
      cell.append(wrapper);
    }
    const area = wrapper.querySelector(".jp-OutputArea");
    area.replaceChildren(...(result.outputs || []).map((output) => renderOutput(output, count)));
    cell.classList.add("dojo-ran");
    const prompt = cell.querySelector(".jp-InputPrompt");
    if (prompt) prompt.textContent = `In [${count}]:`;
  }

  // As a notebook redraws a displayed view after every cell (the cell may have changed its
  // world): each cell's result has every displayed view's state as it is after the cell.
  function redraw(states) {
    for (const state of states) {
      for (const shown of live) if (shown.view === state.view) shown.show(state);
    }
  }

  function start(wrapper) {
    const name = wrapper.dataset.chapter;
    const run = el("button", { type: "button", class: "md-button md-button--primary dojo-run", text: "Run the chapter" });
    const status = el("span", { class: "dojo-status", role: "status", "aria-live": "polite" });
    const bar = el("div", { class: "dojo-chapter-bar" }, [
      run, status,
      el("p", { class: "dojo-intro", text: "Runs every code cell below in order, in your browser: nothing to install. "
        + "Each cell's output replaces the one saved with the notebook, and the widgets' buttons work. "
        + "The first run loads Python into this page, once." })]);
    const title = wrapper.querySelector(".jp-MarkdownCell");
    if (title) title.after(bar); else wrapper.prepend(bar);

    const { runner, runChapter, chapterCells } = window.DojoRunner;
    let busy = false;
    runner.on((state, text) => {
      if (state === "loading") status.textContent = text;
    });

    async function runAll() {
      if (busy) throw new Error("the chapter is already running");
      busy = true;
      run.disabled = true;
      try {
        const chapter = await chapterCells(name);
        live = [];
        const result = await runChapter(name, (index, cellResult) => {
          const id = chapter.ids[index];
          const cell = id && document.getElementById("cell-id=" + id);
          if (cell) showOutputs(cell, cellResult, index + 1);
          status.textContent = `Ran cell ${index + 1} of ${chapter.cells.length}`;
          redraw(cellResult.views || []);
        });
        status.textContent = result.errors.length
          ? `Done: ${result.errors.length} cell(s) raised an error` : `Done: ${result.cells} cells ran`;
        return result;
      } catch (error) {
        status.textContent = String(error.message || error);
        throw error;
      } finally {
        busy = false;
        run.disabled = false;
      }
    }

    run.addEventListener("click", () => { runAll().catch(() => {}); });
    window.DojoRunner.onChapterPage(name, runAll);
  }

  function startAll() {
    document.querySelectorAll(".jupyter-wrapper[data-chapter]").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
