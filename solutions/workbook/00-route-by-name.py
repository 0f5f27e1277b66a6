# Exercise: send /count/<name> to the counter object of that name.
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    """https://app.example.com/count/<name> counts a visit of <name>; any other path is a 404."""

    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("count/"):
            name = path.removeprefix("count/")
            stub = self.env.COUNTER.getByName(name)  # one object per name, the same one worldwide
            return Response(f"{await stub.increment()}")
        return Response("not found", status=404)
