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
        self.ctx.acceptWebSocket(server, [f"name:{name}"])  # the runtime keeps the tags with the socket
        for other in self.ctx.getWebSockets():
            if other != server:
                other.send(f"* {name} joined")
        return Response(None, status=101, web_socket=client)

    def name_of(self, ws):
        tags = [t for t in self.ctx.getTags(ws) if t.startswith("name:")]
        return tags[0].removeprefix("name:") if tags else "anonymous"

    async def webSocketMessage(self, ws, message):
        others = [other for other in self.ctx.getWebSockets() if other != ws]
        if message == "/who":
            ws.send("online: " + ", ".join(sorted(self.name_of(s) for s in self.ctx.getWebSockets())))
            return
        for other in others:
            other.send(f"{self.name_of(ws)}: {message}")

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)  # answer the close frame
        for other in self.ctx.getWebSockets():
            if other != ws:
                other.send(f"* {self.name_of(ws)} left")
