# Differently written right answers to exercise 01-let-it-hibernate: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: the time each user stops being online stored in SQL, with the world's clock from datetime
import datetime

from js import Date
from workers import DurableObject


class Presence(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS presence (user TEXT PRIMARY KEY, until_ms REAL)")

    def now_ms(self):
        return Date.now()

    async def ping(self, user):
        until = self.now_ms() + datetime.timedelta(seconds=30).total_seconds() * 1000
        self.sql.exec("INSERT OR REPLACE INTO presence VALUES (?, ?)", user, until)

    async def is_online(self, user):
        rows = self.sql.exec("SELECT until_ms FROM presence WHERE user = ?", user).toArray()
        return bool(rows) and self.now_ms() < rows[0]["until_ms"]

# %% right: every user's last ping in one stored dict
from js import Date
from workers import DurableObject


class Presence(DurableObject):
    async def ping(self, user):
        seen = await self.ctx.storage.get("seen") or {}
        seen[user] = Date.now()
        await self.ctx.storage.put("seen", seen)

    async def is_online(self, user):
        seen = await self.ctx.storage.get("seen") or {}
        return user in seen and Date.now() - seen[user] <= 29_999

# %% right: seconds from time.time(), which reads the world's clock as Date.now() does
import time
from workers import DurableObject


class Presence(DurableObject):
    async def ping(self, user):
        await self.ctx.storage.put(f"seen:{user}", time.time())

    async def is_online(self, user):
        seen = await self.ctx.storage.get(f"seen:{user}")
        return seen is not None and time.time() - seen < 30
