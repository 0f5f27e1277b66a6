# Plausible wrong answers to exercise 03-confirm-what-is-stored: its check must reject each one.

# %% wrong: mails first, then stores (the mail leaves before the write exists)
from workers import DurableObject, fetch


class Orders(DurableObject):
    async def place(self, order_id):
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        await self.ctx.storage.put(order_id, "placed")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return await self.ctx.storage.get(order_id)

# %% wrong: writes in a background task to answer faster
import asyncio

from workers import DurableObject, fetch


class Orders(DurableObject):
    async def place(self, order_id):
        async def write():
            await self.ctx.storage.put(order_id, "placed")

        asyncio.get_running_loop().create_task(write())
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return await self.ctx.storage.get(order_id)

# %% wrong: confirms and mails without storing anything
from workers import DurableObject, fetch


class Orders(DurableObject):
    async def place(self, order_id):
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return "placed"

# %% wrong: the orders kept in a field, never stored (gone with the instance)
from workers import DurableObject, fetch


class Orders(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.orders = {}

    async def place(self, order_id):
        self.orders[order_id] = "placed"
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return self.orders.get(order_id)
