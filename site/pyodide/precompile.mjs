// Compile the Python the runner loads (the wheels and the project's bundle) to bytecode inside
// the same Pyodide the browser runs, and write the .pyc files as one zip: a reader's first Run
// then skips compiling the modules a Run imports (nearly half of importing pytest and the emulator).
//
//   node site/pyodide/precompile.mjs ASSETS_DIR      (site/vendor.py runs it when node is there)
//
// ASSETS_DIR: a site's assets/pyodide/ with vendor.json, the wheels and dojo-bundle.zip. Writes
// ASSETS_DIR/bytecode.zip, paths relative to "/" (unpacked there after the wheels and the bundle).
// The .pyc files are "unchecked-hash" ones: valid whatever the files' times, and the same bytes for
// the same sources.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const assets = path.resolve(process.argv[2]);
const vendor = JSON.parse(fs.readFileSync(path.join(assets, "vendor.json"), "utf8"));
const { loadPyodide } = await import(pathToFileURL(path.join(assets, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: assets + "/" });
const sitePackages = `/lib/python${vendor.python}/site-packages`;
const read = (entry) => new Uint8Array(fs.readFileSync(path.join(assets, entry.path)));
for (const entry of vendor.wheels) pyodide.unpackArchive(read(entry), "wheel", { extractDir: sitePackages });
pyodide.unpackArchive(read(vendor.bundle), "zip", { extractDir: vendor.project });
// What a Run imports: one kata run through the worker's own entry point, and the chapters' views.
// Only those modules are compiled (pygments alone has hundreds of lexers no run loads).
const zipped = pyodide.runPython(`
import importlib.util, io, sys, py_compile, zipfile
sys.path.append("${vendor.project}/src")
sys.dont_write_bytecode = True
from durable_dojo._browser import worker
worker.start("${vendor.project}")
kata = "01-counter-forgets"
with open(f"${vendor.project}/katas/{kata}/counter.py", encoding="utf-8") as f:
    worker.run_kata(kata, f.read())
import durable_dojo.widgets, durable_dojo.workbook, js, pyodide
roots = ("${sitePackages}/", "${vendor.project}/src/")
sources = sorted({m.__file__ for m in list(sys.modules.values())
                  if (getattr(m, "__file__", None) or "").endswith(".py") and m.__file__.startswith(roots)})
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for source in sources:
        target = importlib.util.cache_from_source(source)
        py_compile.compile(source, target, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        info = zipfile.ZipInfo(target.lstrip("/"), (2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(target, "rb") as f:
            archive.writestr(info, f.read())
buffer.getvalue()
`);
fs.writeFileSync(path.join(assets, "bytecode.zip"), zipped.toJs());
zipped.destroy();
process.exit(0);
