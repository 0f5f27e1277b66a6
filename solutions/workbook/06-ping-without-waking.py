# Exercise: answer the clients' keep-alive pings without waking the object.
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response


class Room(DurableObject):
    """Passes each message on to everyone else in the room. Clients send 'ping' every 20 s and
    expect 'pong' back."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # the runtime answers an exact "ping" itself, even while the object hibernates
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        for other in self.ctx.getWebSockets():
            if other is not ws:
                other.send(message)
