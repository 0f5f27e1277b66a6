# Exercise: the same sessions, for less: make durable_dojo.advise and the bill happy.
from js import Date
from workers import DurableObject

EXPIRY_S = 30 * 60


class Sessions(DurableObject):
    """One object per session: save(key, value) and load(key). A session's data is deleted 30 minutes
    after its last use (a save or a load)."""

    async def save(self, key, value):
        await self.ctx.storage.put(key, value)                 # storage awaits already hold the gate
        await self.expire_later()

    async def load(self, key):
        value = await self.ctx.storage.get(key)
        await self.expire_later()
        return value

    async def expire_later(self):
        # an alarm, not a timer: the object may hibernate meanwhile and costs no duration
        await self.ctx.storage.setAlarm(Date.now() + EXPIRY_S * 1000)   # replaces the previous one

    async def alarm(self, alarm_info):
        await self.ctx.storage.deleteAll()
