# %% [markdown]
# # 5. Alarms: work that happens later, for sure
#
# An object often needs to do something later: expire a session, retry a webhook, send a
# reminder, flush a batch. A timer in memory (`asyncio.sleep`, `setTimeout`) dies with the
# instance. An **alarm** is stored with the object: the platform wakes the object when it is due,
# even if it was evicted, and retries the handler with back-off if it fails.
#
# The API is small: `ctx.storage.setAlarm(when)`, `getAlarm()`, `deleteAlarm()`, and an
# `async def alarm(self, alarm_info)` handler. The rules that shape every design: **one alarm per
# object**, and **at-least-once** delivery.

# %%
import asyncio
import time

from durable_dojo import Runtime
from durable_dojo.testing import run_durable_object_alarm
from durable_dojo.widgets import Inspector, Timeline
from js import Date
from workers import DurableObject

START = 1_767_225_600_000                            # the worlds' clocks start at 2026-01-01 00:00 UTC


def t(ms):
    """Epoch ms as seconds since the world started."""
    return None if ms is None else round((ms - START) / 1000, 3)


# %% [markdown]
# ## Setting an alarm and receiving it

# %%
# NBVAL_CHECK_OUTPUT
class Reminder(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        print(f"  constructor at t={t(Date.now())}")

    async def remind_in(self, seconds):
        await self.ctx.storage.setAlarm(Date.now() + seconds * 1000)
        return t(await self.ctx.storage.getAlarm())

    async def alarm(self, alarm_info):
        print(f"  alarm() at t={t(Date.now())}: retryCount={alarm_info.retryCount}, "
              f"scheduledTime={t(alarm_info.scheduledTime)}, getAlarm() inside={await self.ctx.storage.getAlarm()}")

    async def pending(self):
        return t(await self.ctx.storage.getAlarm())


rt = Runtime(durable_objects={"REMINDER": Reminder})
reminder = rt.env.REMINDER.getByName("ada")
print("alarm set for t =", await reminder.remind_in(60))
await rt.advance(59)
print("t=59: nothing yet; pending alarm:", await reminder.pending())
await rt.advance(2)
print("t=61: pending alarm:", await reminder.pending())

# %% [markdown]
# Inside the handler `getAlarm()` is `None`: the alarm is no longer "set" once it runs, and it is
# cleared when the handler succeeds. Virtual time makes long delays free, and an alarm **wakes an
# evicted object**: the constructor runs first, then `alarm()`.

# %%
# NBVAL_CHECK_OUTPUT
await reminder.remind_in(365 * 86400)                 # a year from now
await rt.evict(reminder)
started = time.perf_counter()
await rt.advance(366 * 86400)
print(f"a year of virtual time took {time.perf_counter() - started:.3f} s of wall time")

# %% [markdown]
# ## One alarm per object
#
# There is exactly one alarm slot. `setAlarm` *replaces* whatever was there: the earlier
# reminder below never fires.

# %%
# NBVAL_CHECK_OUTPUT
world = Runtime(durable_objects={"REMINDER": Reminder})
r = world.env.REMINDER.getByName("bob")
print("first  setAlarm:", await r.remind_in(30))
print("second setAlarm:", await r.remind_in(90))
await world.advance(100)
print("alarm runs:", len(world.trace.select("alarm:start")))

# %% [markdown]
# ### Exercise: an alarm that keeps itself going
#
# A team's activity digest goes out once a minute. Every page load calls `start()` to make sure
# it is scheduled, and `alarm()` sends the digest (here it counts it). As written, the first digest
# never repeats, and a busy team, loading a page every 30 s, never gets one at all: each `start()`
# replaces the pending alarm with one a minute later. Make `alarm()` schedule the next digest, and
# make `start()` leave a pending alarm alone.

# %% tags=["exercise"]
# Exercise: a digest once a minute, which calling start() never pushes back.
from js import Date
from workers import DurableObject


class Digest(DurableObject):
    """start() is called on every page load; a digest goes out once a minute (sent() counts them)."""

    async def start(self):
        await self.ctx.storage.setAlarm(Date.now() + 60_000)

    async def alarm(self, alarm_info):
        sent = (await self.ctx.storage.get("sent") or 0) + 1
        await self.ctx.storage.put("sent", sent)                # stands for sending the digest

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0

# %%
from durable_dojo.workbook import check

await check("05-every-minute", Digest)

# %% [markdown]
# ## Why not a timer?
#
# A reminder implemented with `asyncio.sleep` lives in the instance. From compatibility date
# 2026-10-01 that pending timer keeps the idle object in memory until it fires (before that date
# the object was evicted after 70-140 s, timer and all), so on a quiet hour it arrives, after an
# hour of billed duration. But no deploy waits for it: ship a fix 20 minutes later and the
# reminder is gone. The alarm version is stored, survives the deploy, and lets the object
# hibernate meanwhile (no duration billed):

# %%
# NBVAL_CHECK_OUTPUT
class SleepyReminder(DurableObject):
    async def remind_in(self, seconds):
        async def later():
            await asyncio.sleep(seconds)
            await self.ctx.storage.put("reminded_at", t(Date.now()))

        asyncio.get_running_loop().create_task(later())   # memory only

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("reminded_at", t(Date.now()))

    async def remind_with_alarm(self, seconds):
        await self.ctx.storage.setAlarm(Date.now() + seconds * 1000)

    async def reminded_at(self):
        return await self.ctx.storage.get("reminded_at")


for method, deploy in [("remind_in", False), ("remind_in", True), ("remind_with_alarm", True)]:
    world = Runtime(durable_objects={"R": SleepyReminder})
    stub = world.env.R.getByName("r")
    await getattr(stub, method)(3600)
    if deploy:
        await world.advance(20 * 60)
        await world.deploy()                          # a new version goes live
    await world.advance(2 * 3600)
    billed = world.metrics("R")["durationSeconds"]
    print(f"{method:<18} {'with a deploy' if deploy else 'quiet hour':<14} reminded at: "
          f"{str(await stub.reminded_at()):<20} billed {billed:>5g} s")

# %% [markdown]
# ## Retries with back-off
#
# If `alarm()` throws, the platform retries it: up to 6 retries (7 attempts), waiting 2, 4, 8,
# 16, 32 and 64 seconds, each plus up to 25% random jitter. `alarm_info.retryCount` says which
# attempt this is. After the last failure the alarm is deleted and never fires again.
#
# The emulator logs each failed attempt with its traceback to stderr, as `wrangler dev` prints
# them; here the failures are the point, so the cell turns that log down first.

# %% [markdown]
# <!-- diagram: alarm-retries -->
# <figure class="dojo-diagram" id="diagram-alarm-retries"><img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA4NjAgMjQwIiB3aWR0aD0iODYwIiBoZWlnaHQ9IjI0MCIgcm9sZT0iaW1nIj48dGl0bGU+QWxhcm0gcmV0cmllcyB3aXRoIGJhY2stb2ZmPC90aXRsZT48ZGVmcz48bWFya2VyIGlkPSJhcnJvdyIgdmlld0JveD0iMCAwIDEwIDEwIiByZWZYPSI5IiByZWZZPSI1IiBtYXJrZXJXaWR0aD0iNyIgbWFya2VySGVpZ2h0PSI3IiBvcmllbnQ9ImF1dG8tc3RhcnQtcmV2ZXJzZSI+PHBhdGggZD0iTTAsMCBMMTAsNSBMMCwxMCB6IiBmaWxsPSIjMWYyOTM3Ii8+PC9tYXJrZXI+PC9kZWZzPjxyZWN0IHdpZHRoPSI4NjAiIGhlaWdodD0iMjQwIiBmaWxsPSIjZmZmZmZmIi8+PGxpbmUgeDE9IjQwIiB5MT0iMTIwIiB4Mj0iODQwIiB5Mj0iMTIwIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS4yIi8+PGNpcmNsZSBjeD0iNDAuMCIgY3k9IjEyMCIgcj0iOSIgZmlsbD0iI2ZmZDZkNiIgc3Ryb2tlPSIjMWYyOTM3Ii8+PHRleHQgeD0iNDAuMCIgeT0iMTI0IiBmb250LXNpemU9IjEwIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPjE8L3RleHQ+PHRleHQgeD0iNDAuMCIgeT0iMTUwIiBmb250LXNpemU9IjEwIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjNmI3MjgwIiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+MCBzPC90ZXh0PjxjaXJjbGUgY3g9IjUyLjAiIGN5PSIxMjAiIHI9IjkiIGZpbGw9IiNmZmQ2ZDYiIHN0cm9rZT0iIzFmMjkzNyIvPjx0ZXh0IHg9IjUyLjAiIHk9IjEyNCIgZm9udC1zaXplPSIxMCIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4yPC90ZXh0PjxjaXJjbGUgY3g9Ijc2LjAiIGN5PSIxMjAiIHI9IjkiIGZpbGw9IiNmZmQ2ZDYiIHN0cm9rZT0iIzFmMjkzNyIvPjx0ZXh0IHg9Ijc2LjAiIHk9IjEyNCIgZm9udC1zaXplPSIxMCIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4zPC90ZXh0PjxwYXRoIGQ9Ik0gODUuMCAxMTAgUSAxMDAuMCA4NyAxMTUuMCAxMTAiIGZpbGw9Im5vbmUiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PHRleHQgeD0iMTAwLjAiIHk9IjkyLjAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4rOCBzPC90ZXh0PjxjaXJjbGUgY3g9IjEyNC4wIiBjeT0iMTIwIiByPSI5IiBmaWxsPSIjZmZkNmQ2IiBzdHJva2U9IiMxZjI5MzciLz48dGV4dCB4PSIxMjQuMCIgeT0iMTI0IiBmb250LXNpemU9IjEwIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPjQ8L3RleHQ+PHRleHQgeD0iMTI0LjAiIHk9IjE1MCIgZm9udC1zaXplPSIxMCIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzZiNzI4MCIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPjE0IHM8L3RleHQ+PHBhdGggZD0iTSAxMzMuMCAxMTAgUSAxNzIuMCA3OSAyMTEuMCAxMTAiIGZpbGw9Im5vbmUiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PHRleHQgeD0iMTcyLjAiIHk9Ijg4LjAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4rMTYgczwvdGV4dD48Y2lyY2xlIGN4PSIyMjAuMCIgY3k9IjEyMCIgcj0iOSIgZmlsbD0iI2ZmZDZkNiIgc3Ryb2tlPSIjMWYyOTM3Ii8+PHRleHQgeD0iMjIwLjAiIHk9IjEyNCIgZm9udC1zaXplPSIxMCIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj41PC90ZXh0Pjx0ZXh0IHg9IjIyMC4wIiB5PSIxNTAiIGZvbnQtc2l6ZT0iMTAiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiM2YjcyODAiIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4zMCBzPC90ZXh0PjxwYXRoIGQ9Ik0gMjI5LjAgMTEwIFEgMzE2LjAgNjMgNDAzLjAgMTEwIiBmaWxsPSJub25lIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjx0ZXh0IHg9IjMxNi4wIiB5PSI4MC4wIiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+KzMyIHM8L3RleHQ+PGNpcmNsZSBjeD0iNDEyLjAiIGN5PSIxMjAiIHI9IjkiIGZpbGw9IiNmZmQ2ZDYiIHN0cm9rZT0iIzFmMjkzNyIvPjx0ZXh0IHg9IjQxMi4wIiB5PSIxMjQiIGZvbnQtc2l6ZT0iMTAiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+NjwvdGV4dD48dGV4dCB4PSI0MTIuMCIgeT0iMTUwIiBmb250LXNpemU9IjEwIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjNmI3MjgwIiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+NjIgczwvdGV4dD48cGF0aCBkPSJNIDQyMS4wIDExMCBRIDYwNC4wIDMxIDc4Ny4wIDExMCIgZmlsbD0ibm9uZSIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuNCIgbWFya2VyLWVuZD0idXJsKCNhcnJvdykiLz48dGV4dCB4PSI2MDQuMCIgeT0iNjQuMCIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPis2NCBzPC90ZXh0PjxjaXJjbGUgY3g9Ijc5Ni4wIiBjeT0iMTIwIiByPSI5IiBmaWxsPSIjZmZkNmQ2IiBzdHJva2U9IiMxZjI5MzciLz48dGV4dCB4PSI3OTYuMCIgeT0iMTI0IiBmb250LXNpemU9IjEwIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPjc8L3RleHQ+PHRleHQgeD0iNzk2LjAiIHk9IjE1MCIgZm9udC1zaXplPSIxMCIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzZiNzI4MCIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPjEyNiBzPC90ZXh0Pjx0ZXh0IHg9IjQwIiB5PSIzMCIgZm9udC1zaXplPSIxMiIgdGV4dC1hbmNob3I9InN0YXJ0IiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+VGhlIGFsYXJtIGhhbmRsZXIgdGhyb3dzOiB0aGUgcGxhdGZvcm0gcnVucyBpdCBhZ2FpbiBhZnRlciAyIHMsIHRoZW4gZG91YmxlcyB0aGUgd2FpdCB1cCB0byA2NCBzIChwbHVzIHNvbWUgaml0dGVyKS48L3RleHQ+PHRleHQgeD0iNDAiIHk9IjUwIiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ic3RhcnQiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj43IGF0dGVtcHRzIGluIGFsbCAodGhlIGZpcnN0IGFuZCA2IHJldHJpZXMpOyBhbGFybV9pbmZvLnJldHJ5Q291bnQgY291bnRzIHRoZW0uIFRoZW4gaXQgZ2l2ZXMgdXAuPC90ZXh0Pjx0ZXh0IHg9IjQwIiB5PSIyMDAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJzdGFydCIgZmlsbD0iIzZiNzI4MCIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmF0dGVtcHRzIDEtMyBhcmUgMiBzIGFuZCA0IHMgYXBhcnQ7IHRoZSB3aG9sZSBzZXJpZXMgc3BhbnMgYWJvdXQgMTI2IHMgYmVmb3JlIGppdHRlcjwvdGV4dD48L3N2Zz4K" alt="A failing alarm is retried after 2, 4, 8, 16, 32 and 64 s (plus jitter): 7 attempts in all." style="max-width:100%;height:auto"><figcaption>A failing alarm is retried after 2, 4, 8, 16, 32 and 64 s (plus jitter): 7 attempts in all.</figcaption></figure>

# %%
# NBVAL_CHECK_OUTPUT
import logging

logging.getLogger("durable_dojo").setLevel(logging.CRITICAL)   # failing attempts are expected here


class Flaky(DurableObject):
    async def schedule(self, failures):
        await self.ctx.storage.put("failures_left", failures)
        await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        left = await self.ctx.storage.get("failures_left")
        await self.ctx.storage.put("failures_left", left - 1)
        if left > 0:
            raise ConnectionError(f"attempt {alarm_info.retryCount + 1} failed")

    async def alarm_set(self):
        return await self.ctx.storage.getAlarm()


for failures in [2, 99]:
    world = Runtime(durable_objects={"FLAKY": Flaky}, seed=0)
    stub = world.env.FLAKY.getByName("job")
    await stub.schedule(failures)
    await world.advance(3600)
    starts = [e.time / 1000 for e in world.trace.select("alarm:start")]
    gaps = [round(b - a, 2) for a, b in zip(starts, starts[1:])]
    print(f"fails {failures:>2} times: {len(starts)} attempts at t={[round(s, 2) for s in starts]}")
    print(f"               gaps {gaps};  alarm still set: {await stub.alarm_set()}")
print(world.trace.format(world.trace.select("alarm:gave-up")))

# %% [markdown]
# ## At least once: make the handler idempotent
#
# Retries mean a handler can run **more than once** for the same alarm; so can a crash after its
# work but before it finished. Writes made by a failed attempt are kept (they were committed), so
# a handler that charges a card and then fails on a later step charges again on the retry:

# %%
# NBVAL_CHECK_OUTPUT
class Billing(DurableObject):
    async def schedule_invoice(self, amount):
        await self.ctx.storage.put({"amount": amount, "charges": [], "mail_failures": 1})
        await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def send_mail(self):
        failures = await self.ctx.storage.get("mail_failures")
        if failures:
            await self.ctx.storage.put("mail_failures", failures - 1)
            raise ConnectionError("mail server down")

    async def alarm(self, alarm_info):
        charges = await self.ctx.storage.get("charges")
        charges.append(await self.ctx.storage.get("amount"))     # charge the card...
        await self.ctx.storage.put("charges", charges)
        await self.send_mail()                                   # ...then the mail fails

    async def charges(self):
        return await self.ctx.storage.get("charges")


class IdempotentBilling(Billing):
    async def alarm(self, alarm_info):
        done_key = f"charged:{alarm_info.scheduledTime}"         # the same on every retry
        if not await self.ctx.storage.get(done_key):
            charges = await self.ctx.storage.get("charges")
            charges.append(await self.ctx.storage.get("amount"))
            await self.ctx.storage.put({"charges": charges, done_key: True})   # effect and marker together
        await self.send_mail()


for cls in [Billing, IdempotentBilling]:
    world = Runtime(durable_objects={"BILLING": cls})
    stub = world.env.BILLING.getByName("acme")
    await stub.schedule_invoice(49)
    await world.advance(60)
    print(f"{cls.__name__:<18} attempts: {len(world.trace.select('alarm:start'))}  charges: {await stub.charges()}")

# %% [markdown]
# The marker is keyed by `scheduledTime`, which stays the same across retries of one alarm, and
# it is written in the same batch as the charge, so they commit together or not at all. (A real
# payment API also takes an idempotency key: pass it the same one.)

# %% [markdown]
# ### Exercise: an outbox that delivers each message exactly once
#
# `send(message)` queues a message for a partner's API, and an alarm delivers the queue. The
# partner sometimes answers `503` ("busy, try later"); `fetch` does not raise for that, it returns
# the response. As written, a refused message is dropped with the rest of the queue. Make every
# message arrive exactly once, in order: a failure must leave the message in storage and make the
# alarm run again, a retry must not send what was already delivered, and a message sent while the
# alarm is delivering (its `fetch` awaits let other requests in) must not be lost.

# %% tags=["exercise"]
# Exercise: deliver every message exactly once, whatever the partner's API answers.
from js import Date
from workers import DurableObject, fetch

INBOX = "https://partner.example.com/inbox"


class Outbox(DurableObject):
    """send(message) queues a message; the alarm POSTs each queued message to the partner's inbox."""

    async def send(self, message):
        queue = await self.ctx.storage.get("queue") or []
        queue.append(message)
        await self.ctx.storage.put("queue", queue)
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    async def alarm(self, alarm_info):
        for message in await self.ctx.storage.get("queue") or []:
            await fetch(INBOX, method="POST", body=message)
        await self.ctx.storage.delete("queue")

# %%
await check("05-deliver-once", Outbox)

# %% [markdown]
# ## Many timers, one alarm: a queue
#
# One alarm per object does not mean one job per object. Store the jobs, each under a key that
# sorts by due time, and keep the alarm set to the earliest one. The handler runs everything
# that is due and re-arms for the next.

# %%
# NBVAL_CHECK_OUTPUT
class Scheduler(DurableObject):
    async def schedule(self, seconds, job):
        due = Date.now() + seconds * 1000
        await self.ctx.storage.put(f"job:{due:015d}:{job}", job)       # zero-padded: sorts by time
        current = await self.ctx.storage.getAlarm()
        if current is None or due < current:
            await self.ctx.storage.setAlarm(due)

    async def alarm(self, alarm_info):
        now = Date.now()
        due = await self.ctx.storage.list({"prefix": "job:", "end": f"job:{now + 1:015d}"})
        for key, job in due.items():
            print(f"  t={t(now)}: running {job}")
        await self.ctx.storage.delete(list(due))
        following = await self.ctx.storage.list({"prefix": "job:", "limit": 1})
        if following:
            await self.ctx.storage.setAlarm(int(next(iter(following)).split(":")[1]))

    async def jobs(self):
        return list(await self.ctx.storage.list({"prefix": "job:"}))

    async def next_alarm(self):
        return t(await self.ctx.storage.getAlarm())


world = Runtime(durable_objects={"SCHED": Scheduler})
sched = world.env.SCHED.getByName("sched")
for seconds, job in [(30, "send digest"), (10, "expire trial"), (90, "rotate keys"), (10, "ping partner")]:
    await sched.schedule(seconds, job)
print("queued:", len(await sched.jobs()), "jobs; the one alarm is set for t =", await sched.next_alarm())
await world.advance(120)
print("left:", await sched.jobs())

# %% [markdown]
# ## Alarms and storage operations
#
# Alarms are storage: `setAlarm` goes through the same batch, so an alarm set inside a
# transaction that rolls back is not set, and `deleteAll()` deletes the alarm too (on
# compatibility dates from 2026-02-24; before that the alarm survived a `deleteAll`, a classic
# source of "ghost" alarms).

# %%
# NBVAL_CHECK_OUTPUT
class Cleanup(DurableObject):
    async def alarm(self, alarm_info):
        pass

    async def set_in_failed_transaction(self):
        async def body(txn):
            await txn.setAlarm(Date.now() + 60_000)
            raise RuntimeError("changed my mind")

        try:
            await self.ctx.storage.transaction(body)
        except RuntimeError:
            pass
        return await self.ctx.storage.getAlarm()

    async def set_then_delete_all(self):
        await self.ctx.storage.setAlarm(Date.now() + 60_000)
        await self.ctx.storage.put("data", 1)
        await self.ctx.storage.deleteAll()
        return t(await self.ctx.storage.getAlarm())


for date in ["2026-11-26", "2026-01-01"]:
    world = Runtime(durable_objects={"CLEANUP": Cleanup}, compatibility_date=date)
    stub = world.env.CLEANUP.getByName("c")
    print(f"compatibility date {date}: alarm after a rolled-back transaction: "
          f"{await stub.set_in_failed_transaction()}; after deleteAll: {await stub.set_then_delete_all()}")

# %% [markdown]
# ## Testing alarms
#
# In tests you rarely want to wait for an alarm, even virtually. `run_durable_object_alarm(stub)`
# (from `durable_dojo.testing`, after Cloudflare's helper of the same name) runs the alarm now
# and returns whether one was set. The inspector's **Fire alarm** button does the same.

# %%
# NBVAL_CHECK_OUTPUT
world = Runtime(durable_objects={"REMINDER": Reminder})
stub = world.env.REMINDER.getByName("cy")
await stub.remind_in(3600)
print("ran:", await run_durable_object_alarm(stub))
print("ran again:", await run_durable_object_alarm(stub))

# %%
await stub.remind_in(600)
Inspector(world)

# %% [markdown]
# ## Katas
#
# * [08-forgotten-reminder](../katas/08-forgotten-reminder/README.md): an `asyncio.sleep`
#   timer that eviction cancels; use `setAlarm`.
# * [09-double-charge](../katas/09-double-charge/README.md): a non-idempotent handler meets a
#   retry.
# * [10-one-alarm-only](../katas/10-one-alarm-only/README.md): two jobs, one alarm; keep a queue
#   behind it.
#
# ## Self-check
#
# 1. Your object sets an alarm for each of three sessions' expiry times. When does each expire?
# 2. An alarm handler sends an email, then throws. How many emails can the user get?
# 3. Why key an idempotency marker by `alarm_info.scheduledTime` rather than by `Date.now()`?
#
# <details><summary>Answers</summary>
#
# 1. Only the last `setAlarm` counts: one alarm per object. Store the three expiries and set the
#    alarm to the earliest, as the scheduler above does.
# 2. Up to 7: the first attempt plus 6 retries. Record "sent" (in the same batch as anything that
#    must go with it) and skip it on a retry, or send through an API that deduplicates.
# 3. `scheduledTime` is the same on every retry of one alarm; `Date.now()` differs per attempt.
# </details>
