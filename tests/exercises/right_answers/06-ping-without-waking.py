# Differently written right answers to exercise 06-ping-without-waking: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: the pair made by a helper, sockets tagged, a ping that reaches the object answered too
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.answer_pings()

    def answer_pings(self):
        self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, ["lobby"])
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "ping":
            ws.send("pong")
            return
        for other in self.ctx.getWebSockets("lobby"):
            if other != ws:
                other.send(message)

# %% right: the auto-response set when a client connects, in fetch() (the runtime keeps it while the object hibernates)
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response


class Room(DurableObject):
    async def fetch(self, request):
        self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        for other in self.ctx.getWebSockets():
            if other is not ws:
                other.send(message)
