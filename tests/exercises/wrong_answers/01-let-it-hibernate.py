# Plausible wrong answers to exercise 01-let-it-hibernate: its check must reject each one.

# %% wrong: a timer per ping that cancels the previous one (right answers, but billed while it waits)
import asyncio

from workers import DurableObject


class Presence(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.timers = {}

    async def ping(self, user):
        await self.ctx.storage.put(f"online:{user}", True)
        if user in self.timers:
            self.timers[user].cancel()

        async def expire():
            await asyncio.sleep(30)
            await self.ctx.storage.delete(f"online:{user}")

        self.timers[user] = asyncio.get_running_loop().create_task(expire())

    async def is_online(self, user):
        return await self.ctx.storage.get(f"online:{user}") or False

# %% wrong: the last-seen times kept in a field (gone after an eviction)
from js import Date
from workers import DurableObject


class Presence(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.seen = {}

    async def ping(self, user):
        self.seen[user] = Date.now()

    async def is_online(self, user):
        return user in self.seen and Date.now() - self.seen[user] < 30_000

# %% wrong: stored, but never expires
from workers import DurableObject


class Presence(DurableObject):
    async def ping(self, user):
        await self.ctx.storage.put(f"online:{user}", True)

    async def is_online(self, user):
        return await self.ctx.storage.get(f"online:{user}") or False

# %% wrong: online for 25 s after a ping instead of 30 s
from js import Date
from workers import DurableObject


class Presence(DurableObject):
    async def ping(self, user):
        await self.ctx.storage.put(f"seen:{user}", Date.now())

    async def is_online(self, user):
        seen = await self.ctx.storage.get(f"seen:{user}")
        return seen is not None and Date.now() - seen < 25_000

# %% wrong: online for 34 s after a ping instead of 30 s
from js import Date
from workers import DurableObject


class Presence(DurableObject):
    async def ping(self, user):
        await self.ctx.storage.put(f"seen:{user}", Date.now())

    async def is_online(self, user):
        seen = await self.ctx.storage.get(f"seen:{user}")
        return seen is not None and Date.now() - seen < 34_000
