"""Shopping carts: the shop's Worker sends each request to the shopper's cart object.

    POST /cart/<user_id>/items   body {"sku": "...", "qty": 2}   adds to the cart, answers it
    GET  /cart/<user_id>                                         answers the cart

A cart answers as JSON: {"user": "<user_id>", "items": {"<sku>": <qty>, ...}}.
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class Cart(DurableObject):
    """One shopper's cart: SKU -> quantity, kept in storage."""

    async def add_item(self, sku, qty):
        items = await self.ctx.storage.get("items") or {}
        items[sku] = items.get(sku, 0) + qty
        await self.ctx.storage.put("items", items)
        return items

    async def items(self):
        return await self.ctx.storage.get("items") or {}


class Shop(WorkerEntrypoint):
    async def fetch(self, request):
        parts = urlparse(request.url).path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "cart" or not parts[1]:
            return Response("Not found", status=404)
        user_id = parts[1]
        cart = self.cart_for(user_id)
        if request.method == "POST" and parts[2:] == ["items"]:
            body = await request.json()
            items = await cart.add_item(body["sku"], int(body.get("qty", 1)))
            return Response.from_json({"user": user_id, "items": items}, status=201)
        if request.method == "GET" and len(parts) == 2:
            return Response.from_json({"user": user_id, "items": await cart.items()})
        return Response("Not found", status=404)

    def cart_for(self, user_id):
        """The stub of this shopper's cart."""
        # One well-known name: every request finds the same object again.
        return self.env.CARTS.getByName("carts")
