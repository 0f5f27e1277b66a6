# Plausible wrong answers to exercise 04-document-ids: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: idFromString without handling text that is not an ID (the request fails instead of a 404)
from workers import Response, WorkerEntrypoint


class Docs(WorkerEntrypoint):
    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")
        if parts == ["docs"] and request.method == "POST":
            return Response(self.env.DOC.newUniqueId().toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            doc = self.env.DOC.get(self.env.DOC.idFromString(parts[1]))
            if request.method == "POST":
                return Response(await doc.append(await request.text()))
            return Response(await doc.text())
        return Response("not found", status=404)

# %% wrong: catches Python's TypeError, but the platform's error is a JavaScript one (JsException)
from workers import Response, WorkerEntrypoint


class Docs(WorkerEntrypoint):
    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")
        if parts == ["docs"] and request.method == "POST":
            return Response(self.env.DOC.newUniqueId().toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            try:
                doc_id = self.env.DOC.idFromString(parts[1])
            except TypeError:
                return Response("no such document", status=404)
            doc = self.env.DOC.get(doc_id)
            if request.method == "POST":
                return Response(await doc.append(await request.text()))
            return Response(await doc.text())
        return Response("not found", status=404)

# %% wrong: appends through the ID but reads by name (GET finds another, empty object)
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint


class Docs(WorkerEntrypoint):
    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")
        if parts == ["docs"] and request.method == "POST":
            return Response(self.env.DOC.newUniqueId().toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            if request.method == "POST":
                try:
                    doc = self.env.DOC.get(self.env.DOC.idFromString(parts[1]))
                except JsException:
                    return Response("no such document", status=404)
                return Response(await doc.append(await request.text()))
            return Response(await self.env.DOC.getByName(parts[1]).text())
        return Response("not found", status=404)

# %% wrong: documents numbered by a module-level counter and found by name (a deploy starts the count again, at an existing document)
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint

NEXT = [0]


class Docs(WorkerEntrypoint):
    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")
        if parts == ["docs"] and request.method == "POST":
            NEXT[0] += 1
            return Response(self.env.DOC.idFromName(f"doc-{NEXT[0]}").toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            try:
                doc = self.env.DOC.get(self.env.DOC.idFromString(parts[1]))
            except JsException:
                return Response("no such document", status=404)
            if request.method == "POST":
                return Response(await doc.append(await request.text()))
            return Response(await doc.text())
        return Response("not found", status=404)
