"""API-key usage metering: one Durable Object per API key counts the units each call uses,
refuses calls over the plan's monthly quota, bills overage, and resets at the start of each
month from an alarm. An audit object records every call.

    any request with an `Authorization: Bearer <key>` header and an `X-Units` header

Written for `dojo review`: some of this is how it should be done, some of it is not.
"""

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint, fetch

PLANS_API = "https://plans.example.com/keys"
MONTH_MS = 30 * 24 * 3600 * 1000
OVERAGE_CENTS_PER_UNIT = 2


class UsageMeter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.plan = None
        ctx.blockConcurrencyWhile(self._load)
        ctx.storage.setAlarm(Date.now() + MONTH_MS)  # make sure the monthly reset is scheduled

    async def _load(self):
        self.plan = await self.ctx.storage.get("plan")
        if self.plan is None:
            response = await fetch(f"{PLANS_API}/{self.ctx.id.name}")
            self.plan = await response.json()
            await self.ctx.storage.put("plan", self.plan)

    async def record(self, units):
        """Count a call's units. Answers whether it is allowed and what is left this month."""
        used = await self.ctx.storage.get("used") or 0
        if used + units > self.plan["quota"] and not self.plan["overage"]:
            return {"allowed": False, "remaining": max(self.plan["quota"] - used, 0)}
        # Only storage awaits between the read and the write: the input gate keeps this atomic.
        await self.ctx.storage.put("used", used + units)
        if used + units > self.plan["quota"]:
            await self.ctx.storage.put("used_over_quota", used + units - self.plan["quota"])
            await fetch(f"{PLANS_API}/{self.ctx.id.name}/overage", method="POST")  # tell billing
            overage = await self.ctx.storage.get("overage_cents") or 0
            await self.ctx.storage.put("overage_cents", overage + units * OVERAGE_CENTS_PER_UNIT)
        return {"allowed": True, "remaining": max(self.plan["quota"] - used - units, 0)}

    async def remaining(self):
        async def read():
            used = await self.ctx.storage.get("used") or 0
            return max(self.plan["quota"] - used, 0)

        return await self.ctx.blockConcurrencyWhile(read)

    async def slow_down(self, ms):
        """Hold a caller that is over its burst limit for `ms` before answering."""
        until = Date.now() + ms
        while Date.now() < until:
            pass
        return True

    async def alarm(self, alarm_info):
        await self.ctx.storage.put({"used": 0, "used_over_quota": 0, "overage_cents": 0})
        await self.ctx.storage.setAlarm(alarm_info.scheduledTime + MONTH_MS)


class AuditLog(DurableObject):
    async def log(self, key, units, allowed):
        await self.ctx.storage.put(f"call:{Date.now()}", {"key": key, "units": units, "allowed": allowed})


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        key = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not key:
            return Response("missing API key", status=401)
        units = int(request.headers.get("X-Units") or 1)
        verdict = await self.env.METER.getByName(f"key:{key}").record(units)
        audit = self.env.AUDIT.get(self.env.AUDIT.newUniqueId())
        await audit.log(key, units, verdict["allowed"])
        if not verdict["allowed"]:
            return Response("quota exceeded", status=429)
        return Response.from_json(verdict)
