// Every chapter's code cells, in order, through the site's Web Worker in Node: none may end in
// an error (the chapters are run the same way on the chapter pages).
//
//   node tests/pyodide/chapters.mjs SITE_DIR NOTEBOOK...
import fs from "node:fs";
import path from "node:path";
import { startWorker } from "./worker_host.mjs";

const [siteDir, ...notebooks] = process.argv.slice(2);
const worker = await startWorker(siteDir);
await worker.request({ type: "init" }, "ready");
const problems = [];
for (const file of notebooks) {
  const chapter = path.basename(file, ".ipynb");
  const cells = JSON.parse(fs.readFileSync(file, "utf8")).cells.filter((c) => c.cell_type === "code");
  const started = Date.now();
  let index = 0;
  for (const cell of cells) {
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    const result = await worker.request({ type: "runCell", chapter, index, source }, "cellResult");
    if (result.error) problems.push(`${chapter} cell ${index}: ${result.error.ename}: ${result.error.evalue}\n` +
      result.error.traceback.join("\n"));
    index++;
  }
  console.log(`${problems.length ? "" : "ok  "}${chapter}: ${cells.length} cells in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
if (problems.length) {
  console.log(`\n${problems.length} cell(s) ended in an error:\n` + problems.join("\n\n"));
  process.exit(1);
}
console.log(`${notebooks.length} chapters: every cell runs without an error, in Pyodide`);
process.exit(0);
