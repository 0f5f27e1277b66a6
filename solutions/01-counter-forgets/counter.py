"""Page views: one Durable Object per page counts how often it was seen.

The Worker in front (not part of this kata) calls `env.COUNTER.getByName(path)` for the
page being viewed, then `increment()`; the analytics dashboard calls `views()`. The same
object also answers HTTP: `POST` counts a view, `GET` reads the total.
"""

from workers import DurableObject, Response


class Counter(DurableObject):
    async def increment(self):
        """Count one page view and return the new total."""
        # Storage is the truth: it outlives eviction, hibernation and restarts. The read and
        # the write have only storage awaits between them, so the input gate keeps other
        # requests out and no view is lost, even when many arrive at once.
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return count

    async def views(self):
        """The total number of views so far."""
        return await self.ctx.storage.get("count") or 0

    async def fetch(self, request):
        if request.method == "POST":
            return Response(str(await self.increment()))
        return Response(str(await self.views()))
