# Plausible wrong answers to exercise 01-load-once: its check must reject each one.

# %% wrong: loads the rates again on every request (correct prices, one API call per request)
from workers import DurableObject, fetch


class PriceList(DurableObject):
    async def price(self, usd):
        rates = await (await fetch("https://rates.example.com/")).json()
        return round(usd * rates["EUR"], 2)

# %% wrong: starts the load in the constructor without holding requests back
import asyncio

from workers import DurableObject, fetch


class PriceList(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.rates = None
        self.loading = asyncio.ensure_future(self.load())

    async def load(self):
        self.rates = await (await fetch("https://rates.example.com/")).json()

    async def price(self, usd):
        return round(usd * self.rates["EUR"], 2)

# %% wrong: caches the rates at module level, shared by instances and never reloaded
from workers import DurableObject, fetch

RATES = {}


class PriceList(DurableObject):
    async def price(self, usd):
        if "EUR" not in RATES:
            RATES.update(await (await fetch("https://rates.example.com/")).json())
        return round(usd * RATES["EUR"], 2)

# %% wrong: hard-codes the rate
from workers import DurableObject


class PriceList(DurableObject):
    async def price(self, usd):
        return round(usd * 0.9, 2)
