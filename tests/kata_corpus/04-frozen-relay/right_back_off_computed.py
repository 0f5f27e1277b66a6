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
        for attempt in range(1, MAX_ATTEMPTS + 1):
            response = await fetch(url, method="POST", body=json.dumps(event),
                                   headers={"content-type": "application/json"})
            if response.status < 500:
                outcome = "delivered" if response.ok else "rejected"
                await self._count(outcome)
                return {"outcome": outcome, "attempts": attempt, "status": response.status}
            if attempt < MAX_ATTEMPTS:
                await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))  # 1 s, 2 s, 4 s
        await self._count("failed")
        return {"outcome": "failed", "attempts": MAX_ATTEMPTS, "status": response.status}

    async def stats(self):
        """How many deliveries ended in each outcome, for the status page."""
        counts = await self.ctx.storage.get(["delivered", "rejected", "failed"])
        return {name: counts.get(name, 0) for name in ("delivered", "rejected", "failed")}

    async def _count(self, outcome):
        await self.ctx.storage.put(outcome, (await self.ctx.storage.get(outcome) or 0) + 1)
