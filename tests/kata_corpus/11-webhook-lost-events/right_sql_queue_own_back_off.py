"""Billing webhooks: the payment provider POSTs events (`invoice.paid`, `charge.refunded`, ...)
to /webhooks/billing. Every event goes to one Durable Object, "billing", which records it in
the ledger service. The ledger is sometimes down for a while, so recording is retried with
exponential back-off.

The provider delivers each event at least once: it sends it again if it gets no 2xx answer,
and sometimes sends it twice anyway. Each event has a unique "id".
"""

import json

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint, fetch

LEDGER_URL = "https://ledger.example.com/entries"


class LedgerUnavailable(Exception):
    pass


class BillingWebhooks(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT NOT NULL, "
                      "recorded INTEGER NOT NULL DEFAULT 0, arrived INTEGER NOT NULL)")

    async def fetch(self, request):
        event = await request.json()
        # The event id is the primary key: a redelivery inserts nothing.
        self.sql.exec("INSERT OR IGNORE INTO events (id, body, arrived) VALUES (?, ?, ?)",
                      event["id"], json.dumps(event), Date.now())
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now())
        return Response("accepted", status=202)  # held by the output gate until the row is durable

    async def alarm(self, alarm_info):
        waiting = self.sql.exec("SELECT id, body FROM events WHERE recorded = 0 ORDER BY arrived, id").toArray()
        for row in waiting:
            try:
                await self._record(json.loads(row["body"]))
            except LedgerUnavailable:
                attempt = (await self.ctx.storage.get("attempt") or 0) + 1
                await self.ctx.storage.put("attempt", attempt)
                await self.ctx.storage.setAlarm(Date.now() + min(2 ** attempt, 300) * 1000)  # our own back-off
                return
            self.sql.exec("UPDATE events SET recorded = 1 WHERE id = ?", row["id"])
        await self.ctx.storage.delete("attempt")

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
