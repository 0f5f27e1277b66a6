"""The search API of a SaaS product. Every request carries the caller's user id in the
`X-User` header. Each user may make LIMIT requests per minute; beyond that the API answers
429 Too Many Requests until the next minute starts.
"""

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT = 100  # requests per user per window
WINDOW_MS = 60_000


class RateLimiter(DurableObject):
    async def allow(self):
        """Count one request of this object's user; False if the current window is used up."""
        key = f"used:{Date.now() // WINDOW_MS}"
        used = await self.ctx.storage.get(key) or 0
        if used >= LIMIT:
            return False
        if used == 0:
            await self.ctx.storage.deleteAll()  # a new window: the old counts go
        await self.ctx.storage.put(key, used + 1)
        return True


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("X-User")
        if not user:
            return Response("missing X-User header", status=401)
        limiter = self.env.LIMITER.get(self.env.LIMITER.idFromName(user))
        if not await limiter.allow():
            return Response("slow down", status=429)
        return Response(f"search results for {user}")
