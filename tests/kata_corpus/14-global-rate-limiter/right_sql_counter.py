"""The search API of a SaaS product. Every request carries the caller's user id in the
`X-User` header. Each user may make LIMIT requests per minute; beyond that the API answers
429 Too Many Requests until the next minute starts.
"""

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT = 100  # requests per user per window
WINDOW_MS = 60_000


class RateLimiter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, used INTEGER NOT NULL)")

    async def allow(self):
        """Count one request of this object's user; False if the current window is used up."""
        window = Date.now() // WINDOW_MS
        self.sql.exec("DELETE FROM windows WHERE start < ?", window)
        used = self.sql.exec("INSERT INTO windows (start, used) VALUES (?, 1) "
                             "ON CONFLICT (start) DO UPDATE SET used = used + 1 RETURNING used", window).one()["used"]
        return used <= LIMIT


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("X-User")
        if not user:
            return Response("missing X-User header", status=401)
        if not await self.env.LIMITER.getByName(f"limit:{user}").allow():
            return Response("slow down", status=429)
        return Response(f"search results for {user}")
