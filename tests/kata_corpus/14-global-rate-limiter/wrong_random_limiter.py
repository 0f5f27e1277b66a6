"""The search API of a SaaS product. Every request carries the caller's user id in the
`X-User` header. Each user may make LIMIT requests per minute; beyond that the API answers
429 Too Many Requests until the next minute starts.
"""

import random

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT = 100  # requests per user per window
WINDOW_MS = 60_000


class RateLimiter(DurableObject):
    async def allow(self, user):
        """Count one request of `user`; False if the user has used up the current window."""
        window = Date.now() // WINDOW_MS
        key = f"{user}:{window}"
        used = await self.ctx.storage.get(key) or 0
        if used >= LIMIT:
            return False
        await self.ctx.storage.put(key, used + 1)
        return True


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("X-User")
        if not user:
            return Response("missing X-User header", status=401)
        # Spread the load: any of 64 limiters will do.
        if not await self.env.LIMITER.getByName(f"limiter:{random.randrange(64)}").allow(user):
            return Response("slow down", status=429)
        return Response(f"search results for {user}")
