"""A news site's page-view counter. Every article view counts one view; `/stats` shows the
total number of views on the site. On a big news day the site gets thousands of views per
second.
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

FLUSH_EVERY = 10
PENDING = {"views": 0}  # counted in the Worker, sent to the counter ten at a time


class ViewCounter(DurableObject):
    async def increment(self, by=1):
        views = (await self.ctx.storage.get("views") or 0) + by
        await self.ctx.storage.put("views", views)
        return views

    async def count(self):
        return await self.ctx.storage.get("views") or 0


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        counter = self.env.VIEWS.getByName("global")
        if path == "/stats":
            return Response.from_json({"views": await counter.count() + PENDING["views"]})
        PENDING["views"] += 1
        if PENDING["views"] >= FLUSH_EVERY:
            batch, PENDING["views"] = PENDING["views"], 0
            await counter.increment(batch)
        return Response(f"<article>{path}</article>", headers={"content-type": "text/html"})
