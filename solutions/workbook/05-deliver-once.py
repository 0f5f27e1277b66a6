# Exercise: deliver every message exactly once, whatever the partner's API answers.
from js import Date
from workers import DurableObject, fetch

INBOX = "https://partner.example.com/inbox"


class Outbox(DurableObject):
    """send(message) queues a message; the alarm POSTs each queued message to the partner's inbox."""

    async def send(self, message):
        number = (await self.ctx.storage.get("last") or 0) + 1
        await self.ctx.storage.put({"last": number, f"message:{number:08d}": message})  # one key each, in order
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        waiting = await self.ctx.storage.list({"prefix": "message:"})
        for key, message in waiting.items():
            response = await fetch(INBOX, method="POST", body=message)
            if not response.ok:  # kept in storage; failing makes the platform run the alarm again
                raise ConnectionError(f"the partner answered {response.status}")
            await self.ctx.storage.delete(key)  # delivered: a retry will not send it again
