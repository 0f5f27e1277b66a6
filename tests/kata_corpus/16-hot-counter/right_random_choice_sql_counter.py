"""A news site's page-view counter. Every article view counts one view; `/stats` shows the
total number of views on the site. On a big news day the site gets thousands of views per
second.
"""

import random
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

SHARD_NAMES = [f"views/{n:02d}" for n in range(20)]


class ViewCounter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")

    async def increment(self):
        return self.sql.exec("INSERT INTO total (id, n) VALUES (1, 1) "
                             "ON CONFLICT (id) DO UPDATE SET n = n + 1 RETURNING n").one()["n"]

    async def count(self):
        rows = self.sql.exec("SELECT n FROM total").toArray()
        return rows[0]["n"] if rows else 0


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/stats":
            total = 0
            for name in SHARD_NAMES:  # reads are rare: one call per shard is fine
                total += await self.env.VIEWS.getByName(name).count()
            return Response.from_json({"views": total})
        await self.env.VIEWS.getByName(random.choice(SHARD_NAMES)).increment()
        return Response(f"<article>{path}</article>", headers={"content-type": "text/html"})
