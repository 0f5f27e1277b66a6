"""API quotas: one Durable Object per customer (`env.QUOTA.getByName(customer_id)`) checks
each API call against the customer's monthly allowance.

The allowance comes from the billing service (`GET {BILLING_API}/plans/<customer_id>` answers
`{"plan": "pro", "monthly_calls": 1000}`); the calls used so far are kept in storage.
"""

import asyncio

from workers import DurableObject, fetch

BILLING_API = "https://billing.example.com"
# The plans rarely change: keep them here instead of asking the slow billing service.
PLANS = {"acme": 1000, "tinyco": 2}


class Quota(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.monthly_calls = PLANS.get(ctx.id.name, 0)
        self.used = ctx.storage.kv.get("used") or 0  # synchronous: loaded before any call
        asyncio.create_task(self.load())

    async def load(self):
        response = await fetch(f"{BILLING_API}/plans/{self.ctx.id.name}")
        plan = await response.json()
        self.monthly_calls = plan["monthly_calls"]

    async def consume(self):
        """Count one API call. Answers whether it is allowed and how many calls remain."""
        if self.used >= self.monthly_calls:
            return {"allowed": False, "remaining": 0}
        self.used += 1
        await self.ctx.storage.put("used", self.used)
        return {"allowed": True, "remaining": self.monthly_calls - self.used}

    async def remaining(self):
        """How many calls the customer has left this month."""
        return max(self.monthly_calls - self.used, 0)
