"""The search API of a SaaS product. Every request carries the caller's user id in the
`X-User` header. Each user may make LIMIT requests per minute; beyond that the API answers
429 Too Many Requests until the next minute starts.
"""

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT = 100  # requests per user per window
WINDOW_MS = 60_000


USED = {}  # (user, window) -> requests: counted in the Worker, no round trip to an object


class RateLimiter(DurableObject):
    pass


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("X-User")
        if not user:
            return Response("missing X-User header", status=401)
        key = (user, Date.now() // WINDOW_MS)
        if USED.get(key, 0) >= LIMIT:
            return Response("slow down", status=429)
        USED[key] = USED.get(key, 0) + 1
        return Response(f"search results for {user}")
