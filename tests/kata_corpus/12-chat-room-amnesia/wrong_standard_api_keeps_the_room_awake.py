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
        self.sessions = {}  # socket -> user name: the room never sleeps, so nothing is forgotten

    async def fetch(self, request):
        name = parse_qs(urlparse(request.url).query).get("name", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        server.accept()
        self.sessions[server] = name
        server.addEventListener("message", lambda event: self._on_message(server, event.data))
        server.addEventListener("close", lambda event: self._on_close(server))
        self._broadcast(f"* {name} joined", exclude=server)
        return Response(None, status=101, web_socket=client)

    def _on_message(self, ws, message):
        if message == "/who":
            ws.send("online: " + ", ".join(sorted(self.sessions.values())))
        else:
            self._broadcast(f"{self.sessions[ws]}: {message}", exclude=ws)

    def _on_close(self, ws):
        ws.close(1000, "bye")
        self._broadcast(f"* {self.sessions.pop(ws, 'someone')} left")

    def _broadcast(self, text, exclude=None):
        for ws in self.sessions:
            if ws != exclude:
                ws.send(text)
