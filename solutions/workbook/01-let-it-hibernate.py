# Exercise: decide "online" from a stored time, with nothing waiting in memory.
from js import Date
from workers import DurableObject


class Presence(DurableObject):
    """ping(user) marks a user online; is_online(user) says whether they pinged in the last 30 s."""

    async def ping(self, user):
        await self.ctx.storage.put(f"seen:{user}", Date.now())   # when, in ms on the world's clock

    async def is_online(self, user):
        seen = await self.ctx.storage.get(f"seen:{user}")
        return seen is not None and Date.now() - seen < 30_000
