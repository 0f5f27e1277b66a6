# Exercise: add the interest without losing a deposit that arrives meanwhile, in any order.
from workers import DurableObject, fetch


class Savings(DurableObject):
    """A savings account; the rates service decides the interest from the balance."""

    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")           # ask first...
        balance = await self.ctx.storage.get("balance") or 0      # ...then read and write: atomic
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        response = await fetch(f"https://rates.example.com/?balance={balance}")
        percent = (await response.json())["percent"]
        balance = await self.ctx.storage.get("balance") or 0      # read again after the call: it may have changed
        await self.ctx.storage.put("balance", balance + balance * percent // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
