# Plausible wrong answers to exercise 02-keys-in-order: its check must reject each one.

# %% wrong: padded to two digits only (event 100 sorts before event 99)
from workers import DurableObject


class EventLog(DurableObject):
    async def record(self, n, text):
        await self.ctx.storage.put(f"event:{n:02d}", text)

    async def latest(self, k):
        events = await self.ctx.storage.list({"prefix": "event:", "reverse": True, "limit": k})
        return list(events.values())

# %% wrong: reads every event and sorts them by number in Python
from workers import DurableObject


class EventLog(DurableObject):
    async def record(self, n, text):
        await self.ctx.storage.put(f"event:{n}", text)

    async def latest(self, k):
        events = await self.ctx.storage.list({"prefix": "event:"})
        newest = sorted(events.items(), key=lambda item: int(item[0].removeprefix("event:")), reverse=True)
        return [text for _, text in newest[:k]]

# %% wrong: the whole log as one list under one key (past 2 MB a value is refused)
from workers import DurableObject


class EventLog(DurableObject):
    async def record(self, n, text):
        log = await self.ctx.storage.get("log") or []
        log.append(text)
        await self.ctx.storage.put("log", log)

    async def latest(self, k):
        log = await self.ctx.storage.get("log") or []
        return log[::-1][:k]

# %% wrong: three digits of padding: right for 150 events, wrong from event 1,000 on
from workers import DurableObject


class EventLog(DurableObject):
    async def record(self, n, text):
        await self.ctx.storage.put(f"event:{n:03d}", text)

    async def latest(self, k):
        events = await self.ctx.storage.list({"prefix": "event:", "reverse": True, "limit": k})
        return list(events.values())
