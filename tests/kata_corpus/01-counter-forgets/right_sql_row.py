"""Page views: one Durable Object per page counts how often it was seen.

The Worker in front (not part of this kata) calls `env.COUNTER.getByName(path)` for the
page being viewed, then `increment()`; the analytics dashboard calls `views()`. The same
object also answers HTTP: `POST` counts a view, `GET` reads the total.
"""

from workers import DurableObject, Response


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")

    async def increment(self):
        """Count one page view and return the new total."""
        # One statement: read and write in SQLite, nothing can run in between.
        return self.sql.exec(
            "INSERT INTO views (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1 RETURNING n"
        ).one()["n"]

    async def views(self):
        """The total number of views so far."""
        rows = self.sql.exec("SELECT n FROM views").toArray()
        return rows[0]["n"] if rows else 0

    async def fetch(self, request):
        if request.method == "POST":
            return Response(str(await self.increment()))
        return Response(str(await self.views()))
