"""Collaborative documents: one Durable Object per document. Editors connect with a WebSocket,
send edit operations and cursor positions, and see everyone else's; the document and its
operation log live in storage, and the room hibernates between bursts of typing.

    POST /docs                       create a document, answers its id
    GET  /docs/<id>?user=<name>      (WebSocket) join the document's room

Written for `dojo review`: some of this is how it should be done, some of it is not.
"""

import asyncio
import json
from urllib.parse import parse_qs, urlparse

from js import Date, WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint

SNAPSHOT_DELAY_S = 30


class DocRoom(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.cursors = {}  # socket -> cursor position, for drawing other editors' carets

    async def create(self, title):
        await self.ctx.storage.put({"doc": {"title": title, "text": "", "version": 0},
                                    "meta": {"created": Date.now(), "last_active": Date.now()}})

    async def fetch(self, request):
        user = parse_qs(urlparse(request.url).query).get("user", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [f"user:{user}"])
        server.serializeAttachment({"user": user})
        doc = await self.ctx.storage.get("doc")
        server.send(json.dumps({"type": "snapshot", "doc": doc}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        event = json.loads(message)
        user = ws.deserializeAttachment()["user"]
        if event["type"] == "cursor":
            self.cursors[ws] = event["position"]
            self._broadcast({"type": "cursor", "user": user, "position": event["position"]}, exclude=ws)
        elif event["type"] == "edit":
            doc = await self.ctx.storage.get("doc")
            if event["base"] != doc["version"]:
                ws.send(json.dumps({"type": "conflict", "version": doc["version"]}))
                return
            doc["text"] = doc["text"][:event["at"]] + event["insert"] + doc["text"][event["at"] + event["delete"]:]
            doc["version"] += 1
            # The document and its log entry in one put: one atomic commit.
            await self.ctx.storage.put({"doc": doc, f"op:{doc['version']:010d}": event})
            self._broadcast({"type": "edit", "user": user, "op": event, "version": doc["version"]}, exclude=ws)
            self.ctx.waitUntil(self._snapshot_later())
        elif event["type"] == "ping":
            meta = await self.ctx.storage.get("meta")
            meta["last_active"] = Date.now()
            ws.send(json.dumps({"type": "pong"}))

    async def webSocketClose(self, ws, code, reason, wasClean):
        self.cursors.pop(ws, None)
        ws.close(1000 if code in (1005, 1006, 1015) else code, "bye")
        self._broadcast({"type": "left", "user": ws.deserializeAttachment()["user"]})

    async def kick(self, user):
        """Moderation: disconnect one editor and tell the others."""
        for ws in self.ctx.getWebSockets(f"user:{user}"):
            ws.close(4003, "removed by the owner")
        self._broadcast({"type": "left", "user": user})

    def _broadcast(self, payload, exclude=None):
        text = json.dumps(payload)
        for ws in self.ctx.getWebSockets():
            if ws is not exclude:
                ws.send(text)

    async def _snapshot_later(self):
        await asyncio.sleep(SNAPSHOT_DELAY_S)
        doc = await self.ctx.storage.get("doc")
        await self.ctx.storage.put(f"snapshot:{doc['version']:010d}", doc)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        parts = urlparse(request.url).path.strip("/").split("/")
        if request.method == "POST" and parts == ["docs"]:
            doc_id = self.env.DOCS.newUniqueId()  # a new document: its id goes back to the client
            await self.env.DOCS.get(doc_id).create((await request.json())["title"])
            return Response.from_json({"id": doc_id.toString()}, status=201)
        if len(parts) == 2 and parts[0] == "docs":
            stub = self.env.DOCS.get(self.env.DOCS.idFromString(parts[1]))
            return await stub.fetch(request)
        return Response("not found", status=404)
