"""API quotas: one Durable Object per customer (`env.QUOTA.getByName(customer_id)`) checks
each API call against the customer's monthly allowance.

The allowance comes from the billing service (`GET {BILLING_API}/plans/<customer_id>` answers
`{"plan": "pro", "monthly_calls": 1000}`); the calls used so far are kept in storage.
"""

from workers import DurableObject, fetch

BILLING_API = "https://billing.example.com"


class Quota(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.monthly_calls = None

        async def load_plan():
            response = await fetch(f"{BILLING_API}/plans/{ctx.id.name}")
            self.monthly_calls = (await response.json())["monthly_calls"]

        # Nothing is delivered to the object until the plan is here.
        ctx.blockConcurrencyWhile(load_plan)

    async def consume(self):
        """Count one API call. Answers whether it is allowed and how many calls remain."""
        # The usage lives in storage only: read it, check it, write it, with nothing but
        # storage awaits in between (the input gate keeps other calls out).
        used = await self.ctx.storage.get("used") or 0
        if used >= self.monthly_calls:
            return {"allowed": False, "remaining": 0}
        await self.ctx.storage.put("used", used + 1)
        return {"allowed": True, "remaining": self.monthly_calls - used - 1}

    async def remaining(self):
        """How many calls the customer has left this month."""
        return max(self.monthly_calls - (await self.ctx.storage.get("used") or 0), 0)
