"""A chat room: one Durable Object per room. Clients open a WebSocket to
`/rooms/<room>?name=<user>`; every message is sent to everyone else in the room as
"<name>: <text>", joins and leaves are announced, and "/who" lists who is online.

The room accepts sockets with the Hibernation API (`ctx.acceptWebSocket`), so it can sleep
between messages while everyone stays connected, and it is not billed while it sleeps.
"""

from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class ChatRoom(DurableObject):
    async def fetch(self, request):
        name = parse_qs(urlparse(request.url).query).get("name", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        member = (await self.ctx.storage.get("members_seen") or 0) + 1
        await self.ctx.storage.put({"members_seen": member, f"member:{member}": name})
        server.serializeAttachment(member)  # the socket carries its member number
        self._send_all(f"* {name} joined", skip=server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "/who":
            names = [await self._name(other) for other in self.ctx.getWebSockets()]
            ws.send("online: " + ", ".join(sorted(names)))
        else:
            self._send_all(f"{await self._name(ws)}: {message}", skip=ws)

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)  # answer the close frame
        name = await self._name(ws)
        await self.ctx.storage.delete(f"member:{ws.deserializeAttachment()}")
        self._send_all(f"* {name} left", skip=ws)

    async def _name(self, ws):
        return await self.ctx.storage.get(f"member:{ws.deserializeAttachment()}") or "anonymous"

    def _send_all(self, text, skip):
        for ws in self.ctx.getWebSockets():
            if ws != skip:
                ws.send(text)
