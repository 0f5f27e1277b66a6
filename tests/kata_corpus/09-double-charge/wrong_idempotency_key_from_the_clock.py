"""Subscriptions: one Durable Object per customer (`env.SUBSCRIPTIONS.getByName(customer_id)`)
renews the plan every 30 days from an alarm: charge the card, mail the receipt, book the invoice.

The payment service (like Stripe's, it honours an `Idempotency-Key` header: a request repeated
with the same key returns the first charge instead of taking the money again):
    POST {PAYMENTS_API}/charges {"customer": ..., "amount": cents} -> 200 {"charge": "ch_..."}
The mail service:
    POST {MAIL_API}/receipts {"to": ..., "charge": ..., "period": n} -> 202 | 5xx when it is down
"""

import json

from js import Date
from workers import DurableObject, fetch

PAYMENTS_API = "https://payments.example.com"
MAIL_API = "https://mail.example.com"
PERIOD_MS = 30 * 24 * 3600 * 1000


async def charge_card(customer, amount_cents, idempotency_key=None):
    """Take the money. Answers the charge id."""
    headers = {"content-type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = await fetch(f"{PAYMENTS_API}/charges", method="POST", headers=headers,
                           body=json.dumps({"customer": customer, "amount": amount_cents}))
    response.raise_for_status()
    return (await response.json())["charge"]


async def mail_receipt(email, charge_id, period):
    response = await fetch(f"{MAIL_API}/receipts", method="POST", headers={"content-type": "application/json"},
                           body=json.dumps({"to": email, "charge": charge_id, "period": period}))
    response.raise_for_status()


class Subscription(DurableObject):
    async def subscribe(self, email, price_cents):
        """Start the subscription: the first renewal is in 30 days."""
        await self.ctx.storage.put({"email": email, "price": price_cents, "period": 1})
        await self.ctx.storage.setAlarm(Date.now() + PERIOD_MS)

    async def invoices(self):
        """The booked invoices, oldest first: [{"period": n, "charge": ..., "amount": cents}]."""
        found = await self.ctx.storage.list({"prefix": "invoice:"})
        return list(found.values())

    async def alarm(self, alarm_info):
        """Renew: charge, mail the receipt, book the invoice, schedule the next renewal."""
        sub = await self.ctx.storage.get(["email", "price", "period"])
        period = sub["period"]
        # An idempotency key makes the payment service answer a repeated charge with the first one.
        charge_id = await charge_card(self.ctx.id.name, sub["price"], f"{self.ctx.id.name}-{Date.now()}")
        await mail_receipt(sub["email"], charge_id, period)
        await self.ctx.storage.put({
            f"invoice:{period:04d}": {"period": period, "charge": charge_id, "amount": sub["price"]},
            "period": period + 1,
        })
        await self.ctx.storage.setAlarm(alarm_info.scheduledTime + PERIOD_MS)
