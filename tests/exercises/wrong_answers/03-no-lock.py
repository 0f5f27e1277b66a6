# Plausible wrong answers to exercise 03-no-lock: its check must reject each one.

# %% wrong: the lock removed, the charge still between the read and the write (oversells)
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def buy(self, fan, card):
        seats = await self.ctx.storage.get("seats")
        if seats == 0:
            return "sold out"
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status != 200:
            return "declined"
        await self.ctx.storage.put("seats", seats - 1)
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")

# %% wrong: reserves first, but gives the seat back by writing the count it read before the charge
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def buy(self, fan, card):
        seats = await self.ctx.storage.get("seats")
        if seats == 0:
            return "sold out"
        await self.ctx.storage.put("seats", seats - 1)
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status != 200:
            await self.ctx.storage.put("seats", seats)
            return "declined"
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")

# %% wrong: reserves first and never gives a declined card's seat back
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def buy(self, fan, card):
        seats = await self.ctx.storage.get("seats")
        if seats == 0:
            return "sold out"
        await self.ctx.storage.put("seats", seats - 1)
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status != 200:
            return "declined"
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")

# %% wrong: charges first and takes a seat after (with more fans than seats, fans pay and get no ticket)
from workers import DurableObject, fetch


class Concert(DurableObject):
    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def buy(self, fan, card):
        if await self.ctx.storage.get("seats") == 0:
            return "sold out"
        response = await fetch(f"https://pay.example.com/charge?card={card}")
        if response.status != 200:
            return "declined"
        seats = await self.ctx.storage.get("seats")
        if seats == 0:
            return "sold out"
        await self.ctx.storage.put("seats", seats - 1)
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")
