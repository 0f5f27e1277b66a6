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
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # TODO: this dict lives in the instance's memory. When the room hibernates (10 s with
        # nothing to do) the instance is dropped and the constructor runs again on the next
        # message: the sockets are still connected, but this dict is empty. Ask the runtime for
        # the room's sockets instead, and keep each user's name with their socket.
        self.sessions = {}  # socket -> user name

    async def fetch(self, request):
        name = parse_qs(urlparse(request.url).query).get("name", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        self.sessions[server] = name
        self._broadcast(f"* {name} joined", exclude=server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        name = self.sessions[ws]
        if message == "/who":
            ws.send("online: " + ", ".join(sorted(self.sessions.values())))
        else:
            self._broadcast(f"{name}: {message}", exclude=ws)

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)  # answer the close frame
        name = self.sessions.pop(ws, "someone")
        self._broadcast(f"* {name} left")

    def _broadcast(self, text, exclude=None):
        for ws in self.sessions:
            if ws != exclude:
                ws.send(text)
