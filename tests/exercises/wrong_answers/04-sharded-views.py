# Plausible wrong answers to exercise 04-sharded-views: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: views spread over 8 shards, but the total reads only the first one
import random

from workers import Response, WorkerEntrypoint


class PageViews(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST" and request.url.endswith("/view"):
            await self.env.COUNTER.getByName(f"views:{random.randrange(8)}").add(1)
            return Response("counted")
        if request.url.endswith("/views"):
            return Response(str(await self.env.COUNTER.getByName("views:0").count()))
        return Response("not found", status=404)

# %% wrong: the shard is the key's hash, and the key is always the same: one hot object again
import asyncio

from workers import Response, WorkerEntrypoint


class PageViews(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST" and request.url.endswith("/view"):
            await self.env.COUNTER.getByName(f"views:{hash('views') % 8}").add(1)
            return Response("counted")
        if request.url.endswith("/views"):
            counts = await asyncio.gather(*(self.env.COUNTER.getByName(f"views:{n}").count() for n in range(8)))
            return Response(str(sum(counts)))
        return Response("not found", status=404)

# %% wrong: two shards, each still asked for 1,000 adds a second
import asyncio
import random

from workers import Response, WorkerEntrypoint


class PageViews(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST" and request.url.endswith("/view"):
            await self.env.COUNTER.getByName(f"views:{random.randrange(2)}").add(1)
            return Response("counted")
        if request.url.endswith("/views"):
            counts = await asyncio.gather(*(self.env.COUNTER.getByName(f"views:{n}").count() for n in range(2)))
            return Response(str(sum(counts)))
        return Response("not found", status=404)

# %% wrong: a new unique object for every view: spread out, but nobody can find them to add them up
from workers import Response, WorkerEntrypoint


class PageViews(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST" and request.url.endswith("/view"):
            await self.env.COUNTER.get(self.env.COUNTER.newUniqueId()).add(1)
            return Response("counted")
        if request.url.endswith("/views"):
            return Response(str(await self.env.COUNTER.getByName("views").count()))
        return Response("not found", status=404)
