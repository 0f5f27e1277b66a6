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
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS reminders (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                      "due INTEGER NOT NULL, text TEXT NOT NULL)")

    async def remind_me(self, text, delay_seconds):
        """Send `text` to this user in `delay_seconds`. Answers the reminder's id and due time (ms)."""
        due = Date.now() + int(delay_seconds * 1000)
        inserted = self.sql.exec("INSERT INTO reminders (due, text) VALUES (?, ?) RETURNING id", due, text)
        reminder_id = inserted.one()["id"]
        await self._arm()
        return {"id": reminder_id, "due": due}

    async def alarm(self, alarm_info):
        due = self.sql.exec("SELECT id, text FROM reminders WHERE due <= ? ORDER BY due, id", Date.now()).toArray()
        for row in due:
            await send_push(self.ctx.id.name, row["text"])
            self.sql.exec("DELETE FROM reminders WHERE id = ?", row["id"])  # sent: not again on a retry
        await self._arm()

    async def _arm(self):
        """The one alarm points at the earliest reminder still waiting."""
        earliest = self.sql.exec("SELECT min(due) AS due FROM reminders").one()["due"]
        if earliest is not None:
            await self.ctx.storage.setAlarm(earliest)
