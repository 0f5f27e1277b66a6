"""Reminders: one Durable Object per user (`env.REMINDERS.getByName(user_id)`) sends them a
push notification at the time they chose.

The push service: POST {PUSH_API}/send {"user": ..., "text": ...} -> 202
"""

import json

from js import Date
from workers import DurableObject, fetch

PUSH_API = "https://push.example.com"


async def send_push(user, text):
    response = await fetch(f"{PUSH_API}/send", method="POST", body=json.dumps({"user": user, "text": text}),
                           headers={"content-type": "application/json"})
    response.raise_for_status()


class Reminders(DurableObject):
    async def remind_me(self, text, delay_seconds):
        """Send `text` to this user in `delay_seconds`. Answers the reminder's id and due time (ms)."""
        reminder_id = (await self.ctx.storage.get("last_id") or 0) + 1
        due = Date.now() + int(delay_seconds * 1000)
        pending = await self.ctx.storage.get("pending") or []
        pending.append({"id": reminder_id, "text": text, "due": due})
        pending.sort(key=lambda r: (r["due"], r["id"]))
        await self.ctx.storage.put({"last_id": reminder_id, "pending": pending})
        await self.ctx.storage.setAlarm(pending[0]["due"])
        return {"id": reminder_id, "due": due}

    async def alarm(self, alarm_info):
        pending = await self.ctx.storage.get("pending") or []
        while pending and pending[0]["due"] <= Date.now():
            reminder = pending.pop(0)
            await send_push(self.ctx.id.name, reminder["text"])
            await self.ctx.storage.put("pending", pending)  # sent: a retry starts after it
        if pending:
            await self.ctx.storage.setAlarm(pending[0]["due"])
