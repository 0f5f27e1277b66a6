// The in-browser runner's start and run times, in Node: the site's Web Worker
// (assets/dojo/runner-worker.js) loaded from a built site, as tests/pyodide/katas.mjs does.
//
//   make bench-pyodide           (builds .cache/pyodide-site/ first)
// The site's assets/pyodide/bytecode.zip (site/pyodide/precompile.mjs) is used when there; to see
// what it saves, run on a copy of the site whose vendor.json has no "bytecode" entry.
//   node bench/pyodide_start.mjs SITE_DIR [runs]
//
// cold: from nothing to the first kata verdict, in a new process (no compiled files, nothing
//       loaded: a reader's first "Run tests"); split into Pyodide's start (interpreter, standard
//       library, wheels, bundle) and the first run (importing pytest and the emulator, then the tests).
// warm: the same kata again in the same worker (what every later Run costs).
// Targets on the development machine (issue 17): cold under 15 s, warm under 3 s. Printed, never
// asserted: timings belong here, not in the tests. The browser's figure (download, page) is
// measured by the pages' own bench.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startWorker } from "../tests/pyodide/worker_host.mjs";

const [siteDir, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const KATA = "01-counter-forgets";
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const shipped = fs.readFileSync(path.join(repo, "katas", KATA, "counter.py"), "utf8");
const solution = fs.readFileSync(path.join(repo, "solutions", KATA, "counter.py"), "utf8");
const vendor = JSON.parse(fs.readFileSync(path.join(siteDir, "assets/pyodide/vendor.json"), "utf8"));

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const c0 = cpu();
const t0 = performance.now();
const worker = await startWorker(siteDir);
await worker.request({ type: "init" }, "ready");
const t1 = performance.now();
const c1 = cpu();
const first = await worker.request({ type: "runKata", kata: KATA, source: shipped }, "kataResult");
const t2 = performance.now();
const c2 = cpu();
const warm = [];
const warmCpu = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const cpuStarted = cpu();
  const result = await worker.request({ type: "runKata", kata: KATA, source: i % 2 ? shipped : solution }, "kataResult");
  warm.push((performance.now() - started) / 1000);
  warmCpu.push(cpu() - cpuStarted);
  if (result.verdict.status !== (i % 2 ? "failed" : "passed")) throw new Error(`unexpected verdict: ${result.output}`);
}
if (first.verdict.status !== "failed") throw new Error(`unexpected first verdict: ${first.output}`);
const cold = (t2 - t0) / 1000;
const middle = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const median = middle(warm);
const mb = (n) => (n / 1e6).toFixed(1);
console.log(`in-browser runner in Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
console.log(`  loaded: ${mb(vendor.bytes)} MB (Pyodide core ${mb(vendor.core.reduce((s, e) => s + e.size, 0))} MB, ` +
  `${vendor.wheels.length} wheels ${mb(vendor.wheels.reduce((s, e) => s + e.size, 0))} MB, bundle ${mb(vendor.bundle.size)} MB` +
  `${vendor.bytecode ? `, bytecode ${mb(vendor.bytecode.size)} MB` : ""})`);
// CPU seconds say what the work costs when the machine is shared (wall time includes the wait for a CPU)
console.log(`  cold, start to first verdict: ${cold.toFixed(2)} s wall, ${(c2 - c0).toFixed(2)} s CPU ` +
  `(target 15 s: ${(cold / 15).toFixed(2)} of it)`);
console.log(`    Pyodide ready:             ${((t1 - t0) / 1000).toFixed(2)} s wall, ${(c1 - c0).toFixed(2)} s CPU`);
console.log(`    first run of ${KATA}:  ${((t2 - t1) / 1000).toFixed(2)} s wall, ${(c2 - c1).toFixed(2)} s CPU ` +
  `(pytest and the emulator imported, 6 tests)`);
console.log(`  warm run of ${KATA}, median of ${runs}: ${median.toFixed(2)} s wall, ${middle(warmCpu).toFixed(2)} s CPU ` +
  `(target 3 s: ${(median / 3).toFixed(2)} of it; ` +
  `all: ${warm.map((w) => w.toFixed(2)).join(", ")})`);
process.exit(0);
