# Plausible wrong answers to exercise 00-guestbook: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: the guest list kept in a module-level dict (survives an eviction, not a deploy)
from workers import DurableObject

GUESTS = {}


class Guestbook(DurableObject):
    async def sign(self, who):
        GUESTS.setdefault(self.ctx.id.name, []).append(who)
        return len(GUESTS[self.ctx.id.name])

    async def names(self):
        return GUESTS.get(self.ctx.id.name, [])

# %% wrong: the guest list kept on the class, shared by every book
from workers import DurableObject


class Guestbook(DurableObject):
    guests = []

    async def sign(self, who):
        self.guests.append(who)
        return len(self.guests)

    async def names(self):
        return self.guests

# %% wrong: appends to the list read from storage and never stores it again
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        guests = await self.ctx.storage.get("guests") or []
        guests.append(who)
        return len(guests)

    async def names(self):
        return await self.ctx.storage.get("guests") or []

# %% wrong: stored, but only the last guest (one key overwritten), counted in memory
from workers import DurableObject


class Guestbook(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.count = 0

    async def sign(self, who):
        self.count += 1
        await self.ctx.storage.put(f"guest:{self.count}", who)
        return self.count

    async def names(self):
        return list((await self.ctx.storage.list({"prefix": "guest:"})).values())

# %% wrong: one key per guest numbered without padding, listed in key order (guest:10 sorts before guest:2)
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put({"count": count, f"guest:{count}": who})
        return count

    async def names(self):
        return list((await self.ctx.storage.list(prefix="guest:")).values())

# %% wrong: the guests kept as keys of their own, so names() lists them in alphabetical order, not in signing order
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        await self.ctx.storage.put(f"guest:{who}", True)
        return len(await self.ctx.storage.list(prefix="guest:"))

    async def names(self):
        return [key.removeprefix("guest:") for key in await self.ctx.storage.list(prefix="guest:")]
