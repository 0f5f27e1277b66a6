// Durable Dojo: the saved widget views of a chapter (loaded only on pages with widgets).
// A long table in a widget (the Inspector with 60 objects) shows its first rows and a
// "show all" button, so a chapter does not turn into a 2,000 px list.
(function () {
  "use strict";
  var FIRST_ROWS = 12;

  function cap(table) {
    if (table.dataset.dojoCapped) return;
    var rows = table.querySelectorAll(":scope > tbody > tr, :scope > tr");
    var body = Array.prototype.slice.call(rows, 1); // the first row is the header
    if (body.length <= FIRST_ROWS + 3) return;
    table.dataset.dojoCapped = "1";
    table.classList.add("dojo-capped");
    body.slice(FIRST_ROWS).forEach(function (row) { row.classList.add("dojo-hidden-row"); });
    var button = document.createElement("button");
    button.type = "button";
    button.className = "md-button dojo-show-all";
    button.textContent = "Show all " + body.length + " rows";
    button.addEventListener("click", function () {
      var capped = table.classList.toggle("dojo-capped");
      button.textContent = capped ? "Show all " + body.length + " rows" : "Show the first " + FIRST_ROWS + " rows";
    });
    table.parentNode.insertBefore(button, table.nextSibling);
  }

  function scan(root) {
    var tables = root.querySelectorAll(".jupyter-widgets .widget-html-content table");
    Array.prototype.forEach.call(tables, cap);
  }

  function start() {
    var wrapper = document.querySelector(".jupyter-wrapper");
    if (!wrapper) return;
    scan(wrapper);
    // the widget renderer draws the views after the page has loaded
    new MutationObserver(function () { scan(wrapper); }).observe(wrapper, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
