# Plausible wrong answers to exercise 01-rebuild-the-cache: its check must reject each one.

# %% wrong: the cache on the class, shared by every board and never rebuilt
from workers import DurableObject


class Leaderboard(DurableObject):
    best = {}

    async def record(self, player, score):
        if score > self.best.get(player, 0):
            self.best[player] = score
            await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        ranked = sorted(self.best.items(), key=lambda item: (-item[1], item[0]))
        return [player for player, _ in ranked[:n]]

# %% wrong: rebuilds the cache in top() only, so record() decides on an empty cache
from workers import DurableObject


class Leaderboard(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.best = {}

    async def record(self, player, score):
        if score > self.best.get(player, 0):
            self.best[player] = score
            await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        stored = await self.ctx.storage.list({"prefix": "best:"})
        self.best = {key.removeprefix("best:"): score for key, score in stored.items()}
        ranked = sorted(self.best.items(), key=lambda item: (-item[1], item[0]))
        return [player for player, _ in ranked[:n]]

# %% wrong: stores every score and ranks the last one, not the best
from workers import DurableObject


class Leaderboard(DurableObject):
    async def record(self, player, score):
        await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        stored = await self.ctx.storage.list({"prefix": "best:"})
        ranked = sorted(stored.items(), key=lambda item: (-item[1], item[0]))
        return [key.removeprefix("best:") for key, _ in ranked[:n]]

# %% wrong: loads the cache in a task started by the constructor, without holding requests back (a first request can run before it)
import asyncio

from workers import DurableObject


class Leaderboard(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.best = {}
        asyncio.ensure_future(self.load())

    async def load(self):
        stored = await self.ctx.storage.list(prefix="best:")
        self.best = {key.removeprefix("best:"): score for key, score in stored.items()}

    async def record(self, player, score):
        if score > self.best.get(player, 0):
            self.best[player] = score
            await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        ranked = sorted(self.best.items(), key=lambda item: (-item[1], item[0]))
        return [player for player, _ in ranked[:n]]
