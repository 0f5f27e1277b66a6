# Exercise: sell without holding every fan out while one card is charged, and never oversell.
from workers import DurableObject, fetch


class Concert(DurableObject):
    """open(seats) puts the seats on sale; buy(fan, card) answers 'booked', 'declined' or 'sold out'."""

    async def open(self, seats):
        await self.ctx.storage.put("seats", seats)

    async def buy(self, fan, card):
        seats = await self.ctx.storage.get("seats")
        if seats == 0:
            return "sold out"
        await self.ctx.storage.put("seats", seats - 1)            # reserve: only storage since the read
        response = await fetch(f"https://pay.example.com/charge?card={card}")   # others may buy meanwhile
        if response.status != 200:
            seats = await self.ctx.storage.get("seats")           # read again: it changed meanwhile
            await self.ctx.storage.put("seats", seats + 1)        # give the seat back
            return "declined"
        await self.ctx.storage.put(f"ticket:{fan}", card)
        return "booked"

    async def seats_left(self):
        return await self.ctx.storage.get("seats")
