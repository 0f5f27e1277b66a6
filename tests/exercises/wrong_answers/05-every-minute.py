# Plausible wrong answers to exercise 05-every-minute: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: remembers "already scheduled" in a field, which hibernation forgets between page loads
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.scheduled = False

    async def start(self):
        if not self.scheduled:
            await self.ctx.storage.setAlarm(Date.now() + 60_000)
            self.scheduled = True

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("sent", (await self.ctx.storage.get("sent") or 0) + 1)
        await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0

# %% wrong: start() leaves a pending alarm alone, but alarm() never sets the next one
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    async def start(self):
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("sent", (await self.ctx.storage.get("sent") or 0) + 1)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0

# %% wrong: alarm() sets the next one, but every start() still pushes it back a minute
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    async def start(self):
        await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("sent", (await self.ctx.storage.get("sent") or 0) + 1)
        await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0

# %% wrong: a digest every 59 s, not every minute
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    async def start(self):
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 59_000)

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("sent", (await self.ctx.storage.get("sent") or 0) + 1)
        await self.ctx.storage.setAlarm(Date.now() + 59_000)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0
