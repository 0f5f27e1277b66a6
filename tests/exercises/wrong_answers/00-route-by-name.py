# Plausible wrong answers to exercise 00-route-by-name: its check must reject each one.

# %% wrong: a new unique object for every request
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("count/"):
            stub = self.env.COUNTER.get(self.env.COUNTER.newUniqueId())
            return Response(f"{await stub.increment()}")
        return Response("not found", status=404)

# %% wrong: the Worker counts in a module-level dict and never asks an object
from workers import Response, WorkerEntrypoint

COUNTS = {}


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("count/"):
            name = path.removeprefix("count/")
            COUNTS[name] = COUNTS.get(name, 0) + 1
            return Response(f"{COUNTS[name]}")
        return Response("not found", status=404)

# %% wrong: the whole URL as the name, so the object is not the one named 'ada'
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("count/"):
            stub = self.env.COUNTER.getByName(request.url)
            return Response(f"{await stub.increment()}")
        return Response("not found", status=404)

# %% wrong: wakes the object of every path, even the ones that need none
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        stub = self.env.COUNTER.getByName(path.removeprefix("count/"))
        count = await stub.increment()
        if path.startswith("count/"):
            return Response(f"{count}")
        return Response("not found", status=404)
