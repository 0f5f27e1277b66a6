# Differently written right answers to exercise 07-session-costs: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: the last use stored; one alarm pending at a time, which checks and sets itself again if used meanwhile
from js import Date
from workers import DurableObject

EXPIRY_MS = 30 * 60 * 1000


class Sessions(DurableObject):
    async def touch(self):
        await self.ctx.storage.put("__last_used", Date.now())
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + EXPIRY_MS)

    async def save(self, key, value):
        await self.ctx.storage.put(key, value)
        await self.touch()

    async def load(self, key):
        await self.touch()
        return await self.ctx.storage.get(key)

    async def alarm(self, alarm_info):
        expires = await self.ctx.storage.get("__last_used") + EXPIRY_MS
        if Date.now() >= expires:
            await self.ctx.storage.deleteAll()
        else:
            await self.ctx.storage.setAlarm(expires)

# %% right: the values in a SQL table, emptied by the alarm
from js import Date
from workers import DurableObject


class Sessions(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS session (key TEXT PRIMARY KEY, value)")

    async def save(self, key, value):
        self.sql.exec("INSERT OR REPLACE INTO session VALUES (?, ?)", key, value)
        await self.ctx.storage.setAlarm(Date.now() + 30 * 60_000)

    async def load(self, key):
        await self.ctx.storage.setAlarm(Date.now() + 30 * 60_000)
        rows = self.sql.exec("SELECT value FROM session WHERE key = ?", key).toArray()
        return rows[0]["value"] if rows else None

    async def alarm(self, alarm_info):
        self.sql.exec("DELETE FROM session")
