# Plausible wrong answers to exercise 07-idempotent-payments: its check must reject each one.
# Each `# %% wrong: <why>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% wrong: the receipts in a field: a retry after an eviction charges again
from workers import DurableObject


class Wallet(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.receipts = {}

    async def deposit(self, amount):
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)
        return balance + amount

    async def pay(self, key, amount):
        if key in self.receipts:
            return self.receipts[key]
        balance = await self.ctx.storage.get("balance") or 0
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")
        await self.ctx.storage.put("balance", balance - amount)
        self.receipts[key] = {"key": key, "amount": amount, "balance": balance - amount}
        return self.receipts[key]

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: charges once, but a retry gets "already paid" instead of its receipt
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)
        return balance + amount

    async def pay(self, key, amount):
        if await self.ctx.storage.get(f"paid:{key}"):
            return "already paid"
        balance = await self.ctx.storage.get("balance") or 0
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")
        await self.ctx.storage.put({"balance": balance - amount, f"paid:{key}": True})
        return {"key": key, "amount": amount, "balance": balance - amount}

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: records the key before checking the funds, so a refused order can never be paid
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)
        return balance + amount

    async def pay(self, key, amount):
        receipt = await self.ctx.storage.get(f"receipt:{key}")
        if receipt is not None:
            return receipt
        await self.ctx.storage.put(f"receipt:{key}", {"key": key, "amount": amount, "refused": True})
        balance = await self.ctx.storage.get("balance") or 0
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")
        receipt = {"key": key, "amount": amount, "balance": balance - amount}
        await self.ctx.storage.put({"balance": balance - amount, f"receipt:{key}": receipt})
        return receipt

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: a retry recognised by its stored key, but answered with a new receipt made from the balance as it is now
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        await self.ctx.storage.put("balance", balance)
        return balance

    async def pay(self, key, amount):
        balance = await self.ctx.storage.get("balance") or 0
        if await self.ctx.storage.get(f"paid:{key}"):
            return {"key": key, "amount": amount, "balance": balance}
        if amount > balance:
            raise ValueError("insufficient funds")
        await self.ctx.storage.put({"balance": balance - amount, f"paid:{key}": True})
        return {"key": key, "amount": amount, "balance": balance - amount}

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% wrong: a payment larger than the balance answered with None instead of an error (the shop thinks it went through)
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        await self.ctx.storage.put("balance", balance)
        return balance

    async def pay(self, key, amount):
        receipt = await self.ctx.storage.get(f"receipt:{key}")
        if receipt is not None:
            return receipt
        balance = await self.ctx.storage.get("balance") or 0
        if amount > balance:
            return None
        receipt = {"key": key, "amount": amount, "balance": balance - amount}
        await self.ctx.storage.put({"balance": balance - amount, f"receipt:{key}": receipt})
        return receipt

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
