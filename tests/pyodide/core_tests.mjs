// The emulator's own tests under Pyodide in Node: the files of tests/ listed in CORE_TESTS run
// with pytest inside Pyodide (the same npm package and wheels the site vendors), with the
// in-browser runner's host loop and platform modules, as the worker runs learner code.
//
//   node tests/pyodide/core_tests.mjs SITE_DIR [pytest args...]
// SITE_DIR: a site with assets/pyodide/ (make pyodide-site). The repository is mounted read-only
// in Pyodide's file system at /repo (Node's file system: NODEFS); nothing is written there.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [siteDir, ...pytestArgs] = process.argv.slice(2);
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const assets = path.resolve(siteDir, "assets/pyodide");
const vendor = JSON.parse(fs.readFileSync(path.join(assets, "vendor.json"), "utf8"));
const { loadPyodide } = await import(pathToFileURL(path.join(assets, "pyodide.mjs")).href);

const started = Date.now();
const pyodide = await loadPyodide({ indexURL: assets + "/" });
for (const entry of vendor.wheels) {
  const bytes = new Uint8Array(fs.readFileSync(path.join(assets, entry.path)));
  pyodide.unpackArchive(bytes, "wheel", { extractDir: `/lib/python${vendor.python}/site-packages` });
}
pyodide.FS.mkdirTree("/repo");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: repo }, "/repo");
console.log(`pyodide ${pyodide.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
pyodide.globals.set("pytest_args", pytestArgs);
const code = pyodide.runPython(fs.readFileSync(path.join(repo, "tests/pyodide/core_tests.py"), "utf8"));
process.exit(code);
