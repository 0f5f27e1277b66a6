# Exercise: never tell anyone about an order that is not stored.
from workers import DurableObject, fetch


class Orders(DurableObject):
    """place(order_id) stores the order, mails the customer and confirms; status(order_id) reads it."""

    async def place(self, order_id):
        self.ctx.storage.put(order_id, "placed")          # the output gate holds what follows until it is stored
        await fetch(f"https://mail.example.com/notify?order={order_id}")
        return f"{order_id} confirmed"

    async def status(self, order_id):
        return await self.ctx.storage.get(order_id)
