# Differently written right answers to exercise 03-confirm-what-is-stored: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: an awaited put, then the mail
from workers import DurableObject, fetch


class Orders(DurableObject):
    async def place(self, order_id):
        await self.ctx.storage.put(order_id, "placed")
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return await self.ctx.storage.get(order_id)

# %% right: orders in a SQL table, the mail sent with POST and its answer read
from workers import DurableObject, fetch


class Orders(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT)")

    async def place(self, order_id):
        self.sql.exec("INSERT INTO orders VALUES (?, 'placed')", order_id)
        response = await fetch(f"https://mail.example.com/notify?order={order_id}", method="POST")
        await response.text()
        return f"{order_id} confirmed"

    async def status(self, order_id):
        rows = self.sql.exec("SELECT status FROM orders WHERE id = ?", order_id).toArray()
        return rows[0]["status"] if rows else None

# %% right: the write confirmed explicitly with storage.sync() before the mail
from workers import DurableObject, fetch


class Orders(DurableObject):
    async def place(self, order_id):
        self.ctx.storage.put(order_id, "placed")
        await self.ctx.storage.sync()
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return await self.ctx.storage.get(order_id)
