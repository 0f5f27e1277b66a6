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
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.queue = []  # (due, text), earliest first

    async def remind_me(self, text, delay_seconds):
        """Send `text` to this user in `delay_seconds`. Answers the reminder's id and due time (ms)."""
        reminder_id = (await self.ctx.storage.get("last_id") or 0) + 1
        await self.ctx.storage.put("last_id", reminder_id)
        due = Date.now() + int(delay_seconds * 1000)
        self.queue.append((due, text))
        self.queue.sort()
        await self.ctx.storage.setAlarm(self.queue[0][0])  # one alarm, at the earliest reminder
        return {"id": reminder_id, "due": due}

    async def alarm(self, alarm_info):
        now = Date.now()
        while self.queue and self.queue[0][0] <= now:
            _, text = self.queue.pop(0)
            await send_push(self.ctx.id.name, text)
        if self.queue:
            await self.ctx.storage.setAlarm(self.queue[0][0])
