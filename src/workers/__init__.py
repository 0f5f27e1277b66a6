"""`workers`: the Cloudflare Python Workers SDK, as Durable Object code uses it, on the emulator.

Same names and signatures as `workers-runtime-sdk`, so code written here deploys unchanged:

```python
from workers import DurableObject, Response

class Counter(DurableObject):
    async def fetch(self, request):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return Response(str(n))
```

`tests/test_sdk_parity.py` compares these names and signatures with the SDK's own source, and
`tests/sdk_parity.toml` lists the SDK names left out here, each with its reason.
"""

from __future__ import annotations

from durable_dojo._core.errors import DurableObjectAbort
from durable_dojo._core.http import Blob, BlobEnding, File, FormData, FetchResponse, Headers, Request, Response
from durable_dojo._core.workers_api import (
    BlobValue,
    Body,
    Context,
    DurableObject,
    FetchKwargs,
    FormDataValue,
    RequestInitCfProperties,
    WorkerEntrypoint,
    env,
    fetch,
    handler,
    python_from_rpc,
    python_to_rpc,
    wait_until,
    waitUntil,
)

__all__ = [
    "Blob",
    "BlobEnding",
    "BlobValue",
    "Body",
    "Context",
    "DurableObject",
    "DurableObjectAbort",
    "FetchKwargs",
    "FetchResponse",
    "File",
    "FormData",
    "FormDataValue",
    "Headers",
    "Request",
    "RequestInitCfProperties",
    "Response",
    "WorkerEntrypoint",
    "env",
    "fetch",
    "handler",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
]
