"""Auctions: one Durable Object per auction (`env.AUCTIONS.getByName(auction_id)`).

The seller opens the auction with an end time. Two minutes before the end, every bidder is told
that the auction is ending; at the end, the auction closes and the winner and the seller are told.
A bid in the last five minutes moves the end to five minutes after that bid (no sniping).

The notification service: POST NOTIFY_URL {"to": user, "text": ...}
"""

import json

from js import Date
from workers import DurableObject, fetch

NOTIFY_URL = "https://notify.example.com/send"
ENDING_SOON_MS = 2 * 60_000  # bidders are told two minutes before the end
EXTENSION_MS = 5 * 60_000  # a bid in the last five minutes moves the end to five minutes after it


class Auction(DurableObject):
    async def open(self, item, seller, ends_in_seconds):
        """Open the auction; returns its end time (ms since the epoch)."""
        end = Date.now() + int(ends_in_seconds * 1000)
        await self.ctx.storage.put({"item": item, "seller": seller, "end": end, "status": "open", "bidders": [],
                                    "job:ending-soon": end - ENDING_SOON_MS, "job:close": end})
        await self._arm()
        return end

    async def bid(self, user, amount):
        """Place a bid; returns {"accepted": bool, "end": current end time}."""
        auction = await self.ctx.storage.get(["status", "end", "best", "bidders"])
        end, now = auction["end"], Date.now()
        best = auction.get("best")
        if auction["status"] != "open" or now >= end or (best is not None and amount <= best["amount"]):
            return {"accepted": False, "end": end}
        bidders = auction["bidders"]
        if user not in bidders:
            bidders.append(user)
        late = end - now < EXTENSION_MS
        if late:
            end = now + EXTENSION_MS
        await self.ctx.storage.put({"best": {"user": user, "amount": amount}, "bidders": bidders, "end": end})
        if late:
            jobs = {"job:close": end}
            if await self.ctx.storage.get("job:ending-soon") is not None:  # not sent yet: it moves too
                jobs["job:ending-soon"] = end - ENDING_SOON_MS
            await self.ctx.storage.put(jobs)
            await self._arm()
        return {"accepted": True, "end": end}

    async def state(self):
        auction = await self.ctx.storage.get(["status", "end", "best"])
        return {"status": auction.get("status"), "end": auction.get("end"), "best": auction.get("best")}

    async def alarm(self, alarm_info):
        now = Date.now()
        jobs = await self.ctx.storage.list({"prefix": "job:"})
        for key, due in sorted(jobs.items(), key=lambda item: item[1]):
            if due > now:
                continue
            if key == "job:ending-soon":
                await self._warn_ending_soon()
            else:
                await self._close()
            await self.ctx.storage.delete(key)
        await self._arm()

    async def _arm(self):
        """The one alarm rings for the earliest job still waiting."""
        jobs = await self.ctx.storage.list({"prefix": "job:"})
        if jobs:
            await self.ctx.storage.setAlarm(min(jobs.values()))
        else:
            await self.ctx.storage.deleteAlarm()

    async def _warn_ending_soon(self):
        auction = await self.ctx.storage.get(["item", "best", "bidders"])
        for user in auction["bidders"]:
            await self._notify(user, f"{auction['item']}: 2 minutes left, best bid {auction['best']['amount']}")

    async def _close(self):
        auction = await self.ctx.storage.get(["item", "seller", "best"])
        await self.ctx.storage.put("status", "closed")
        item, best = auction["item"], auction.get("best")
        if best is None:
            await self._notify(auction["seller"], f"{item} did not sell")
            return
        await self._notify(best["user"], f"You won {item} for {best['amount']}")
        await self._notify(auction["seller"], f"{item} sold to {best['user']} for {best['amount']}")

    async def _notify(self, user, text):
        response = await fetch(NOTIFY_URL, method="POST", headers={"content-type": "application/json"},
                               body=json.dumps({"to": user, "text": text}))
        if not response.ok:
            raise RuntimeError(f"notification service answered {response.status}")
