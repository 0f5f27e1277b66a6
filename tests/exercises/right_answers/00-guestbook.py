# Differently written right answers to exercise 00-guestbook: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: a SQL table of guests instead of one key-value list
from workers import DurableObject


class Guestbook(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS guests (n INTEGER PRIMARY KEY, who TEXT)")

    async def sign(self, who):
        self.sql.exec("INSERT INTO guests (who) VALUES (?)", who)
        return self.sql.exec("SELECT count(*) AS n FROM guests").one()["n"]

    async def names(self):
        return [row["who"] for row in self.sql.exec("SELECT who FROM guests ORDER BY n")]

# %% right: one key per guest with a stored count, read back with a prefix list
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put({"count": count, f"guest:{count:06d}": who})
        return count

    async def names(self):
        guests = await self.ctx.storage.list(prefix="guest:")
        return list(guests.values())

# %% right: loaded once in the constructor under blockConcurrencyWhile, kept in a field, written through
from workers import DurableObject


class Guestbook(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.guests = []

        async def load():
            self.guests = await ctx.storage.get("guests") or []

        ctx.blockConcurrencyWhile(load)

    async def sign(self, who):
        self.guests = [*self.guests, who]
        await self.ctx.storage.put("guests", self.guests)
        return len(self.guests)

    async def names(self):
        return list(self.guests)

# %% right: the synchronous key-value API of a SQLite-backed object (ctx.storage.kv)
from workers import DurableObject


class Guestbook(DurableObject):
    def sign(self, who):
        guests = self.ctx.storage.kv.get("guests") or []
        guests.append(who)
        self.ctx.storage.kv.put("guests", guests)
        return len(guests)

    def names(self):
        return self.ctx.storage.kv.get("guests") or []
