# Exercise: store the cart with the new item in it.
from workers import DurableObject


class Cart(DurableObject):
    """One cart per shopper: add(item) returns how many items the cart holds; items() lists them."""

    async def add(self, item):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        cart["items"].append(item)               # change the copy first...
        self.ctx.storage.put("cart", cart)       # ...then store it: put() takes its copy now
        return len(cart["items"])

    async def items(self):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        return cart["items"]
