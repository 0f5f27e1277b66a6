# Differently written right answers to exercise 02-put-it-back: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: a new list built and put with await
from workers import DurableObject


class Cart(DurableObject):
    async def add(self, item):
        items = [*(await self.ctx.storage.get("items") or []), item]
        await self.ctx.storage.put("items", items)
        return len(items)

    async def items(self):
        return await self.ctx.storage.get("items") or []

# %% right: one row per item in a SQL table
from workers import DurableObject


class Cart(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS items (n INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT)")

    async def add(self, item):
        self.sql.exec("INSERT INTO items (item) VALUES (?)", item)
        return self.sql.exec("SELECT count(*) AS n FROM items").one()["n"]

    async def items(self):
        return [row["item"] for row in self.sql.exec("SELECT item FROM items ORDER BY n")]

# %% right: read, change and put inside storage.transaction()
from workers import DurableObject


class Cart(DurableObject):
    async def add(self, item):
        async def change(txn):
            cart = await txn.get("cart") or {"items": []}
            cart["items"].append(item)
            await txn.put("cart", cart)
            return len(cart["items"])

        return await self.ctx.storage.transaction(change)

    async def items(self):
        return (await self.ctx.storage.get("cart") or {"items": []})["items"]
