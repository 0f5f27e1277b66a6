# Differently written right answers to exercise 05-deliver-once: its check must accept each one.
# Each `# %% right: <how it differs>` starts a whole exercise cell (tests/exercises/test_exercises_honest.py).

# %% right: a SQL queue; a refused message makes the alarm set itself again 10 s later instead of raising
from js import Date
from workers import DurableObject, fetch

INBOX = "https://partner.example.com/inbox"


class Outbox(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT)")

    async def send(self, message):
        self.sql.exec("INSERT INTO outbox (message) VALUES (?)", message)
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        while True:
            rows = self.sql.exec("SELECT n, message FROM outbox ORDER BY n LIMIT 1").toArray()
            if not rows:
                return
            response = await fetch(INBOX, method="POST", body=rows[0]["message"])
            if response.status != 200:
                await self.ctx.storage.setAlarm(Date.now() + 10_000)
                return
            self.sql.exec("DELETE FROM outbox WHERE n = ?", rows[0]["n"])

# %% right: one list under one key, the head removed from the list as it is after each delivery
from js import Date
from workers import DurableObject, fetch

INBOX = "https://partner.example.com/inbox"


class Outbox(DurableObject):
    async def send(self, message):
        queue = await self.ctx.storage.get("queue") or []
        await self.ctx.storage.put("queue", [*queue, message])
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        while queue := await self.ctx.storage.get("queue"):
            response = await fetch(INBOX, method="POST", body=queue[0])
            if not response.ok:
                raise RuntimeError(f"the partner answered {response.status}: the platform will retry")
            queue = await self.ctx.storage.get("queue")   # read again: send() may have added to it
            await self.ctx.storage.put("queue", queue[1:])
