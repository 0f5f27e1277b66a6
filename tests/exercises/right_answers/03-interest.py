# Differently written right answers to exercise 03-interest: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: the interest on the balance the service was asked about, added to the balance as it is now
from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        await self.ctx.storage.put("balance", (await self.ctx.storage.get("balance") or 0) + amount)

    async def add_interest(self):
        quoted = await self.ctx.storage.get("balance") or 0
        response = await fetch(f"https://rates.example.com/?balance={quoted}")
        interest = quoted * (await response.json())["percent"] // 100
        now = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", now + interest)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0

# %% right: the balance in SQL, each change one UPDATE statement
from workers import DurableObject, fetch


class Savings(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY CHECK (id = 1), balance INTEGER)")
        self.sql.exec("INSERT OR IGNORE INTO account VALUES (1, 0)")

    def current(self):
        return self.sql.exec("SELECT balance FROM account").one()["balance"]

    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        self.sql.exec("UPDATE account SET balance = balance + ?", amount)

    async def add_interest(self):
        response = await fetch(f"https://rates.example.com/?balance={self.current()}")
        percent = (await response.json())["percent"]
        self.sql.exec("UPDATE account SET balance = balance + balance * ? / 100", percent)

    async def balance(self):
        return self.current()

# %% right: asks again until the balance did not move during the call (optimistic retry)
from workers import DurableObject, fetch


class Savings(DurableObject):
    async def deposit(self, amount):
        await fetch("https://fraud-check.example.com/")
        await self.ctx.storage.put("balance", (await self.ctx.storage.get("balance") or 0) + amount)

    async def add_interest(self):
        while True:
            quoted = await self.ctx.storage.get("balance") or 0
            response = await fetch(f"https://rates.example.com/?balance={quoted}")
            percent = (await response.json())["percent"]
            if (await self.ctx.storage.get("balance") or 0) == quoted:
                break
        await self.ctx.storage.put("balance", quoted + quoted * percent // 100)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0
