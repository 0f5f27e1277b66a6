"""Flash sale: one Durable Object per product (`env.PRODUCTS.getByName(sku)`) holds its stock
and takes the orders, charging the customer through the payment service.

The payment service (PAYMENTS_API):
    POST /charges  {"order": ..., "customer": ..., "amount": cents}  -> 200 paid | 402 declined
    POST /refunds  {"order": ...}                                    -> 200 refunded
"""

import json

from workers import DurableObject, fetch

PAYMENTS_API = "https://payments.example.com"


async def charge(order_id, customer, amount_cents):
    """Charge the customer's card for the order. True if the payment went through."""
    response = await fetch(f"{PAYMENTS_API}/charges", method="POST",
                           body=json.dumps({"order": order_id, "customer": customer, "amount": amount_cents}),
                           headers={"content-type": "application/json"})
    return response.status == 200


async def refund(order_id):
    """Give the customer their money back for the order."""
    response = await fetch(f"{PAYMENTS_API}/refunds", method="POST", body=json.dumps({"order": order_id}),
                           headers={"content-type": "application/json"})
    response.raise_for_status()


class Product(DurableObject):
    async def restock(self, quantity, price_cents):
        await self.ctx.storage.put({"stock": quantity, "price": price_cents})

    async def stock(self):
        return await self.ctx.storage.get("stock") or 0

    async def orders(self):
        """The confirmed orders: order id -> {"customer": ..., "quantity": ...}."""
        found = await self.ctx.storage.list({"prefix": "order:"})
        return {key.removeprefix("order:"): order for key, order in found.items()}

    async def order(self, order_id, customer, quantity):
        """Sell `quantity` items to `customer`. Answers the order's status:
        "confirmed", "sold_out" or "payment_declined"."""
        stock = await self.ctx.storage.get("stock") or 0
        price = await self.ctx.storage.get("price")
        if stock < quantity:
            return {"order": order_id, "status": "sold_out"}
        if not await charge(order_id, customer, quantity * price):
            return {"order": order_id, "status": "payment_declined"}
        # Read the stock again after the payment: the value from before it may be stale.
        current = await self.ctx.storage.get("stock") or 0
        await self.ctx.storage.put("stock", current - quantity)
        await self.ctx.storage.put(f"order:{order_id}", {"customer": customer, "quantity": quantity})
        return {"order": order_id, "status": "confirmed"}
