# %% [markdown]
# # 1. Lifecycle: what lives in memory, and for how long
#
# A Durable Object is two things. The **object** is an ID with its storage and its alarm; it
# lasts forever. An **instance** is one incarnation of it in memory: the constructor runs, events
# arrive, and one day the instance ends. The platform ends instances whenever it likes (an idle
# object hibernates or is evicted, a deploy restarts everything, a failed write resets it), and
# the next event simply makes a new one.
#
# This chapter runs each way an instance can end and looks at what survives. The rule it proves:
# **memory is a cache; storage is the truth.**

# %%
import asyncio
import datetime

from durable_dojo import Runtime
from durable_dojo.testing import connect
from durable_dojo.widgets import Inspector, Timeline
from js import Date, WebSocketPair
from pyodide.ffi import JsException
from workers import DurableObject, Response, fetch


WORLD_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)   # where every world's virtual clock starts


def seconds(rt):
    """Virtual seconds since the world started."""
    return (rt.now() - rt.start_ms) / 1000


# %% [markdown]
# ## The constructor runs on the first event, once per instance
#
# `Visitor` counts visits twice: in a field (memory) and in storage. Its constructor notes the
# virtual time it ran at.

# %%
# NBVAL_CHECK_OUTPUT
class Visitor(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.visits_in_memory = 0
        self.born_at = Date.new()                     # now, on the world's clock
        print(f"  constructor ran at t={(self.born_at - WORLD_START).total_seconds():g}s")

    async def visit(self):
        self.visits_in_memory += 1
        stored = (await self.ctx.storage.get("visits") or 0) + 1
        await self.ctx.storage.put("visits", stored)
        return f"memory says {self.visits_in_memory}, storage says {stored}"


rt = Runtime(durable_objects={"VISITOR": Visitor})
stub = rt.env.VISITOR.getByName("ada")
print("stub made; constructors so far:", len(rt.trace.select("constructor")))
for _ in range(3):
    print(await stub.visit())
print("constructors after three visits:", len(rt.trace.select("constructor")))

# %% [markdown]
# `getByName` made a stub and nothing else: no object exists until an event reaches it. Then the
# constructor ran once, and the three visits shared that instance.
#
# ## Eviction: memory gone, storage kept
#
# Evict the object (as the platform does to idle objects) and visit again:

# %%
# NBVAL_CHECK_OUTPUT
await rt.evict(stub)
print(Inspector(rt, timeline=None).text())
print(await stub.visit())

# %% [markdown]
# The field started from zero in a new instance; the stored count went on. A counter "safe
# because the object is single-threaded" but kept in a field is **lost at the next eviction**:
# single-threaded is not durable.
#
# ## Idle objects leave memory by themselves
#
# Nobody calls `evict` in production: an idle object leaves memory on its own while your users
# are away. How soon depends on whether it **may hibernate**, which it may when nothing is
# pending in it: no timer (an `asyncio.sleep` in a background task), no call to another object
# or `fetch` in flight, no WebSocket of the standard API. Such an object is **hibernated after
# 10 s** of inactivity, whether it has WebSockets or not (Cloudflare's "Lifecycle of a Durable
# Object"). `Visitor` is one:

# %% [markdown]
# <!-- diagram: lifecycle -->
# <figure class="dojo-diagram" id="diagram-lifecycle"><img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA5MTAgNDMwIiB3aWR0aD0iOTEwIiBoZWlnaHQ9IjQzMCIgcm9sZT0iaW1nIj48dGl0bGU+VGhlIGxpZmVjeWNsZSBvZiBhIER1cmFibGUgT2JqZWN0PC90aXRsZT48ZGVmcz48bWFya2VyIGlkPSJhcnJvdyIgdmlld0JveD0iMCAwIDEwIDEwIiByZWZYPSI5IiByZWZZPSI1IiBtYXJrZXJXaWR0aD0iNyIgbWFya2VySGVpZ2h0PSI3IiBvcmllbnQ9ImF1dG8tc3RhcnQtcmV2ZXJzZSI+PHBhdGggZD0iTTAsMCBMMTAsNSBMMCwxMCB6IiBmaWxsPSIjMWYyOTM3Ii8+PC9tYXJrZXI+PC9kZWZzPjxyZWN0IHdpZHRoPSI5MTAiIGhlaWdodD0iNDMwIiBmaWxsPSIjZmZmZmZmIi8+PHJlY3QgeD0iMjAiIHk9IjQwIiB3aWR0aD0iMTUwIiBoZWlnaHQ9IjYwIiByeD0iOCIgZmlsbD0iI2YzZjRmNiIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9Ijk1LjAiIHk9Ijc0LjMzMzMzMzMzMzMzMzMzIiBmb250LXNpemU9IjEzIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPk5vdCBpbiBtZW1vcnk8L3RleHQ+PHJlY3QgeD0iMjQwIiB5PSI0MCIgd2lkdGg9IjE2MCIgaGVpZ2h0PSI2MCIgcng9IjgiIGZpbGw9IiNkYmU5ZmYiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSIzMjAuMCIgeT0iNjYuMzMzMzMzMzMzMzMzMzMiIGZvbnQtc2l6ZT0iMTMiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+Q29uc3RydWN0b3IgcnVuczwvdGV4dD48dGV4dCB4PSIzMjAuMCIgeT0iODIuMzMzMzMzMzMzMzMzMzMiIGZvbnQtc2l6ZT0iMTMiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+KG5ldyBpbnN0YW5jZSk8L3RleHQ+PHJlY3QgeD0iNDcwIiB5PSI0MCIgd2lkdGg9IjE1MCIgaGVpZ2h0PSI2MCIgcng9IjgiIGZpbGw9IiNkYmU5ZmYiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSI1NDUuMCIgeT0iNjYuMzMzMzMzMzMzMzMzMzMiIGZvbnQtc2l6ZT0iMTMiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+QWN0aXZlPC90ZXh0Pjx0ZXh0IHg9IjU0NS4wIiB5PSI4Mi4zMzMzMzMzMzMzMzMzMyIgZm9udC1zaXplPSIxMyIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5oYW5kbGluZyBldmVudHM8L3RleHQ+PHJlY3QgeD0iNjkwIiB5PSI0MCIgd2lkdGg9IjE1MCIgaGVpZ2h0PSI2MCIgcng9IjgiIGZpbGw9IiNkYmU5ZmYiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSI3NjUuMCIgeT0iNjYuMzMzMzMzMzMzMzMzMzMiIGZvbnQtc2l6ZT0iMTMiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+SWRsZTwvdGV4dD48dGV4dCB4PSI3NjUuMCIgeT0iODIuMzMzMzMzMzMzMzMzMzMiIGZvbnQtc2l6ZT0iMTMiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+aW4gbWVtb3J5PC90ZXh0PjxsaW5lIHgxPSIxNzAiIHkxPSI3MCIgeDI9IjI0MCIgeTI9IjcwIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjx0ZXh0IHg9IjIwNS4wIiB5PSI2MC4wIiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+cmVxdWVzdCwgYWxhcm08L3RleHQ+PGxpbmUgeDE9IjQwMCIgeTE9IjcwIiB4Mj0iNDcwIiB5Mj0iNzAiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PGxpbmUgeDE9IjYyMCIgeTE9IjYwIiB4Mj0iNjkwIiB5Mj0iNjAiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PHRleHQgeD0iNjU1LjAiIHk9IjU0LjAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5kb25lPC90ZXh0PjxsaW5lIHgxPSI2OTAiIHkxPSI4NSIgeDI9IjYyMCIgeTI9Ijg1IiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjx0ZXh0IHg9IjY1NS4wIiB5PSIxMDEuMCIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPm5leHQgZXZlbnQ8L3RleHQ+PHJlY3QgeD0iNDcwIiB5PSIyNTAiIHdpZHRoPSIxOTAiIGhlaWdodD0iNzAiIHJ4PSI4IiBmaWxsPSIjZWFkY2ZmIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS4zIi8+PHRleHQgeD0iNTY1LjAiIHk9IjI3NC4wIiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPkhpYmVybmF0ZWQ8L3RleHQ+PHRleHQgeD0iNTY1LjAiIHk9IjI4OS4wIiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPm1lbW9yeSBnb25lLCBoaWJlcm5hdGFibGU8L3RleHQ+PHRleHQgeD0iNTY1LjAiIHk9IjMwNC4wIiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPldlYlNvY2tldHMgc3RheSBvcGVuPC90ZXh0PjxyZWN0IHg9IjY5MCIgeT0iMjUwIiB3aWR0aD0iMTUwIiBoZWlnaHQ9IjcwIiByeD0iOCIgZmlsbD0iI2YzZjRmNiIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9Ijc2NS4wIiB5PSIyODEuMzMzMzMzMzMzMzMzMyIgZm9udC1zaXplPSIxMyIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5FdmljdGVkPC90ZXh0Pjx0ZXh0IHg9Ijc2NS4wIiB5PSIyOTcuMzMzMzMzMzMzMzMzMyIgZm9udC1zaXplPSIxMyIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5tZW1vcnkgZ29uZTwvdGV4dD48bGluZSB4MT0iNzQwIiB5MT0iMTAwIiB4Mj0iNjAwIiB5Mj0iMjUwIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjx0ZXh0IHg9IjU2MC4wIiB5PSIxNTUuMCIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmFmdGVyIDEwIHMgaWRsZSwgaWYgaXQgY2FuIGhpYmVybmF0ZTwvdGV4dD48dGV4dCB4PSI1NjAuMCIgeT0iMTY5LjAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4obm8gdGltZXIsIG5vIHBlbmRpbmcgZmV0Y2gsPC90ZXh0Pjx0ZXh0IHg9IjU2MC4wIiB5PSIxODMuMCIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPm5vIHN0YW5kYXJkIFdlYlNvY2tldCksIHdpdGg8L3RleHQ+PHRleHQgeD0iNTYwLjAiIHk9IjE5Ny4wIiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+b3Igd2l0aG91dCBXZWJTb2NrZXRzPC90ZXh0PjxsaW5lIHgxPSI3OTAiIHkxPSIxMDAiIHgyPSI3OTAiIHkyPSIyNTAiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PHRleHQgeD0iNzk4LjAiIHk9IjE2NS4wIiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ic3RhcnQiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5hZnRlciA3MC0xNDAgcyBpZGxlLDwvdGV4dD48dGV4dCB4PSI3OTguMCIgeT0iMTc5LjAiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJzdGFydCIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmlmIGl0IGNhbm5vdDwvdGV4dD48cGF0aCBkPSJNIDQ3MCAzMDAgQyAyMDAgMzAwLCAzMjAgMTYwLCAzMjAgMTAwIiBmaWxsPSJub25lIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjx0ZXh0IHg9IjI0MCIgeT0iMzQ1IiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+bmV4dCByZXF1ZXN0LCBhbGFybSBvciBXZWJTb2NrZXQgbWVzc2FnZTo8L3RleHQ+PHRleHQgeD0iMjQwIiB5PSIzNTkiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj50aGUgY29uc3RydWN0b3IgcnVucyBhZ2FpbjwvdGV4dD48cGF0aCBkPSJNIDc2NSAzMjAgQyA3NjUgNDAwLCAzMjAgNDAwLCAzMjAgMTA4IiBmaWxsPSJub25lIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjxyZWN0IHg9IjIwIiB5PSIxODAiIHdpZHRoPSIxOTAiIGhlaWdodD0iNjQiIHJ4PSI4IiBmaWxsPSIjZGZmNWUxIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS4zIi8+PHRleHQgeD0iMTE1LjAiIHk9IjIwOC41IiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPlN0b3JhZ2U8L3RleHQ+PHRleHQgeD0iMTE1LjAiIHk9IjIyMy41IiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmtlcHQgdGhyb3VnaCBhbGwgb2YgaXQ8L3RleHQ+PHRleHQgeD0iMjAiIHk9IjQyMCIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9InN0YXJ0IiBmaWxsPSIjNmI3MjgwIiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+TWVtb3J5IChmaWVsZHMsIG1vZHVsZSBzdGF0ZSBvZiB0aGUgaW5zdGFuY2UpIGlzIGxvc3Qgb24gaGliZXJuYXRpb24sIGV2aWN0aW9uIGFuZCByZXNldDsgc3RvcmFnZSBuZXZlciBpcy48L3RleHQ+PC9zdmc+Cg==" alt="The lifecycle: an idle object hibernates after 10 s if it can, with or without WebSockets; otherwise it is evicted after 70-140 s. Storage survives both." style="max-width:100%;height:auto"><figcaption>The lifecycle: an idle object hibernates after 10 s if it can, with or without WebSockets; otherwise it is evicted after 70-140 s. Storage survives both.</figcaption></figure>

# %%
# NBVAL_CHECK_OUTPUT
await rt.advance(9)
print(f"t={seconds(rt):g}s:", await stub.visit())        # 9 s idle: same instance
await rt.advance(11)
print(rt.trace.format(rt.trace.select("hibernate"), last=1))
print(f"t={seconds(rt):g}s:", await stub.visit())        # 11 s idle: it hibernated, a new instance
print(f"duration billed so far: {rt.metrics('VISITOR')['durationSeconds']:g} s")

# %% [markdown]
# No duration was billed: an idle object that may hibernate costs nothing, even in the seconds
# before it hibernates (the pricing page).
#
# ## When an object cannot hibernate
#
# Work the object started and did not await, such as a background task sleeping on a timer,
# keeps it from hibernating. What happens next depends on the Worker's **compatibility date**
# (`compatibility_date` in `wrangler.toml`, `Runtime(compatibility_date=...)` here):
#
# * from **2026-10-01**, pending work (timers, calls to other objects, `ctx.waitUntil`) keeps the
#   object in memory until it is done; then it is idle like any other and hibernates 10 s later;
# * before that date nothing kept it: the idle object was **evicted after 70-140 s**, and the
#   unfinished work died with it.
#
# Either way it is billed for every second it stays in memory.

# %%
# NBVAL_CHECK_OUTPUT
class Poller(DurableObject):
    async def start(self, seconds):
        async def later():
            await asyncio.sleep(seconds)
            await self.ctx.storage.put("finished_at", (Date.new() - WORLD_START).total_seconds())

        asyncio.get_running_loop().create_task(later())   # not awaited: pending work

    async def finished_at(self):
        return await self.ctx.storage.get("finished_at")


for date in ["2026-09-30", "2026-10-01"]:
    world = Runtime(durable_objects={"POLLER": Poller}, compatibility_date=date)
    poller = world.env.POLLER.getByName("p")
    await poller.start(600)                           # ten minutes of work, not awaited
    await world.advance(3600)
    left = [f"{e.kind} at {e.time / 1000:g}s" for e in world.trace if e.kind in ("evict", "hibernate")]
    print(f"{date}: work finished at {await poller.finished_at()}, left memory: {left}, "
          f"billed {world.metrics('POLLER')['durationSeconds']:g} s")
    world.close()

# %% [markdown]
# `Runtime(hibernation_timeout=10, idle_eviction=(70, 140))` are the two delays (`None` turns
# either off, which no production object gets to do).

# %% [markdown]
# ### Exercise: let it hibernate
#
# `Presence` says who is online: a user is online for 30 s after their last `ping`. It expires
# each ping with a timer in a background task, so the object waits in memory (billed) after every
# ping, and the timer of an earlier ping takes a user offline although they pinged again since.
# Store when each user was last seen instead (`Date.now()` gives milliseconds on the world's
# clock) and decide when asked, with nothing left waiting. The check pings, evicts, lets time
# pass, and reads the billed duration.

# %% tags=["exercise"]
# Exercise: decide "online" from a stored time, with nothing waiting in memory.
import asyncio

from workers import DurableObject


class Presence(DurableObject):
    """ping(user) marks a user online; is_online(user) says whether they pinged in the last 30 s."""

    async def ping(self, user):
        await self.ctx.storage.put(f"online:{user}", True)

        async def expire():
            await asyncio.sleep(30)
            await self.ctx.storage.delete(f"online:{user}")

        asyncio.get_running_loop().create_task(expire())    # not awaited: it waits in memory

    async def is_online(self, user):
        return await self.ctx.storage.get(f"online:{user}") or False

# %%
from durable_dojo.workbook import check

await check("01-let-it-hibernate", Presence)
#
# ## Hibernation with WebSockets: memory gone, sockets kept
#
# WebSockets accepted with the **Hibernation API** (`ctx.acceptWebSocket`) belong to the object,
# not to the instance: they do not keep it from hibernating. After 10 idle seconds the instance
# is dropped, the connections stay open, and the next message runs the constructor again before
# `webSocketMessage`. (A socket of the standard API would pin the object in memory instead.)
# Chapter 6 covers sockets; here is just the lifecycle part.

# %%
# NBVAL_CHECK_OUTPUT
class Lobby(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.heard = []                               # memory: lost at hibernation

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)              # the Hibernation API
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        self.heard.append(message)
        ws.send(f"heard so far: {self.heard}")


lobby_world = Runtime(durable_objects={"LOBBY": Lobby})
lobby = lobby_world.env.LOBBY.getByName("lobby")
ws = await connect(lobby, "http://do/lobby")
ws.send("hello")
print(await ws.receive())
await lobby_world.advance(11)
print(Inspector(lobby_world, timeline=None).text())
ws.send("still there?")
print(await ws.receive())

# %% [markdown]
# ## Loading state: `blockConcurrencyWhile` in the constructor
#
# A constructor cannot `await`. A common piece of advice follows from that: "load your state
# lazily in `fetch`". It works while loading only touches storage, but the moment loading awaits
# anything else (an API, another object), a second request walks in while the first is still
# loading. Here the configuration comes from an API that takes 50 ms, and two requests arrive
# together:

# %%
# NBVAL_CHECK_OUTPUT
async def config_api(request):
    await asyncio.sleep(0.05)                         # the API takes 50 ms (virtual)
    return Response.from_json({"greeting": "hello"})


class LazyConfig(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.loading = False
        self.config = None

    async def greet(self, who):
        if not self.loading:                          # load once, lazily, on the first request
            self.loading = True
            response = await fetch("https://config.example.com/")   # the input gate opens here
            self.config = await response.json()
        return f"{self.config['greeting']}, {who}"


lazy_world = Runtime(durable_objects={"CONFIG": LazyConfig}, outbound=config_api)
lazy = lazy_world.env.CONFIG.getByName("c")
results = await asyncio.gather(lazy.greet("ada"), lazy.greet("bob"), return_exceptions=True)
for result in results:
    if isinstance(result, Exception):                 # an exception from the object (chapter 4):
        result = result.message.splitlines()[-1]      # its traceback's last line says what was raised
    print(repr(result))

# %% [markdown]
# The second request ran while the first waited for the API, saw `loading` already set, and read
# a config that was not there yet. The platform's pattern is to load **in the constructor,
# inside `ctx.blockConcurrencyWhile`**: no event reaches the object until the callback is done.

# %%
# NBVAL_CHECK_OUTPUT
class EagerConfig(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.config = None
        ctx.blockConcurrencyWhile(self.load)          # holds every event until load() is done

    async def load(self):
        response = await fetch("https://config.example.com/")
        self.config = await response.json()

    async def greet(self, who):
        return f"{self.config['greeting']}, {who}"


eager_world = Runtime(durable_objects={"CONFIG": EagerConfig}, outbound=config_api)
eager = eager_world.env.CONFIG.getByName("c")
print(await asyncio.gather(eager.greet("ada"), eager.greet("bob")))
print("API calls:", len(eager_world.trace.select("fetch:out")))
print(Timeline(eager_world, kinds=("rpc:", "constructor", "gate:", "fetch:")).text())

# %% [markdown]
# Both requests waited behind the closed gate (the `┃` bar), and the API was called once.

# %% [markdown]
# ### Exercise: load once, before anyone reads
#
# `PriceList` converts dollars to euros with the rates of an exchange-rate API (which answers in
# 50 ms). As written, it loads them lazily, and a request that arrives during the load reads
# rates that are not there yet. Make it load the rates **once per instance**, before any request
# can use them. The check sends requests together to a fresh instance, evicts it, changes the
# rates, and counts the API calls.

# %% tags=["exercise"]
# Exercise: load the exchange rates once per instance, before any request can use them.
from workers import DurableObject, fetch


class PriceList(DurableObject):
    """price(usd) converts US dollars to euros with the rates of https://rates.example.com/."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.loading = False
        self.rates = None

    async def price(self, usd):
        if not self.loading:
            self.loading = True
            response = await fetch("https://rates.example.com/")
            self.rates = await response.json()
        return round(usd * self.rates["EUR"], 2)

# %%
await check("01-load-once", PriceList)
#
# ## Resets: when the platform throws the instance away
#
# Some failures **reset** the object: the instance is dropped at once, writes not yet flushed
# are discarded, and every request in flight fails with an error marked `durableObjectReset`.
# A throw inside `blockConcurrencyWhile` is one of them: the platform cannot know what state the
# half-initialised instance is in. A plain exception from a method is *not* a reset: only that
# call fails.

# %%
# NBVAL_CHECK_OUTPUT
import logging

logging.getLogger("durable_dojo").setLevel(logging.CRITICAL)   # the failures below are on purpose


async def broken_api(request):
    return Response("down for maintenance", status=503)


class StrictConfig(EagerConfig):
    async def load(self):
        response = await fetch("https://config.example.com/")
        if response.status != 200:
            raise RuntimeError(f"config API answered {response.status}")
        self.config = await response.json()

    def fail(self):
        raise ValueError("a plain failure in a method")


strict_world = Runtime(durable_objects={"CONFIG": StrictConfig}, outbound=broken_api)
strict = strict_world.env.CONFIG.getByName("c")
for call in (lambda: strict.greet("ada"), lambda: strict_world.env.CONFIG.getByName("c").greet("bob")):
    try:
        await call()
    except Exception as error:
        raised = error.message.splitlines()[-1]      # what the constructor raised (chapter 4)
        print(f"{error.name} ({raised})  remote={error.remote}, durableObjectReset={error.durableObjectReset}")
print("constructors:", len(strict_world.trace.select("constructor")), " resets:", len(strict_world.trace.select("reset")))

strict_world.outbound = config_api                   # the API is back
fresh = strict_world.env.CONFIG.getByName("c")       # a reset breaks the old stub: use a new one
print(await fresh.greet("ada"))
try:
    await fresh.fail()
except JsException as error:                         # not ValueError: chapter 4 says why
    print(f"{error.name} ({error.message.splitlines()[-1]})  durableObjectReset={error.durableObjectReset}")
print(await fresh.greet("bob"), "- same instance, constructors:", len(strict_world.trace.select("constructor")))

# %% [markdown]
# (The emulator logs errors that no caller receives, such as this constructor's, to stderr the
# way `wrangler dev` prints them; the cell above turned that log down because the failures are
# the point. `logging.getLogger("durable_dojo").setLevel(logging.WARNING)` turns it back on.)
#
# Every request re-ran the constructor until the API came back: a throw in
# `blockConcurrencyWhile` means "this instance is unusable", and the next request tries again
# with a fresh one. The plain `ValueError` left the instance (and its loaded config) alone.
#
# ## `ctx.abort()`: reset on purpose
#
# `ctx.abort(reason)` resets the object from inside: use it when the instance knows its memory
# is wrong. Writes not yet flushed are discarded, the caller gets `reason` as the error, the stub
# it used is broken, and in Python the abort is a `BaseException`, so an `except Exception`
# cannot swallow it.

# %%
# NBVAL_CHECK_OUTPUT
class Account(DurableObject):
    async def deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        await self.ctx.storage.put("balance", balance)
        return balance

    async def corrupt(self):
        self.ctx.storage.put("balance", 888)           # not awaited: still pending
        try:
            self.ctx.abort("balance looked wrong")
        except Exception:                             # does not catch it
            return "swallowed"


bank = Runtime(durable_objects={"ACCOUNT": Account})
account = bank.env.ACCOUNT.getByName("acct")
print(await account.deposit(10), await account.deposit(5))
try:
    await account.corrupt()
except Exception as error:
    print(f"caller sees: {error!s}  (durableObjectReset={error.durableObjectReset})")
try:
    await account.deposit(1)
except Exception as error:
    print(f"the old stub is broken: {error!s}")
print("a new stub:", await bank.env.ACCOUNT.getByName("acct").deposit(1), "(888 was never stored)")

# %% [markdown]
# ## What survives what
#
# One experiment per way an instance can end. Each world sets a field, stores a value, sets an
# alarm an hour ahead, then runs a request that makes one more write *without awaiting it* and,
# right after it, ends in the way named on the left. Then a fresh stub looks at what is left.

# %%
# NBVAL_CHECK_OUTPUT
class Probe(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.field = None

    async def setup(self):
        self.field = "set"
        await self.ctx.storage.put("stored", "set")
        await self.ctx.storage.setAlarm(Date.now() + 3_600_000)

    async def alarm(self, info):
        pass

    async def last_request(self, how):
        if how == "blockConcurrencyWhile throw":
            async def fail():
                raise RuntimeError("init failed")
            await self.ctx.blockConcurrencyWhile(fail)
        self.ctx.storage.put("last_write", "set")     # not awaited
        if how == "exception":
            raise ValueError("plain failure")
        if how == "abort":
            self.ctx.abort("aborted")

    async def report(self):
        return [self.field, await self.ctx.storage.get("stored"), await self.ctx.storage.getAlarm(),
                await self.ctx.storage.get("last_write")]


async def ending(how):
    world = Runtime(durable_objects={"PROBE": Probe})
    stub = world.env.PROBE.getByName("p")
    await stub.setup()
    try:
        await stub.last_request(how)
    except Exception:
        pass
    if how == "rt.evict":
        await world.evict(stub)
    if how == "idle 150 s":
        await world.advance(150)
    report = await world.env.PROBE.getByName("p").report()
    new_instance = len(world.trace.select("constructor")) > 1
    world.close()
    cells = ["kept" if value is not None else "lost" for value in report] + ["yes" if new_instance else "no"]
    if how == "blockConcurrencyWhile throw":
        cells[3] = "n/a"                              # this request throws before writing
    return cells


print(f"{'how the instance ended':<28} {'field':<6} {'stored':<7} {'alarm':<6} {'last write':<11} new instance")
for how in ["rt.evict", "idle 150 s", "exception", "blockConcurrencyWhile throw", "abort"]:
    field, stored, alarm, last, new = await ending(how)
    print(f"{how:<28} {field:<6} {stored:<7} {alarm:<6} {last:<11} {new}")

# %% [markdown]
# Read it row by row:
#
# * **Eviction or hibernation** (on demand or after idling) drops the field; everything stored
#   stays, including the last write: it was flushed before the instance went idle.
# * **A plain exception** keeps the instance and its field, and the write made before the throw
#   was confirmed before the error reached the caller (the output gate, chapter 3).
# * **A reset** (`blockConcurrencyWhile` throw, `abort`) drops the field, and `abort` also drops
#   the write that was not yet flushed. What was committed before stays.
#
# Storage and the alarm always survive. Keep the truth there; use fields only as a cache that
# you can rebuild, ideally in the constructor under `blockConcurrencyWhile`.

# %% [markdown]
# ### Exercise: a cache that a new instance rebuilds
#
# `Leaderboard` keeps each player's best score in storage and, for speed, in a field `best`.
# After an eviction the field is empty: `top()` forgets everyone, and `record()` compares a new
# score with nothing and may overwrite a better stored one. Keep the field as a cache, but make
# every new instance fill it from storage before it answers anything.

# %% tags=["exercise"]
# Exercise: fill the cache from storage whenever a new instance starts.
from workers import DurableObject


class Leaderboard(DurableObject):
    """record(player, score) keeps each player's best score; top(n) names the n best players."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.best = {}                                # player -> best score: a cache of what is stored

    async def record(self, player, score):
        if score > self.best.get(player, 0):
            self.best[player] = score
            await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        ranked = sorted(self.best.items(), key=lambda item: (-item[1], item[0]))
        return [player for player, _ in ranked[:n]]

# %%
await check("01-rebuild-the-cache", Leaderboard)

# %% [markdown]
# ## Module-level state is not a way out
#
# If fields die with the instance, why not keep the count in a module-level dict? Because the
# platform runs your module once per **isolate**, not once per Worker: the objects one isolate
# hosts share its module globals, objects in other isolates have their own, and an isolate is
# recycled at every deploy, at resource limits and on restarts. The emulator does the same for
# classes defined in a module file (it runs the module again in each isolate; a class defined in a
# notebook cell cannot be run again, so here the module is written to a file first):

# %% [markdown]
# <!-- diagram: isolates -->
# <figure class="dojo-diagram" id="diagram-isolates"><img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA4MjAgMzAwIiB3aWR0aD0iODIwIiBoZWlnaHQ9IjMwMCIgcm9sZT0iaW1nIj48dGl0bGU+SXNvbGF0ZXMgYW5kIG1vZHVsZSBzdGF0ZTwvdGl0bGU+PGRlZnM+PG1hcmtlciBpZD0iYXJyb3ciIHZpZXdCb3g9IjAgMCAxMCAxMCIgcmVmWD0iOSIgcmVmWT0iNSIgbWFya2VyV2lkdGg9IjciIG1hcmtlckhlaWdodD0iNyIgb3JpZW50PSJhdXRvLXN0YXJ0LXJldmVyc2UiPjxwYXRoIGQ9Ik0wLDAgTDEwLDUgTDAsMTAgeiIgZmlsbD0iIzFmMjkzNyIvPjwvbWFya2VyPjwvZGVmcz48cmVjdCB3aWR0aD0iODIwIiBoZWlnaHQ9IjMwMCIgZmlsbD0iI2ZmZmZmZiIvPjxyZWN0IHg9IjIwIiB5PSIyMCIgd2lkdGg9IjM4MCIgaGVpZ2h0PSIyMDAiIHJ4PSIxMCIgZmlsbD0iI2ZhZmFmYSIgc3Ryb2tlPSIjMWYyOTM3Ii8+PHRleHQgeD0iMjEwIiB5PSI0MiIgZm9udC1zaXplPSIxMyIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5Jc29sYXRlIDE8L3RleHQ+PHJlY3QgeD0iNDAiIHk9IjU1IiB3aWR0aD0iMzQwIiBoZWlnaHQ9IjQ0IiByeD0iOCIgZmlsbD0iI2ZmZTJiOCIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9IjIxMC4wIiB5PSI3My42NjY2NjY2NjY2NjY2NyIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPm1vZHVsZSBzdGF0ZSAoZ2xvYmFscywgY2FjaGVzKTogc2hhcmVkIGJ5PC90ZXh0Pjx0ZXh0IHg9IjIxMC4wIiB5PSI4Ny42NjY2NjY2NjY2NjY2NyIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmV2ZXJ5IG9iamVjdCB0aGlzIGlzb2xhdGUgaG9zdHM8L3RleHQ+PHJlY3QgeD0iNDAiIHk9IjEyMCIgd2lkdGg9IjE2NSIgaGVpZ2h0PSI4MCIgcng9IjgiIGZpbGw9IiNkYmU5ZmYiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSIxMjIuNSIgeT0iMTU2LjY2NjY2NjY2NjY2NjY2IiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPm9iamVjdCByb29tLTE8L3RleHQ+PHRleHQgeD0iMTIyLjUiIHk9IjE3MC42NjY2NjY2NjY2NjY2NiIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5pdHMgZmllbGRzIChtZW1vcnkpPC90ZXh0PjxyZWN0IHg9IjIxNSIgeT0iMTIwIiB3aWR0aD0iMTY1IiBoZWlnaHQ9IjgwIiByeD0iOCIgZmlsbD0iI2RiZTlmZiIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9IjI5Ny41IiB5PSIxNTYuNjY2NjY2NjY2NjY2NjYiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+b2JqZWN0IHJvb20tNzwvdGV4dD48dGV4dCB4PSIyOTcuNSIgeT0iMTcwLjY2NjY2NjY2NjY2NjY2IiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPml0cyBmaWVsZHMgKG1lbW9yeSk8L3RleHQ+PHJlY3QgeD0iNDIwIiB5PSIyMCIgd2lkdGg9IjM4MCIgaGVpZ2h0PSIyMDAiIHJ4PSIxMCIgZmlsbD0iI2ZhZmFmYSIgc3Ryb2tlPSIjMWYyOTM3Ii8+PHRleHQgeD0iNjEwIiB5PSI0MiIgZm9udC1zaXplPSIxMyIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5Jc29sYXRlIDI8L3RleHQ+PHJlY3QgeD0iNDQwIiB5PSI1NSIgd2lkdGg9IjM0MCIgaGVpZ2h0PSI0NCIgcng9IjgiIGZpbGw9IiNmZmUyYjgiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSI2MTAuMCIgeT0iNzMuNjY2NjY2NjY2NjY2NjciIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5tb2R1bGUgc3RhdGUgKGdsb2JhbHMsIGNhY2hlcyk6IHNoYXJlZCBieTwvdGV4dD48dGV4dCB4PSI2MTAuMCIgeT0iODcuNjY2NjY2NjY2NjY2NjciIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5ldmVyeSBvYmplY3QgdGhpcyBpc29sYXRlIGhvc3RzPC90ZXh0PjxyZWN0IHg9IjQ0MCIgeT0iMTIwIiB3aWR0aD0iMTY1IiBoZWlnaHQ9IjgwIiByeD0iOCIgZmlsbD0iI2RiZTlmZiIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9IjUyMi41IiB5PSIxNTYuNjY2NjY2NjY2NjY2NjYiIGZvbnQtc2l6ZT0iMTEiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+b2JqZWN0IHJvb20tMzwvdGV4dD48dGV4dCB4PSI1MjIuNSIgeT0iMTcwLjY2NjY2NjY2NjY2NjY2IiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPml0cyBmaWVsZHMgKG1lbW9yeSk8L3RleHQ+PHJlY3QgeD0iMjAiIHk9IjI0MCIgd2lkdGg9Ijc4MCIgaGVpZ2h0PSI0NCIgcng9IjgiIGZpbGw9IiNkZmY1ZTEiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSI0MTAuMCIgeT0iMjY2LjAiIGZvbnQtc2l6ZT0iMTIiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJub3JtYWwiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5zdG9yYWdlOiBvbmUgcGVyIG9iamVjdCwga2VwdCB3aGVuIGFuIGlzb2xhdGUgaXMgcmVjeWNsZWQgKG1vZHVsZSBzdGF0ZSBhbmQgZmllbGRzIGFyZSBub3QpPC90ZXh0Pjwvc3ZnPgo=" alt="Isolates: module-level state is shared by the objects one isolate hosts and lost when the isolate is recycled; each object&#x27;s storage is its own." style="max-width:100%;height:auto"><figcaption>Isolates: module-level state is shared by the objects one isolate hosts and lost when the isolate is recycled; each object&#x27;s storage is its own.</figcaption></figure>

# %%
# NBVAL_CHECK_OUTPUT
import importlib
import sys
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
(folder / "page_views.py").write_text(
    "from workers import DurableObject\n"
    "\n"
    "VIEWS = {}  # module level: kept across evictions... for a while\n"
    "\n"
    "\n"
    "class Page(DurableObject):\n"
    "    def view(self):\n"
    "        name = self.ctx.id.name\n"
    "        VIEWS[name] = VIEWS.get(name, 0) + 1\n"
    "        return VIEWS[name]\n"
)
sys.path.insert(0, str(folder))
page_views = importlib.import_module("page_views")

pages = Runtime(durable_objects={"PAGE": page_views.Page})
home = pages.env.PAGE.getByName("home")
print("three views:", [await home.view() for _ in range(3)])
await pages.evict(home)
print("after evicting the object, its isolate still runs:", await home.view())
await pages.deploy()
print("after a deploy, every isolate restarted:", await home.view())
print(pages.trace.format(pages.trace.select("isolate:restart")))

# %% [markdown]
# The module-level dict survived the object's eviction, which makes it look like a fix, and was
# gone at the next deploy. Only storage outlives the isolate.
#
# ## Try it
#
# The inspector below shows the `Visitor` world from the top of this chapter. Press **Evict**,
# then run `await stub.visit()` in a new cell; or visit, advance the clock by 11 s and watch the
# state change to *hibernated* on its own.

# %%
Inspector(rt)

# %% [markdown]
# ## Katas
#
# * [01-counter-forgets](../katas/01-counter-forgets/README.md): a counter kept in a field
#   forgets everything at eviction.
# * [03-unloaded-quota](../katas/03-unloaded-quota/README.md): state loaded lazily, read by a
#   request that arrives before the load is done; load it under `blockConcurrencyWhile` in the
#   constructor.
#
# ## Self-check
#
# 1. A constructor starts a background task with `asyncio.create_task(...)` that writes to
#    storage every minute. What happens to it at eviction?
# 2. Your object caches a user profile in `self.profile`. Which of eviction, hibernation, a plain
#    exception and `abort()` make it disappear?
# 3. Why does a throw inside `blockConcurrencyWhile` reset the object when a throw inside a method
#    does not?
# 4. A teammate moves the count from `self.count` to a module-level dict and the eviction test
#    passes. Name two things that still lose it.
#
# <details><summary>Answers</summary>
#
# 1. It dies with the instance: eviction drops memory, timers and tasks included. From
#    compatibility date 2026-10-01 its pending timer keeps the object in memory (and billed),
#    but a deploy or a restart still ends it. Scheduled work belongs in an alarm (chapter 5).
# 2. Eviction, hibernation and `abort()`. A plain exception keeps the instance.
# 3. `blockConcurrencyWhile` guards initialisation: if it failed, the instance's memory is in an
#    unknown state, so the platform throws the instance away. A method's exception only fails its
#    own request.
# 4. A deploy (every isolate restarts), an isolate recycled for its memory or a machine restart;
#    and an object in another isolate never sees that dict at all.
# </details>
