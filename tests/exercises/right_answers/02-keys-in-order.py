# Differently written right answers to exercise 02-keys-in-order: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: a SQL table, newest first with ORDER BY and LIMIT
from workers import DurableObject


class EventLog(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS events (n INTEGER PRIMARY KEY, text TEXT)")

    async def record(self, n, text):
        self.sql.exec("INSERT INTO events VALUES (?, ?)", n, text)

    async def latest(self, k):
        return [row["text"] for row in self.sql.exec("SELECT text FROM events ORDER BY n DESC LIMIT ?", k)]

# %% right: six digits of padding, list() with keyword arguments
from workers import DurableObject


class EventLog(DurableObject):
    def key(self, n):
        return "log/" + str(n).zfill(6)

    async def record(self, n, text):
        await self.ctx.storage.put(self.key(n), text)

    async def latest(self, k):
        newest = await self.ctx.storage.list(prefix="log/", reverse=True, limit=k)
        return [newest[key] for key in newest]
