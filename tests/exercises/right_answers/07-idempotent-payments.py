# Differently written right answers to exercise 07-idempotent-payments: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: SQL tables, the payment and its receipt written in transactionSync
import json

from workers import DurableObject


class Wallet(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS wallet (id INTEGER PRIMARY KEY CHECK (id = 1), balance INTEGER)")
        self.sql.exec("INSERT OR IGNORE INTO wallet VALUES (1, 0)")
        self.sql.exec("CREATE TABLE IF NOT EXISTS receipts (key TEXT PRIMARY KEY, receipt TEXT)")

    def current(self):
        return self.sql.exec("SELECT balance FROM wallet").one()["balance"]

    async def deposit(self, amount):
        self.sql.exec("UPDATE wallet SET balance = balance + ?", amount)
        return self.current()

    async def pay(self, key, amount):
        def charge():
            found = self.sql.exec("SELECT receipt FROM receipts WHERE key = ?", key).toArray()
            if found:
                return json.loads(found[0]["receipt"])
            balance = self.current()
            if amount > balance:
                raise ValueError("insufficient funds")
            receipt = {"key": key, "amount": amount, "balance": balance - amount}
            self.sql.exec("UPDATE wallet SET balance = ?", balance - amount)
            self.sql.exec("INSERT INTO receipts VALUES (?, ?)", key, json.dumps(receipt))
            return receipt

        return self.ctx.storage.transactionSync(charge)

    async def balance(self):
        return self.current()

# %% right: storage.transaction(), every receipt in one stored dict
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        await self.ctx.storage.put("balance", balance)
        return balance

    async def pay(self, key, amount):
        async def charge(txn):
            receipts = await txn.get("receipts") or {}
            if key in receipts:
                return receipts[key]
            balance = await txn.get("balance") or 0
            if balance < amount:
                raise RuntimeError(f"{key}: {amount} is more than the balance, {balance}")
            receipts[key] = {"key": key, "amount": amount, "balance": balance - amount}
            await txn.put({"balance": balance - amount, "receipts": receipts})
            return receipts[key]

        return await self.ctx.storage.transaction(charge)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
