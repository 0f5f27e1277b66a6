"""Page views: one Durable Object per page counts how often it was seen.

The Worker in front (not part of this kata) calls `env.COUNTER.getByName(path)` for the
page being viewed, then `increment()`; the analytics dashboard calls `views()`. The same
object also answers HTTP: `POST` counts a view, `GET` reads the total.
"""

from workers import DurableObject, Response


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.count = 0
        # Load the stored count before any event is delivered; from then on the field is a
        # copy of storage, written through on every change.
        ctx.blockConcurrencyWhile(self.load)

    async def load(self):
        self.count = await self.ctx.storage.get("count") or 0

    async def increment(self):
        """Count one page view and return the new total."""
        self.count += 1
        await self.ctx.storage.put("count", self.count)
        return self.count

    async def views(self):
        """The total number of views so far."""
        return self.count

    async def fetch(self, request):
        if request.method == "POST":
            return Response(str(await self.increment()))
        return Response(str(await self.views()))
