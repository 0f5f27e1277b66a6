# Plausible wrong answers to exercise 02-all-or-nothing: its check must reject each one.

# %% wrong: drops the report to the auditors instead of moving it
from workers import DurableObject


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        await self.ctx.storage.put(source, (balances.get(source) or 0) - amount)
        await self.ctx.storage.put(target, (balances.get(target) or 0) + amount)

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %% wrong: credits first and debits after the report (creates money instead of losing it)
from workers import DurableObject, fetch


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        await self.ctx.storage.put(target, (balances.get(target) or 0) + amount)
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")
        await self.ctx.storage.put(source, (balances.get(source) or 0) - amount)

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %% wrong: a try/except around the report, the second write still after it
from workers import DurableObject, fetch


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        await self.ctx.storage.put(source, (balances.get(source) or 0) - amount)
        try:
            await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")
        finally:
            await self.ctx.storage.put(target, (balances.get(target) or 0) + amount)

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %% wrong: balances read before the report and both written in one put after it (a transfer running meanwhile is overwritten)
from workers import DurableObject, fetch


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")
        await self.ctx.storage.put({source: (balances.get(source) or 0) - amount,
                                    target: (balances.get(target) or 0) + amount})

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0
