# Differently written right answers to exercise 06-team-channels: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: the name and the channel both in the socket's tags, read back with getTags()
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [query["channel"][0], "user:" + query["user"][0]])
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        channel, user = self.ctx.getTags(ws)
        for other in self.ctx.getWebSockets(channel):
            if other != ws:
                other.send(f"{user.removeprefix('user:')}: {message}")

# %% right: every socket from getWebSockets(), filtered by the channel kept in its attachment
from js import URL, WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    async def fetch(self, request):
        params = URL.new(request.url).searchParams
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        server.serializeAttachment({"user": params.get("user"), "channel": params.get("channel")})
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        sender = ws.deserializeAttachment()
        for other in self.ctx.getWebSockets():
            if other is ws:
                continue
            if other.deserializeAttachment()["channel"] == sender["channel"]:
                other.send(sender["user"] + ": " + message)
