"""A news site's page-view counter. Every article view counts one view; `/stats` shows the
total number of views on the site. On a big news day the site gets thousands of views per
second.

The count is sharded: each view increments one of SHARDS counter objects, picked at random, so
each object takes about 1/SHARDS of the load; `/stats` asks every shard and adds them up (reads
are rare, so a fan-out of SHARDS calls per read is cheap).
"""

import asyncio
import random
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

SHARDS = 2  # twice the capacity of one counter


class ViewCounter(DurableObject):
    async def increment(self):
        views = (await self.ctx.storage.get("views") or 0) + 1
        await self.ctx.storage.put("views", views)
        return views

    async def count(self):
        return await self.ctx.storage.get("views") or 0


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/stats":
            counts = await asyncio.gather(*(self._shard(i).count() for i in range(SHARDS)))
            return Response.from_json({"views": sum(counts)})
        await self._shard(random.randrange(SHARDS)).increment()
        return Response(f"<article>{path}</article>", headers={"content-type": "text/html"})

    def _shard(self, i):
        return self.env.VIEWS.getByName(f"views:shard:{i}")
