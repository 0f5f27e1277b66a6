"""Auctions: one Durable Object per auction (`env.AUCTIONS.getByName(auction_id)`).

The seller opens the auction with an end time. Two minutes before the end, every bidder is told
that the auction is ending; at the end, the auction closes and the winner and the seller are told.
A bid in the last five minutes moves the end to five minutes after that bid (no sniping).

The notification service: POST NOTIFY_URL {"to": user, "text": ...}

An object has one alarm. The things the auction must do later are rows of a `jobs` table (a
name and a due time); the one alarm is always armed for the earliest row, and `alarm()` runs
every job that is due, then arms the alarm for the next one.
"""

import json

from js import Date
from workers import DurableObject, fetch

NOTIFY_URL = "https://notify.example.com/send"
ENDING_SOON_MS = 2 * 60_000  # bidders are told two minutes before the end
EXTENSION_MS = 5 * 60_000  # a bid in the last five minutes moves the end to five minutes after it


class Auction(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, due INTEGER NOT NULL)")

    async def open(self, item, seller, ends_in_seconds):
        """Open the auction; returns its end time (ms since the epoch)."""
        end = Date.now() + int(ends_in_seconds * 1000)
        await self.ctx.storage.put({"item": item, "seller": seller, "end": end, "status": "open", "bidders": []})
        self._schedule("ending-soon", end - ENDING_SOON_MS)
        self._schedule("close", end)
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
        if late:  # a late bid: give the others time to answer
            end = now + EXTENSION_MS
        # One put: the bid and the extended end are stored together or not at all.
        await self.ctx.storage.put({"best": {"user": user, "amount": amount}, "bidders": bidders, "end": end})
        if late:
            self._schedule("close", end)
            # The warning moves with the end, unless it was already sent (then it is not pending).
            self.sql.exec("UPDATE jobs SET due = ? WHERE name = 'ending-soon'", end - ENDING_SOON_MS)
            await self._arm()
        return {"accepted": True, "end": end}

    async def state(self):
        auction = await self.ctx.storage.get(["status", "end", "best"])
        return {"status": auction.get("status"), "end": auction.get("end"), "best": auction.get("best")}

    async def alarm(self, alarm_info):
        now = Date.now()
        for job in self.sql.exec("SELECT name FROM jobs WHERE due <= ? ORDER BY due", now).toArray():
            if job["name"] == "ending-soon":
                await self._warn_ending_soon()
            elif job["name"] == "close":
                await self._close()
            # Done, unless a bid moved it to a later time while it ran.
            self.sql.exec("DELETE FROM jobs WHERE name = ? AND due <= ?", job["name"], now)
        await self._arm()

    def _schedule(self, name, due):
        """Add the job, or move it if it is already waiting."""
        self.sql.exec("INSERT INTO jobs (name, due) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET due = excluded.due",
                      name, due)

    async def _arm(self):
        """Point the one alarm at the earliest job waiting (or clear it if none is)."""
        earliest = self.sql.exec("SELECT min(due) AS due FROM jobs").one()["due"]
        if earliest is None:
            await self.ctx.storage.deleteAlarm()
        else:
            await self.ctx.storage.setAlarm(earliest)

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
