# Plausible wrong answers to exercise 06-ping-without-waking: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: the pair the wrong way round: it would answer "pong" with "ping", and pings go unanswered
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("pong", "ping"))

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        for other in self.ctx.getWebSockets():
            if other is not ws:
                other.send(message)

# %% wrong: the standard API keeps the object in memory, so pings need no waking, and it is billed all along
from js import WebSocketPair
from workers import DurableObject, Response


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sockets = set()

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        server.accept()
        self.sockets.add(server)

        def on_message(event):
            if event.data == "ping":
                server.send("pong")
                return
            for other in self.sockets:
                if other is not server:
                    other.send(event.data)

        server.addEventListener("message", on_message)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        pass
