# Differently written right answers to exercise 00-route-by-name: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: idFromName + get instead of getByName, the URL parsed with urllib
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        parts = urlparse(request.url).path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "count" and parts[1]:
            stub = self.env.COUNTER.get(self.env.COUNTER.idFromName(parts[1]))
            count = await stub.increment()
            return Response(str(count))
        return Response("not found", status=404)

# %% right: a helper method, the JavaScript URL class and a match statement
from js import URL
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    def counter_for(self, name):
        return self.env.COUNTER.getByName(name)

    async def fetch(self, request):
        match URL.new(request.url).pathname.split("/"):
            case ["", "count", name] if name:
                return Response(str(await self.counter_for(name).increment()))
            case _:
                return Response("Not Found", status=404, headers={"content-type": "text/plain"})
