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
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, cents INTEGER NOT NULL)")

    async def open_account(self, name, balance):
        self.sql.exec("INSERT OR REPLACE INTO accounts (name, cents) VALUES (?, ?)", name, balance)

    async def balance(self, name):
        rows = self.sql.exec("SELECT cents FROM accounts WHERE name = ?", name).toArray()
        return rows[0]["cents"] if rows else None

    async def balances(self):
        return {row["name"]: row["cents"] for row in self.sql.exec("SELECT name, cents FROM accounts ORDER BY name")}

    async def transfer(self, source, target, amount):
        """Move `amount` cents from `source` to `target`. Answers both new balances."""
        self._validate(source, target, amount)
        await check_risk(source, target, amount)

        def move():
            self._validate(source, target, amount)  # again: others may have moved money meanwhile
            self.sql.exec("UPDATE accounts SET cents = cents - ? WHERE name = ?", amount, source)
            self.sql.exec("UPDATE accounts SET cents = cents + ? WHERE name = ?", amount, target)

        self.ctx.storage.transactionSync(move)
        return {name: self._cents(name) for name in (source, target)}

    def _cents(self, name):
        rows = self.sql.exec("SELECT cents FROM accounts WHERE name = ?", name).toArray()
        return rows[0]["cents"] if rows else None

    def _validate(self, source, target, amount):
        if self._cents(source) is None or self._cents(target) is None:
            raise ValueError("unknown account")
        if amount <= 0 or self._cents(source) < amount:
            raise ValueError("insufficient funds")
