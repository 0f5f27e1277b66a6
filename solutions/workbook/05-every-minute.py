# Exercise: a digest once a minute, which calling start() never pushes back.
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    """start() is called on every page load; a digest goes out once a minute (sent() counts them)."""

    async def start(self):
        if await self.ctx.storage.getAlarm() is None:          # one is pending: leave it where it is
            await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def alarm(self, alarm_info):
        sent = (await self.ctx.storage.get("sent") or 0) + 1
        await self.ctx.storage.put("sent", sent)                # stands for sending the digest
        await self.ctx.storage.setAlarm(Date.now() + 60_000)    # an alarm fires once: set the next one

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0
