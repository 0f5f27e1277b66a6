# Differently written right answers to exercise 05-every-minute: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: a "running" flag in storage instead of getAlarm()
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    async def start(self):
        if not await self.ctx.storage.get("running"):
            await self.ctx.storage.put("running", True)
            await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("sent", await self.sent() + 1)
        await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0

# %% right: the next digest's time kept in storage, each one a minute after the last was due (no drift)
from js import Date
from workers import DurableObject

MINUTE_MS = 60 * 1000


class Digest(DurableObject):
    async def start(self):
        if await self.ctx.storage.getAlarm() is None:
            due = Date.now() + MINUTE_MS
            await self.ctx.storage.put("due", due)
            await self.ctx.storage.setAlarm(due)

    async def alarm(self, alarm_info):
        due = await self.ctx.storage.get("due") + MINUTE_MS
        sent = await self.ctx.storage.get("sent") or 0
        await self.ctx.storage.put({"due": due, "sent": sent + 1})
        await self.ctx.storage.setAlarm(due)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0
