# Exercise: channels that survive hibernation: tags and attachments instead of fields.
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    """One object per team. GET /connect?user=ada&channel=dev opens a socket; a message goes to the
    others in the sender's channel as 'ada: <text>'."""

    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        user, channel = query["user"][0], query["channel"][0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [channel])            # the channel is the socket's tag
        server.serializeAttachment({"user": user, "channel": channel})  # kept with the connection
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        me = ws.deserializeAttachment()                        # still there after hibernation
        for other in self.ctx.getWebSockets(me["channel"]):   # this channel's sockets only
            if other is not ws:
                other.send(f"{me['user']}: {message}")
