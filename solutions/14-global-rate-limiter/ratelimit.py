"""The search API of a SaaS product. Every request carries the caller's user id in the
`X-User` header. Each user may make LIMIT requests per minute; beyond that the API answers
429 Too Many Requests until the next minute starts.

Each user has a limiter object of their own (`getByName(f"user:{user}")`): a user's requests
are what must be counted together, so a user is the unit of coordination, and the load spreads
over as many objects as there are users.
"""

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT = 100  # requests per user per window
WINDOW_MS = 60_000


class RateLimiter(DurableObject):
    async def allow(self):
        """Count one request of this object's user; False if the current window is used up."""
        window = Date.now() // WINDOW_MS
        state = await self.ctx.storage.get("window")
        if state is None or state["window"] != window:
            state = {"window": window, "used": 0}  # a new minute: one key, overwritten, no garbage
        if state["used"] >= LIMIT:
            return False
        state["used"] += 1
        await self.ctx.storage.put("window", state)
        return True


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("X-User")
        if not user:
            return Response("missing X-User header", status=401)
        limiter = self.env.LIMITER.getByName(f"user:{user}")  # one limiter per user
        if not await limiter.allow():
            return Response("slow down", status=429)
        return Response(f"search results for {user}")
