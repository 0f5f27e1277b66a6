"""Invoice numbers: one Durable Object per company (`env.INVOICES.getByName(company_id)`)
gives each invoice the next number and files it with the accounting service.

The accounting service: POST {ACCOUNTING_API}/invoices {"number": n, "customer": ..., "amount": cents}
answers 201 when filed, 5xx when it could not file it.
"""

import json

from workers import DurableObject, fetch

ACCOUNTING_API = "https://accounting.example.com"


async def file_with_accounting(number, customer, amount_cents):
    response = await fetch(f"{ACCOUNTING_API}/invoices", method="POST",
                           body=json.dumps({"number": number, "customer": customer, "amount": amount_cents}),
                           headers={"content-type": "application/json"})
    response.raise_for_status()


class InvoiceBook(DurableObject):
    async def issue(self, customer, amount_cents):
        """Number the invoice, file it with accounting, and answer its number."""
        async def take_number(txn):
            number = (await txn.get("last_number") or 0) + 1
            await txn.put("last_number", number)
            await txn.put(f"invoice:{number:08d}", {"customer": customer, "amount": amount_cents})
            return number

        number = await self.ctx.storage.transaction(take_number)
        await file_with_accounting(number, customer, amount_cents)  # outside: other invoices go on
        return number

    async def invoices(self):
        """Every invoice, in number order: [{"number": n, "customer": ..., "amount": ...}, ...]."""
        found = await self.ctx.storage.list({"prefix": "invoice:"})
        return [{"number": int(key.removeprefix("invoice:")), **invoice} for key, invoice in found.items()]
