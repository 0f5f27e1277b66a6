"""A team room: one Durable Object per room. Members open a WebSocket to
`/rooms/<room>?name=<user>`; every message goes to everyone else as "<name>: <text>", and
joins and leaves are announced. Moderators remove a member from the admin dashboard, which
calls the room's `remove(name)` method over RPC.

The Worker is deployed with compatibility date 2026-01-01 (see wrangler.toml): the tests run
the room with that date too.
"""

from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response

OPEN = 1  # WebSocket.readyState: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED


class TeamRoom(DurableObject):
    async def fetch(self, request):
        name = parse_qs(urlparse(request.url).query).get("name", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [f"user:{name}"])
        server.serializeAttachment({"name": name})
        self._broadcast(f"* {name} joined", exclude=server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        self._broadcast(f"{self._name(ws)}: {message}", exclude=ws)

    async def webSocketClose(self, ws, code, reason, wasClean):
        # Answer the member's close frame. With the Hibernation API the runtime never does it
        # for us, and the member would see 1006 (abnormal closure). The reserved
        # codes 1005, 1006 and 1015 only report what happened and may not be sent; on a socket
        # that is already closed (a dropped connection) close() does nothing.
        ws.close(1000 if code in (1005, 1006, 1015) else code, reason)
        self._broadcast(f"* {self._name(ws)} left")

    async def remove(self, name):
        """Moderation (RPC from the admin dashboard): disconnect a member and tell the room."""
        for ws in self.ctx.getWebSockets(f"user:{name}"):
            ws.close(4003, "removed by a moderator")
        self._broadcast(f"* {name} was removed by a moderator")

    def _name(self, ws):
        attachment = ws.deserializeAttachment()
        return attachment["name"] if attachment else "anonymous"

    def _broadcast(self, text, exclude=None):
        for ws in self.ctx.getWebSockets():
            if ws == exclude or ws.readyState != OPEN:
                continue  # getWebSockets() also returns sockets that are closing
            try:
                ws.send(text)
            except Exception:  # noqa: BLE001 - one dead socket must not cost the others the message
                pass
