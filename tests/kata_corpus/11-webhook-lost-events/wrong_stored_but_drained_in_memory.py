"""Billing webhooks: the payment provider POSTs events (`invoice.paid`, `charge.refunded`, ...)
to /webhooks/billing. Every event goes to one Durable Object, "billing", which records it in
the ledger service. The ledger is sometimes down for a while, so recording is retried with
exponential back-off.

The provider delivers each event at least once: it sends it again if it gets no 2xx answer,
and sometimes sends it twice anyway. Each event has a unique "id".
"""

import asyncio
import json

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint, fetch

LEDGER_URL = "https://ledger.example.com/entries"


class LedgerUnavailable(Exception):
    pass


class BillingWebhooks(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.draining = False

    async def fetch(self, request):
        event = await request.json()
        seen = f"seen:{event['id']}"
        if await self.ctx.storage.get(seen) is None:
            await self.ctx.storage.put({seen: Date.now(), f"queue:{event['id']}": event})  # stored before the 202
            if not self.draining:
                self.ctx.waitUntil(self._drain())
        return Response("accepted", status=202)

    async def _drain(self):
        self.draining = True
        try:
            delay = 2
            while queued := await self.ctx.storage.list({"prefix": "queue:"}):
                for key, event in queued.items():
                    try:
                        await self._record(event)
                    except LedgerUnavailable:
                        await asyncio.sleep(delay)  # the ledger is down: wait and try again
                        delay = min(delay * 2, 60)
                        break
                    await self.ctx.storage.delete(key)
        finally:
            self.draining = False

    async def _record(self, event):
        """Write one event to the ledger (raises LedgerUnavailable if the ledger refuses it)."""
        response = await fetch(
            LEDGER_URL,
            method="POST",
            headers={"content-type": "application/json"},
            body=json.dumps({"event": event["id"], "type": event["type"], "amount": event["amount"]}),
        )
        if not response.ok:
            raise LedgerUnavailable(f"ledger answered {response.status}")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST" and request.url.endswith("/webhooks/billing"):
            return await self.env.BILLING.getByName("billing").fetch(request)
        return Response("not found", status=404)
