"""Page views: one Durable Object per page counts how often it was seen.

The Worker in front (not part of this kata) calls `env.COUNTER.getByName(path)` for the
page being viewed, then `increment()`; the analytics dashboard calls `views()`. The same
object also answers HTTP: `POST` counts a view, `GET` reads the total.
"""

from workers import DurableObject, Response

# Module-level state outlives the instance: the count survives when the object is evicted.
COUNTS = {}


class Counter(DurableObject):
    async def increment(self):
        """Count one page view and return the new total."""
        key = self.ctx.id.toString()
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]

    async def views(self):
        """The total number of views so far."""
        return COUNTS.get(self.ctx.id.toString(), 0)

    async def fetch(self, request):
        if request.method == "POST":
            return Response(str(await self.increment()))
        return Response(str(await self.views()))
