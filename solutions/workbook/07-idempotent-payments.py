# Exercise: a retried payment must not charge twice.
from workers import DurableObject


class Wallet(DurableObject):
    """One wallet per customer. pay(key, amount) charges the order `key` once and returns its receipt,
    the same receipt for every retry of that order; a payment larger than the balance is refused."""

    async def deposit(self, amount):
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)
        return balance + amount

    async def pay(self, key, amount):
        receipt = await self.ctx.storage.get(f"receipt:{key}")
        if receipt is not None:
            return receipt                                     # a retry: the first answer, no charge
        balance = await self.ctx.storage.get("balance") or 0
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")  # nothing recorded: not paid
        receipt = {"key": key, "amount": amount, "balance": balance - amount}
        await self.ctx.storage.put({"balance": balance - amount, f"receipt:{key}": receipt})  # together
        return receipt

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
