import asyncio

from workers import DurableObject


class Sleeper(DurableObject):
    async def nap(self):
        await asyncio.sleep(3600)
        return "rested"

    async def ping(self):
        return "awake"
