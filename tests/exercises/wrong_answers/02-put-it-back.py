# Plausible wrong answers to exercise 02-put-it-back: its check must reject each one.

# %% wrong: changes the copy read from storage and never puts it back
from workers import DurableObject


class Cart(DurableObject):
    async def add(self, item):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        cart["items"].append(item)
        return len(cart["items"])

    async def items(self):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        return cart["items"]

# %% wrong: keeps the cart in a field and stores it, but reads only the field
from workers import DurableObject


class Cart(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.cart = {"items": []}

    async def add(self, item):
        self.cart["items"].append(item)
        await self.ctx.storage.put("cart", self.cart)
        return len(self.cart["items"])

    async def items(self):
        return self.cart["items"]

# %% wrong: one key per item, numbered by a counter kept in memory
from workers import DurableObject


class Cart(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.count = 0

    async def add(self, item):
        self.count += 1
        await self.ctx.storage.put(f"item:{self.count:04d}", item)
        return self.count

    async def items(self):
        return list((await self.ctx.storage.list({"prefix": "item:"})).values())
