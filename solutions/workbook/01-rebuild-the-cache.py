# Exercise: fill the cache from storage whenever a new instance starts.
from workers import DurableObject


class Leaderboard(DurableObject):
    """record(player, score) keeps each player's best score; top(n) names the n best players."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.best = {}  # player -> best score: a cache of what is stored
        ctx.blockConcurrencyWhile(self.load)  # before any request can read the cache

    async def load(self):
        stored = await self.ctx.storage.list({"prefix": "best:"})
        self.best = {key.removeprefix("best:"): score for key, score in stored.items()}

    async def record(self, player, score):
        if score > self.best.get(player, 0):
            self.best[player] = score
            await self.ctx.storage.put(f"best:{player}", score)

    async def top(self, n):
        ranked = sorted(self.best.items(), key=lambda item: (-item[1], item[0]))
        return [player for player, _ in ranked[:n]]
