"""Webhook relay: one Durable Object per customer endpoint
(`env.RELAY.getByName(endpoint_url)`) delivers events to it, in a single place that can
count successes and failures.

Endpoints are sometimes briefly down (503), so a delivery is retried with exponential
back-off: wait 1 s, then 2 s, then 4 s.
"""

import asyncio
import json

from workers import DurableObject, fetch

MAX_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0


class WebhookRelay(DurableObject):
    async def deliver(self, url, event):
        """POST `event` to `url`, retrying 5xx answers. Answers what happened."""
        waits = [FIRST_BACKOFF_SECONDS * 2 ** n for n in range(MAX_ATTEMPTS - 1)]
        attempts = 0
        while True:
            attempts += 1
            response = await fetch(url, method="POST", body=json.dumps(event),
                                   headers={"content-type": "application/json"})
            if response.status < 500:
                outcome = "delivered" if response.ok else "rejected"
                break
            if not waits:
                outcome = "failed"
                break
            await asyncio.sleep(waits.pop(0))  # the thread is free for other calls meanwhile
        key = f"count:{outcome}"
        await self.ctx.storage.put(key, (await self.ctx.storage.get(key) or 0) + 1)
        return {"outcome": outcome, "attempts": attempts, "status": response.status}

    async def stats(self):
        """How many deliveries ended in each outcome, for the status page."""
        return {name: await self.ctx.storage.get(f"count:{name}") or 0 for name in ("delivered", "rejected", "failed")}
