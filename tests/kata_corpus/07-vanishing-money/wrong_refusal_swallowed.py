"""A family wallet: one Durable Object (`env.WALLETS.getByName(family_id)`) holds the balances
of the family's accounts and moves money between them.

Every transfer is checked by the risk service first:
    POST {RISK_API}/checks {"from": ..., "to": ..., "amount": cents} -> 200 allow | 403 refuse
"""

import json

from workers import DurableObject, fetch

RISK_API = "https://risk.example.com"


class TransferRefused(Exception):
    """The risk service said no."""


async def check_risk(source, target, amount):
    response = await fetch(f"{RISK_API}/checks", method="POST",
                           body=json.dumps({"from": source, "to": target, "amount": amount}),
                           headers={"content-type": "application/json"})
    if response.status != 200:
        raise TransferRefused(f"transfer of {amount} from {source} to {target} refused by the risk check")


class Wallet(DurableObject):
    async def open_account(self, name, balance):
        await self.ctx.storage.put(f"balance:{name}", balance)

    async def balance(self, name):
        return await self.ctx.storage.get(f"balance:{name}")

    async def balances(self):
        found = await self.ctx.storage.list({"prefix": "balance:"})
        return {key.removeprefix("balance:"): cents for key, cents in found.items()}

    async def transfer(self, source, target, amount):
        """Move `amount` cents from `source` to `target`. Answers both new balances."""
        await self._check(source, target, amount)
        try:
            await check_risk(source, target, amount)
        except TransferRefused:
            return await self.balances()  # refused: nothing moves, answer the balances as they are

        async def move(txn):
            from_balance = await txn.get(f"balance:{source}")
            to_balance = await txn.get(f"balance:{target}")
            if from_balance < amount:
                raise ValueError("insufficient funds")
            await txn.put({f"balance:{source}": from_balance - amount, f"balance:{target}": to_balance + amount})
            return {source: from_balance - amount, target: to_balance + amount}

        return await self.ctx.storage.transaction(move)

    async def _check(self, source, target, amount):
        balances = await self.ctx.storage.get([f"balance:{source}", f"balance:{target}"])
        if len(balances) != 2:
            raise ValueError("unknown account")
        if amount <= 0 or balances[f"balance:{source}"] < amount:
            raise ValueError("insufficient funds")
