# Exercise: keys that list in event order, so latest() reads only what it returns.
from workers import DurableObject


class EventLog(DurableObject):
    """record(n, text) stores event number n; latest(k) returns the k latest texts, newest first."""

    async def record(self, n, text):
        await self.ctx.storage.put(f"event:{n:010d}", text)   # fixed width: text order is number order

    async def latest(self, k):
        events = await self.ctx.storage.list({"prefix": "event:", "reverse": True, "limit": k})
        return list(events.values())
