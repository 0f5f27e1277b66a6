"""A news site's page-view counter. Every article view counts one view; `/stats` shows the
total number of views on the site. On a big news day the site gets thousands of views per
second.
"""

import asyncio
import zlib
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

SHARDS = 32


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
            totals = await asyncio.gather(*(self.env.VIEWS.getByName(f"shard-{n}").count() for n in range(SHARDS)))
            return Response.from_json({"views": sum(totals)})
        # An article always counts on the same shard; articles spread over all of them.
        await self.env.VIEWS.getByName(f"shard-{zlib.crc32(path.encode()) % SHARDS}").increment()
        return Response(f"<article>{path}</article>", headers={"content-type": "text/html"})
