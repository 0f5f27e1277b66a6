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


def reminder_key(due, reminder_id):
    # Zero-padded, so storage's key order is due-time order.
    return f"reminder:{due:015d}:{reminder_id:08d}"


class Reminders(DurableObject):
    async def remind_me(self, text, delay_seconds):
        """Send `text` to this user in `delay_seconds`. Answers the reminder's id and due time (ms)."""
        reminder_id = (await self.ctx.storage.get("last_id") or 0) + 1
        due = Date.now() + int(delay_seconds * 1000)
        # The job itself goes to storage: it survives eviction, restarts and deploys.
        await self.ctx.storage.put({
            "last_id": reminder_id,
            reminder_key(due, reminder_id): {"id": reminder_id, "text": text, "due": due},
        })
        # One alarm per object: it must point at the earliest reminder.
        current = await self.ctx.storage.getAlarm()
        if current is None or due < current:
            await self.ctx.storage.setAlarm(due)
        return {"id": reminder_id, "due": due}

    async def alarm(self, alarm_info):
        """Send every reminder that is due, then point the alarm at the next one."""
        now = Date.now()
        due = await self.ctx.storage.list({"prefix": "reminder:", "end": f"reminder:{now + 1:015d}"})
        for key, reminder in due.items():
            await send_push(self.ctx.id.name, reminder["text"])
            # Recorded right after each push: if a later push fails and the alarm is retried,
            # the ones already sent are not sent again.
            await self.ctx.storage.delete(key)
        upcoming = await self.ctx.storage.list({"prefix": "reminder:", "limit": 1})
        for reminder in upcoming.values():
            await self.ctx.storage.setAlarm(reminder["due"])
