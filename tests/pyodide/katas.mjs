// Every kata in the browser's runner, under Node: it fails as shipped (exactly the tests the
// manifest says) and passes with its solution. The runner is the site's Web Worker, loaded from
// the built site (see worker_host.mjs), so this checks what a reader's browser runs.
//
//   node tests/pyodide/katas.mjs SITE_DIR KATAS_JSON [kata id...]
// KATAS_JSON: [{id, shipped, solution, failing_tests}] (tests/pyodide/katas_json.py: `shipped` is the
// learner file's text as shipped, the last commit's, whatever a learner changed in katas/).

import fs from "node:fs";
import { startWorker } from "./worker_host.mjs";

const [siteDir, katasJson, ...only] = process.argv.slice(2);
const katas = JSON.parse(fs.readFileSync(katasJson, "utf8")).filter((k) => !only.length || only.includes(k.id));
const sorted = (names) => [...names].sort();
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

const worker = await startWorker(siteDir);
const ready = await worker.request({ type: "init" }, "ready");
console.log(`pyodide ${ready.pyodide} ready in ${ready.seconds.toFixed(1)} s`);
const problems = [];
for (const kata of katas) {
  const shipped = await worker.request({ type: "runKata", kata: kata.id, source: kata.shipped }, "kataResult");
  const solved = await worker.request({ type: "runKata", kata: kata.id, source: fs.readFileSync(kata.solution, "utf8") }, "kataResult");
  const bad = [];
  if (shipped.verdict.status !== "failed" || !same(shipped.failed, kata.failing_tests)) {
    bad.push(`as shipped: ${shipped.verdict.status}, failing ${JSON.stringify(sorted(shipped.failed))}, ` +
      `expected ${JSON.stringify(sorted(kata.failing_tests))}\n${shipped.output}`);
  }
  if (solved.verdict.status !== "passed") bad.push(`with its solution: ${solved.verdict.status}\n${solved.output}`);
  console.log(`${bad.length ? "FAIL" : "ok  "} ${kata.id}: fails as shipped (${shipped.failed.length} of ` +
    `${shipped.passed.length + shipped.failed.length}), passes with its solution ` +
    `(${shipped.verdict.seconds.toFixed(1)} s, ${solved.verdict.seconds.toFixed(1)} s)`);
  for (const b of bad) problems.push(`${kata.id} ${b}`);
}
if (problems.length) {
  console.log(`\n${problems.length} problem(s):\n` + problems.join("\n\n"));
  process.exit(1);
}
console.log(`${katas.length} katas: each fails as shipped and passes with its solution, in Pyodide`);
process.exit(0);
