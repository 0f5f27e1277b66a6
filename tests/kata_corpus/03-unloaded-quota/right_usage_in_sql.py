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
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY CHECK (id = 1), used INTEGER NOT NULL)")
        self.sql.exec("INSERT OR IGNORE INTO usage (id, used) VALUES (1, 0)")
        self.allowance = 0
        ctx.blockConcurrencyWhile(lambda: self.fetch_allowance())

    async def fetch_allowance(self):
        response = await fetch(f"{BILLING_API}/plans/{self.ctx.id.name}")
        self.allowance = (await response.json())["monthly_calls"]

    def _used(self):
        return self.sql.exec("SELECT used FROM usage").one()["used"]

    async def consume(self):
        """Count one API call. Answers whether it is allowed and how many calls remain."""
        used = self._used()
        if used >= self.allowance:
            return {"allowed": False, "remaining": 0}
        self.sql.exec("UPDATE usage SET used = used + 1")
        return {"allowed": True, "remaining": self.allowance - used - 1}

    async def remaining(self):
        """How many calls the customer has left this month."""
        return max(self.allowance - self._used(), 0)
