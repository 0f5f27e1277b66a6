"""Page views: one Durable Object per page counts how often it was seen.

The Worker in front (not part of this kata) calls `env.COUNTER.getByName(path)` for the
page being viewed, then `increment()`; the analytics dashboard calls `views()`. The same
object also answers HTTP: `POST` counts a view, `GET` reads the total.
"""

from workers import DurableObject, Response


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # A Durable Object is single-threaded, so a plain field makes a safe counter:
        # no two requests can ever update it at the same time.
        # TODO: the count has to outlive this instance of the object.
        self.count = 0

    async def increment(self):
        """Count one page view and return the new total."""
        # TODO
        self.count += 1
        return self.count

    async def views(self):
        """The total number of views so far."""
        # TODO
        return self.count

    async def fetch(self, request):
        if request.method == "POST":
            return Response(str(await self.increment()))
        return Response(str(await self.views()))
