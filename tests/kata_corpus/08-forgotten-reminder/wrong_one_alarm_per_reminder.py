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
        await self.ctx.storage.put({"last_id": reminder_id, "text": text})
        await self.ctx.storage.setAlarm(due)  # an alarm survives eviction
        return {"id": reminder_id, "due": due}

    async def alarm(self, alarm_info):
        await send_push(self.ctx.id.name, await self.ctx.storage.get("text"))
