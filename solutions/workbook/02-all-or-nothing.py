# Exercise: make the two writes of a transfer commit together.
from workers import DurableObject, fetch


class Bank(DurableObject):
    """Balances by name; every transfer is reported to the auditors."""

    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        self.ctx.storage.put({source: (balances.get(source) or 0) - amount,     # both writes in one batch,
                              target: (balances.get(target) or 0) + amount})    # no outside await between
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0
