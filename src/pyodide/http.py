"""`pyodide.http`: `pyfetch(url, **options)` sends an HTTP request and gives a `FetchResponse`.

On the platform it calls the global `fetch()`; here it is `workers.fetch`, which leaves the
world through `Runtime(outbound=...)`. The response has Pyodide's `FetchResponse` members
(`status`, `ok`, `headers`, `text()`, `json()`, `bytes()`, ...).
"""

from __future__ import annotations

from durable_dojo._core.http import FetchResponse
from durable_dojo._core.workers_api import fetch as _fetch


async def pyfetch(url, **kwargs) -> FetchResponse:
    """Fetch `url`; keyword arguments are the `fetch()` options (`method=`, `headers=`, `body=`)."""
    return await _fetch(url, **kwargs)


__all__ = ["FetchResponse", "pyfetch"]
