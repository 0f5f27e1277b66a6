"""A game leaderboard: one Durable Object per game keeps the scores in its SQLite database and
answers the top ten; a weekly season resets the board from an alarm.

    POST /games/<game>/scores   {"player": "...", "score": 123}   submit a score
    GET  /games/<game>/top                                       the top ten
    POST /games/<game>/prizes/<player>                           pay out a player's prize

Written for `dojo review`: some of this is how it should be done, some of it is not.
"""

import json
import time
from urllib.parse import urlparse

from js import Date
from workers import DurableObject, Response, WorkerEntrypoint, fetch

WEEK_MS = 7 * 24 * 3600 * 1000
PAYOUT_API = "https://payouts.example.com/transfers"
BADGES_API = "https://badges.example.com/award"


class Leaderboard(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS scores (player TEXT PRIMARY KEY, best INTEGER NOT NULL)")
        self.top = []  # a cache of the top ten, rebuilt from SQL
        self.submissions = 0  # submissions this season
        ctx.blockConcurrencyWhile(self._load_top)

    async def _load_top(self):
        self.top = self.sql.exec("SELECT player, best FROM scores ORDER BY best DESC LIMIT 10").toArray()

    async def submit(self, player, score):
        # One statement, no await: atomic, and the input gate is never opened.
        self.sql.exec(
            "INSERT INTO scores (player, best) VALUES (?, ?) "
            "ON CONFLICT (player) DO UPDATE SET best = max(best, excluded.best)", player, score)
        self.submissions += 1
        await self._load_top()
        return {"rank": next((i + 1 for i, row in enumerate(self.top) if row["player"] == player), None)}

    async def stats(self):
        return {"players": self.sql.exec("SELECT count(*) AS n FROM scores").one()["n"],
                "submissions": self.submissions}

    async def top_ten(self):
        return self.top

    async def claim_prize(self, player):
        prize = await self.ctx.storage.get(f"prize:{player}")
        if prize is None or prize["paid"]:
            return {"paid": False}
        await fetch(PAYOUT_API, method="POST", body=json.dumps({"to": player, "cents": prize["cents"]}))
        prize["paid"] = True
        await self.ctx.storage.put(f"prize:{player}", prize)
        return {"paid": True}

    async def award_badges(self):
        for row in self.top[:3]:
            await fetch(BADGES_API, method="POST", body=json.dumps({"player": row["player"]}))
            time.sleep(0.2)  # the badge service allows five calls a second

    async def start_season(self):
        await self.ctx.storage.put("season_started", Date.now())
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(Date.now() + WEEK_MS)

    async def alarm(self, alarm_info):
        self.sql.exec("DELETE FROM scores")
        old = await self.ctx.storage.list()
        for key in old:
            await self.ctx.storage.delete(key)
        self.top = []
        await self.ctx.storage.setAlarm(Date.now() + WEEK_MS)


class Plays(DurableObject):
    """How many scores were submitted, over all games."""

    async def count_play(self):
        plays = (await self.ctx.storage.get("plays") or 0) + 1
        await self.ctx.storage.put("plays", plays)
        return plays


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        parts = urlparse(request.url).path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "games":
            return Response("not found", status=404)
        board = self.env.LEADERBOARD.getByName(f"game:{parts[1]}")
        await self.env.PLAYS.getByName("all-games").count_play()
        if request.method == "POST" and parts[2] == "scores":
            body = await request.json()
            return Response.from_json(await board.submit(body["player"], int(body["score"])))
        if parts[2] == "top":
            return Response.from_json(await board.top_ten())
        if request.method == "POST" and parts[2] == "prizes" and len(parts) == 4:
            return Response.from_json(await board.claim_prize(parts[3]))
        return Response("not found", status=404)
