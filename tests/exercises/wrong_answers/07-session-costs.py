# Plausible wrong answers to exercise 07-session-costs: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: no more blockConcurrencyWhile, but the timer in memory keeps every session billed
import asyncio

from workers import DurableObject


class Sessions(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.expiry = None

    async def save(self, key, value):
        await self.ctx.storage.put(key, value)
        self.expire_later()

    async def load(self, key):
        value = await self.ctx.storage.get(key)
        self.expire_later()
        return value

    def expire_later(self):
        if self.expiry is not None:
            self.expiry.cancel()

        async def expire():
            await asyncio.sleep(30 * 60)
            await self.ctx.storage.deleteAll()

        self.expiry = asyncio.get_running_loop().create_task(expire())

# %% wrong: an alarm now, but blockConcurrencyWhile still wraps every request
from js import Date
from workers import DurableObject


class Sessions(DurableObject):
    async def save(self, key, value):
        async def write():
            await self.ctx.storage.put(key, value)
            await self.ctx.storage.setAlarm(Date.now() + 30 * 60 * 1000)

        await self.ctx.blockConcurrencyWhile(write)

    async def load(self, key):
        async def read():
            await self.ctx.storage.setAlarm(Date.now() + 30 * 60 * 1000)
            return await self.ctx.storage.get(key)

        return await self.ctx.blockConcurrencyWhile(read)

    async def alarm(self, alarm_info):
        await self.ctx.storage.deleteAll()

# %% wrong: the alarm is set once, at the first use, so a busy session expires in the middle of its use
from js import Date
from workers import DurableObject


class Sessions(DurableObject):
    async def save(self, key, value):
        await self.ctx.storage.put(key, value)
        await self.expire_later()

    async def load(self, key):
        value = await self.ctx.storage.get(key)
        await self.expire_later()
        return value

    async def expire_later(self):
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 30 * 60 * 1000)

    async def alarm(self, alarm_info):
        await self.ctx.storage.deleteAll()

# %% wrong: the expiry moved by save() only, so a session that is only read expires 30 minutes after its last save
from js import Date
from workers import DurableObject


class Sessions(DurableObject):
    async def save(self, key, value):
        await self.ctx.storage.put(key, value)
        await self.ctx.storage.setAlarm(Date.now() + 30 * 60 * 1000)

    async def load(self, key):
        return await self.ctx.storage.get(key)

    async def alarm(self, alarm_info):
        await self.ctx.storage.deleteAll()
