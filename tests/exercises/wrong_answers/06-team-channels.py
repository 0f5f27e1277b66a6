# Plausible wrong answers to exercise 06-team-channels: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: names in attachments, but getWebSockets() without a tag: every channel hears it
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [query["channel"][0]])
        server.serializeAttachment({"user": query["user"][0]})
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        user = ws.deserializeAttachment()["user"]
        for other in self.ctx.getWebSockets():
            if other is not ws:
                other.send(f"{user}: {message}")

# %% wrong: the channel in the tag, but the names in a field, which hibernation empties
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.names = {}

    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [query["channel"][0]])
        self.names[server] = query["user"][0]
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        channel = self.ctx.getTags(ws)[0]
        for other in self.ctx.getWebSockets(channel):
            if other is not ws:
                other.send(f"{self.names.get(ws, 'someone')}: {message}")

# %% wrong: sends to the whole channel, the sender included
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [query["channel"][0]])
        server.serializeAttachment({"user": query["user"][0], "channel": query["channel"][0]})
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        me = ws.deserializeAttachment()
        for other in self.ctx.getWebSockets(me["channel"]):
            other.send(f"{me['user']}: {message}")

# %% wrong: tags given as [user, channel] but read back as [channel, user], so the message goes to the sender's own tag
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [query["user"][0], query["channel"][0]])
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        channel, user = self.ctx.getTags(ws)
        for other in self.ctx.getWebSockets(channel):
            if other is not ws:
                other.send(f"{user}: {message}")
