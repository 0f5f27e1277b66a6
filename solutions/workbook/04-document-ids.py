# Exercise: a new document gets a new object, found again from its ID.
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint


class Docs(WorkerEntrypoint):
    """POST /docs makes a document (201, its ID); POST /docs/<id> appends the body and answers the
    whole text; GET /docs/<id> reads it; an <id> that is not a document's is a 404."""

    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")      # ["docs"] or ["docs", "<id>"]
        if parts == ["docs"] and request.method == "POST":
            doc_id = self.env.DOC.newUniqueId()
            return Response(doc_id.toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            try:
                doc_id = self.env.DOC.idFromString(parts[1])  # the ID the text stands for, not a name
            except JsException:                               # JavaScript's TypeError: not an ID of DOC
                return Response("no such document", status=404)
            doc = self.env.DOC.get(doc_id)
            if request.method == "POST":
                return Response(await doc.append(await request.text()))
            return Response(await doc.text())
        return Response("not found", status=404)
