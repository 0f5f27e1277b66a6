# Differently written right answers to exercise 02-all-or-nothing: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: both writes inside storage.transaction(), the report after it
from workers import DurableObject, fetch


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        async def move(txn):
            await txn.put(source, (await txn.get(source) or 0) - amount)
            await txn.put(target, (await txn.get(target) or 0) + amount)

        await self.ctx.storage.transaction(move)
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %% right: two separate awaited puts with no outside await between them
from workers import DurableObject, fetch


class Bank(DurableObject):
    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        source_balance = await self.ctx.storage.get(source) or 0
        target_balance = await self.ctx.storage.get(target) or 0
        await self.ctx.storage.put(source, source_balance - amount)
        await self.ctx.storage.put(target, target_balance + amount)
        response = await fetch("https://audit.example.com/transfer", method="POST",
                               body=f"{source} -> {target}: {amount}")
        await response.text()

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %% right: balances in a SQL table, both updates in transactionSync
from workers import DurableObject, fetch


class Bank(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS balances (who TEXT PRIMARY KEY, amount INTEGER NOT NULL)")

    def add(self, who, amount):
        self.sql.exec("INSERT INTO balances VALUES (?, ?) ON CONFLICT (who) DO UPDATE SET amount = amount + ?",
                      who, amount, amount)

    async def deposit(self, who, amount):
        self.add(who, amount)

    async def transfer(self, source, target, amount):
        def move():
            self.add(source, -amount)
            self.add(target, amount)

        self.ctx.storage.transactionSync(move)
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")

    async def balance(self, who):
        rows = self.sql.exec("SELECT amount FROM balances WHERE who = ?", who).toArray()
        return rows[0]["amount"] if rows else 0
