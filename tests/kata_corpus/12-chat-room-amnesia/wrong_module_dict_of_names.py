"""A chat room: one Durable Object per room. Clients open a WebSocket to
`/rooms/<room>?name=<user>`; every message is sent to everyone else in the room as
"<name>: <text>", joins and leaves are announced, and "/who" lists who is online.

The room accepts sockets with the Hibernation API (`ctx.acceptWebSocket`), so it can sleep
between messages while everyone stays connected, and it is not billed while it sleeps.
"""

from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response

NAMES = {}  # socket -> user name, kept at module level so hibernation does not lose it


class ChatRoom(DurableObject):
    async def fetch(self, request):
        name = parse_qs(urlparse(request.url).query).get("name", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        NAMES[server] = name
        self._broadcast(f"* {name} joined", exclude=server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "/who":
            ws.send("online: " + ", ".join(sorted(NAMES.get(other, "anonymous") for other in self.ctx.getWebSockets())))
        else:
            self._broadcast(f"{NAMES.get(ws, 'anonymous')}: {message}", exclude=ws)

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)  # answer the close frame
        self._broadcast(f"* {NAMES.pop(ws, 'someone')} left", exclude=ws)

    def _broadcast(self, text, exclude=None):
        for ws in self.ctx.getWebSockets():
            if ws != exclude:
                ws.send(text)
