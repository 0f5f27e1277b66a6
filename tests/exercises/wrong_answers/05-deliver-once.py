# Plausible wrong answers to exercise 05-deliver-once: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: fails on a refusal, but clears the queue only at the end: the retry sends m1 and m2 again
from js import Date
from workers import DurableObject, fetch


class Outbox(DurableObject):
    async def send(self, message):
        queue = await self.ctx.storage.get("queue") or []
        queue.append(message)
        await self.ctx.storage.put("queue", queue)
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        for message in await self.ctx.storage.get("queue") or []:
            response = await fetch("https://partner.example.com/inbox", method="POST", body=message)
            if not response.ok:
                raise ConnectionError(f"the partner answered {response.status}")
        await self.ctx.storage.delete("queue")

# %% wrong: deletes each message before sending it: a refused one is gone (at most once)
from js import Date
from workers import DurableObject, fetch


class Outbox(DurableObject):
    async def send(self, message):
        number = (await self.ctx.storage.get("last") or 0) + 1
        await self.ctx.storage.put({"last": number, f"message:{number:08d}": message})
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        for key, message in (await self.ctx.storage.list({"prefix": "message:"})).items():
            await self.ctx.storage.delete(key)
            response = await fetch("https://partner.example.com/inbox", method="POST", body=message)
            if not response.ok:
                raise ConnectionError(f"the partner answered {response.status}")

# %% wrong: skips a refused message and carries on, so nothing ever sends it again
from js import Date
from workers import DurableObject, fetch


class Outbox(DurableObject):
    async def send(self, message):
        number = (await self.ctx.storage.get("last") or 0) + 1
        await self.ctx.storage.put({"last": number, f"message:{number:08d}": message})
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        for key, message in (await self.ctx.storage.list({"prefix": "message:"})).items():
            response = await fetch("https://partner.example.com/inbox", method="POST", body=message)
            if response.ok:
                await self.ctx.storage.delete(key)
            else:
                print("could not deliver", message)

# %% wrong: writes back the queue it read at the start, losing a message sent while it delivers
from js import Date
from workers import DurableObject, fetch


class Outbox(DurableObject):
    async def send(self, message):
        queue = await self.ctx.storage.get("queue") or []
        queue.append(message)
        await self.ctx.storage.put("queue", queue)
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        queue = await self.ctx.storage.get("queue") or []
        while queue:
            response = await fetch("https://partner.example.com/inbox", method="POST", body=queue[0])
            if not response.ok:
                raise ConnectionError(f"the partner answered {response.status}")
            queue.pop(0)
            await self.ctx.storage.put("queue", queue)

# %% wrong: remembers in storage that an alarm was set and never forgets it, so a message sent after the queue emptied waits for ever
from js import Date
from workers import DurableObject, fetch

INBOX = "https://partner.example.com/inbox"


class Outbox(DurableObject):
    async def send(self, message):
        number = (await self.ctx.storage.get("last") or 0) + 1
        await self.ctx.storage.put({"last": number, f"message:{number:08d}": message})
        if not await self.ctx.storage.get("alarm-set"):
            await self.ctx.storage.put("alarm-set", True)
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        waiting = await self.ctx.storage.list({"prefix": "message:"})
        for key, message in waiting.items():
            response = await fetch(INBOX, method="POST", body=message)
            if not response.ok:
                raise ConnectionError(f"the partner answered {response.status}")
            await self.ctx.storage.delete(key)
