# Plausible wrong answers to exercise 03-interest: its check must reject each one.

# %% wrong: skips the interest when the balance changed during the call (loses it instead of a deposit)
from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        response = await fetch(f"https://rates.example.com/?balance={balance}")
        percent = (await response.json())["percent"]
        if await self.ctx.storage.get("balance") != balance:
            return
        await self.ctx.storage.put("balance", balance + balance * percent // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: a hard-coded rate instead of the service's
from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + balance * 10 // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: waits a little before writing, hoping the other request is done by then
import asyncio

from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        response = await fetch(f"https://rates.example.com/?balance={balance}")
        percent = (await response.json())["percent"]
        await asyncio.sleep(0.05)
        await self.ctx.storage.put("balance", balance + balance * percent // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: asks the rates service about a made-up balance of 0 before reading, to keep the read and the write together
from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        response = await fetch("https://rates.example.com/?balance=0")
        percent = (await response.json())["percent"]
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + balance * percent // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
