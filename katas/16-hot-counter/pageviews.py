"""A news site's page-view counter. Every article view counts one view; `/stats` shows the
total number of views on the site. On a big news day the site gets thousands of views per
second.
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


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
            # TODO: once the views are spread over several objects, the total is their sum.
            total = await self.env.VIEWS.getByName("global").count()
            return Response.from_json({"views": total})
        # TODO: every view of every article in the world goes through this one object, one at a
        # time. Spread the increments over several counter objects (shards).
        await self.env.VIEWS.getByName("global").increment()
        return Response(f"<article>{path}</article>", headers={"content-type": "text/html"})
