// The runner's Web Worker (site/assets/dojo/runner-worker.js) loaded in Node, as a browser would
// load it from the built site: `self.postMessage` / `self.onmessage` and `fetch` of the site's
// files are provided here, so the worker's own code runs unchanged.
//
//   const worker = await startWorker(siteDir);
//   const reply = await worker.request({type: "runKata", kata, source}, "kataResult");

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

export async function startWorker(siteDir) {
  const listeners = [];
  const events = [];
  globalThis.self = globalThis;
  globalThis.postMessage = (message) => {
    events.push(message);
    for (const listener of [...listeners]) listener(message);
  };
  globalThis.fetch = async (url) => {
    const file = fileURLToPath(new URL(String(url)).href.replace(/\?.*$/, ""));
    try {
      return new Response(fs.readFileSync(file));
    } catch {
      return new Response("not found", { status: 404, statusText: "Not Found" });
    }
  };
  const script = path.resolve(siteDir, "assets/dojo/runner-worker.js");
  await import(pathToFileURL(script).href);
  let next = 0;
  return {
    events,
    request(message, replyType) {
      const id = `r${++next}`;
      return new Promise((resolve, reject) => {
        const listener = (reply) => {
          if (reply.id !== id && !(replyType === "ready" && reply.type === "ready")) return;
          if (reply.type === replyType || reply.type === "error") {
            listeners.splice(listeners.indexOf(listener), 1);
            reply.type === "error" ? reject(new Error(reply.message)) : resolve(reply);
          }
        };
        listeners.push(listener);
        globalThis.onmessage({ data: { ...message, id } });
      });
    },
  };
}
