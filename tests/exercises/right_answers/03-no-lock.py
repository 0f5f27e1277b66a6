# Differently written right answers to exercise 03-no-lock: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: seats in SQL, reserved with a conditional UPDATE, given back with another
from workers import DurableObject, fetch


class Concert(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS sale (id INTEGER PRIMARY KEY CHECK (id = 1), seats INTEGER)")
        self.sql.exec("CREATE TABLE IF NOT EXISTS tickets (fan TEXT PRIMARY KEY, card TEXT)")

    async def open(self, seats):
        self.sql.exec("INSERT OR REPLACE INTO sale VALUES (1, ?)", seats)

    async def buy(self, fan, card):
        if self.sql.exec("UPDATE sale SET seats = seats - 1 WHERE seats > 0").rowsWritten == 0:
            return "sold out"
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if not response.ok:
            self.sql.exec("UPDATE sale SET seats = seats + 1")
            return "declined"
        self.sql.exec("INSERT INTO tickets VALUES (?, ?)", fan, card)
        return "booked"

    async def seats_left(self):
        return self.sql.exec("SELECT seats FROM sale").one()["seats"]

# %% right: a hold per fan; the seats left are counted from the holds, a declined hold is deleted
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("capacity", seats)

    async def held(self):
        return len(await self.ctx.storage.list(prefix="hold:"))

    async def buy(self, fan, card):
        if await self.held() >= await self.ctx.storage.get("capacity"):
            return "sold out"
        await self.ctx.storage.put(f"hold:{fan}", card)
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status != 200:
            await self.ctx.storage.delete(f"hold:{fan}")
            return "declined"
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("capacity") - await self.held()

# %% right: the give-back as a helper that reads and writes inside storage.transaction()
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def change_seats(self, by):
        async def change(txn):
            seats = await txn.get("seats")
            if seats + by < 0:
                return False
            await txn.put("seats", seats + by)
            return True

        return await self.ctx.storage.transaction(change)

    async def buy(self, fan, card):
        if not await self.change_seats(-1):
            return "sold out"
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status == 402:
            await self.change_seats(+1)
            return "declined"
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")
