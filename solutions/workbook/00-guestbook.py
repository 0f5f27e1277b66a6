# Exercise: keep the guest list in storage, so that it survives the instance.
from workers import DurableObject


class Guestbook(DurableObject):
    """One guest book per name: sign(who) adds a guest and returns how many have signed."""

    async def sign(self, who):
        guests = await self.ctx.storage.get("guests") or []
        guests.append(who)
        await self.ctx.storage.put("guests", guests)  # what you read is a copy: store it again
        return len(guests)

    async def names(self):
        return await self.ctx.storage.get("guests") or []
