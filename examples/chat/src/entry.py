"""A chat: the Worker routes `/rooms/NAME` to one Durable Object per room.

Routes:
  GET /                          the chat page (plain HTML and JS, from page.py)
  GET /rooms/NAME?name=alice     WebSocket upgrade: join room NAME as alice
  GET /rooms/NAME/history        the room's last messages, as JSON

The room uses the WebSocket Hibernation API: `ctx.acceptWebSocket(server)` instead of
`server.accept()`, handlers `webSocketMessage` / `webSocketClose` on the class, the user's name
kept with the socket by `serializeAttachment`. So the room can hibernate between messages (its
memory is dropped, the sockets stay open) and costs nothing while everyone is quiet. Nothing
the room needs lives only in memory: names are in the attachments, messages in SQLite
(`ctx.storage.sql`), so a room woken from hibernation carries on as if nothing happened.

Server to browser, one JSON object per message:
  {"type": "history", "messages": [{"id", "name", "text", "at"}, ...]}   once, on joining
  {"type": "message", "id", "name", "text", "at"}
  {"type": "join" | "leave", "name", "online"}
  {"type": "error", "error"}
Browser to server: the text of a message (a plain string).
"""

import json
import re
from urllib.parse import parse_qs, unquote, urlparse

from js import Date, WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint

from page import INDEX_HTML

ROOM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HISTORY_ON_JOIN = 50  # messages replayed to a newcomer
KEEP_MESSAGES = 1000  # older messages are deleted
MAX_TEXT = 2000  # characters


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/":
            return Response(INDEX_HTML, headers={"content-type": "text/html; charset=utf-8"})
        parts = path.strip("/").split("/")
        if len(parts) in (2, 3) and parts[0] == "rooms":
            room = unquote(parts[1])
            if not ROOM_NAME.match(room):
                return Response("Room names are 1-64 letters, digits, '-' or '_'.", status=400)
            if len(parts) == 3 and parts[2] != "history":
                return Response("Not Found", status=404)
            stub = self.env.ROOMS.getByName(room)  # one object per room, found by its name
            return await stub.fetch(request)
        return Response("Not Found", status=404)


class ChatRoom(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # Runs again after every hibernation: cheap, and idempotent.
        self.sql = ctx.storage.sql
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS messages ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " name TEXT NOT NULL,"
            " text TEXT NOT NULL,"
            " at INTEGER NOT NULL)"
        )

    async def fetch(self, request):
        url = urlparse(request.url)
        if url.path.endswith("/history"):
            return Response(json.dumps({"messages": self.history()}),
                            headers={"content-type": "application/json"})
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response("Expected Upgrade: websocket", status=426)

        name = (parse_qs(url.query).get("name") or ["anonymous"])[0].strip()[:32] or "anonymous"
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)  # the Hibernation API: the object may sleep, the socket stays
        server.serializeAttachment({"name": name})  # survives hibernation, unlike a field
        server.send(json.dumps({"type": "history", "messages": self.history()}))
        self.broadcast({"type": "join", "name": name, "online": len(self.ctx.getWebSockets())})
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if not isinstance(message, str):
            message = bytes(message).decode("utf-8", "replace")
        text = message.strip()
        if not text:
            return
        if len(text) > MAX_TEXT:
            ws.send(json.dumps({"type": "error", "error": f"A message has {MAX_TEXT} characters at most."}))
            return
        name = ws.deserializeAttachment()["name"]
        at = Date.now()
        row = self.sql.exec(
            "INSERT INTO messages (name, text, at) VALUES (?, ?, ?) RETURNING id", name, text, at
        ).one()
        self.sql.exec("DELETE FROM messages WHERE id <= ?", row["id"] - KEEP_MESSAGES)
        self.broadcast({"type": "message", "id": row["id"], "name": name, "text": text, "at": at})

    async def webSocketClose(self, ws, code, reason, wasClean):
        # Answer the close frame: the runtime does not answer it for a hibernatable socket, at
        # any compatibility date. 1005, 1006 and 1015 only report what happened: answer 1000.
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)
        info = ws.deserializeAttachment()
        name = info["name"] if info else "someone"
        self.broadcast({"type": "leave", "name": name, "online": len(self.ctx.getWebSockets())})

    def history(self):
        rows = self.sql.exec(
            "SELECT id, name, text, at FROM messages ORDER BY id DESC LIMIT ?", HISTORY_ON_JOIN
        ).toArray()
        return [{"id": r["id"], "name": r["name"], "text": r["text"], "at": r["at"]} for r in reversed(rows)]

    def broadcast(self, event):
        data = json.dumps(event)
        for ws in self.ctx.getWebSockets():
            try:
                ws.send(data)
            except Exception:  # a socket closing at this very moment: it will get its close
                pass
