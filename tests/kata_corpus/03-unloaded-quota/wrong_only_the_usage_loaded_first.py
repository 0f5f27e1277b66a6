"""API quotas: one Durable Object per customer (`env.QUOTA.getByName(customer_id)`) checks
each API call against the customer's monthly allowance.

The allowance comes from the billing service (`GET {BILLING_API}/plans/<customer_id>` answers
`{"plan": "pro", "monthly_calls": 1000}`); the calls used so far are kept in storage.
"""

import asyncio

from workers import DurableObject, fetch

BILLING_API = "https://billing.example.com"


class Quota(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.monthly_calls = 0
        self.used = 0
        ctx.blockConcurrencyWhile(self.load_usage)  # the usage is ours: load it before any call
        asyncio.create_task(self.load_plan())  # the plan is someone else's: it arrives when it arrives

    async def load_usage(self):
        self.used = await self.ctx.storage.get("used") or 0

    async def load_plan(self):
        response = await fetch(f"{BILLING_API}/plans/{self.ctx.id.name}")
        self.monthly_calls = (await response.json())["monthly_calls"]

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
