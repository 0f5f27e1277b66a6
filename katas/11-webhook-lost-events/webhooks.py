"""Billing webhooks: the payment provider POSTs events (`invoice.paid`, `charge.refunded`, ...)
to /webhooks/billing. Every event goes to one Durable Object, "billing", which records it in
the ledger service. The ledger is sometimes down for a while, so recording is retried with
exponential back-off.

The provider delivers each event at least once: it sends it again if it gets no 2xx answer,
and sometimes sends it twice anyway. Each event has a unique "id".
"""

import asyncio
import json

from workers import DurableObject, Response, WorkerEntrypoint, fetch

LEDGER_URL = "https://ledger.example.com/entries"
MAX_ATTEMPTS = 6


class LedgerUnavailable(Exception):
    pass


class BillingWebhooks(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.queue = []  # events waiting for the ledger
        self.draining = False

    async def fetch(self, request):
        event = await request.json()
        # TODO: the provider is told "accepted" while the event exists only in this instance's
        # memory. Store it first (a redelivered event, same id, must not be stored twice), then
        # answer 202 Accepted.
        self.queue.append(event)
        if not self.draining:
            self.ctx.waitUntil(self._drain())
        return Response("accepted", status=202)

    async def _drain(self):
        self.draining = True
        try:
            while self.queue:
                await self._record_with_retries(self.queue[0])
                self.queue.pop(0)
        finally:
            self.draining = False

    async def _record_with_retries(self, event):
        # TODO: these retries live in memory: a crash, a deploy or an eviction ends them, and
        # after MAX_ATTEMPTS the event is dropped. Let an alarm do the recording instead: the
        # platform retries a failing alarm with back-off, and storage remembers what is left.
        delay = 2
        for _ in range(MAX_ATTEMPTS):
            try:
                await self._record(event)
                return
            except LedgerUnavailable:
                await asyncio.sleep(delay)
                delay *= 2

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
