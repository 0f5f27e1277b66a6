import time

from workers import DurableObject


class Sleeper(DurableObject):
    async def nap(self):
        time.sleep(3600)  # TODO: this blocks the object for an hour of real time
        return "rested"

    async def ping(self):
        return "awake"
