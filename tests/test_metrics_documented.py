"""`rt.metrics()` is documented key by key in its docstring (`help(Runtime.metrics)`): every key it
returns is there with its unit and meaning, and nothing documented is missing from what it returns."""

from __future__ import annotations

import inspect
import re

from durable_dojo import Runtime
from workers import DurableObject

DOCUMENTED_KEY = re.compile(r"^\s*- `(\w+)` \(([^)]+)\): (\S.*)$")


class Counter(DurableObject):
    async def hit(self):
        await self.ctx.storage.put("n", (await self.ctx.storage.get("n") or 0) + 1)


def documented(section: str) -> dict[str, tuple[str, str]]:
    """The `- `key` (unit): meaning` lines of one part of the docstring."""
    out = {}
    for line in section.splitlines():
        match = DOCUMENTED_KEY.match(line)
        if match:
            out[match[1]] = (match[2], match[3])
    return out


def doc_sections() -> tuple[dict, dict]:
    doc = inspect.getdoc(Runtime.metrics)
    durable_objects, _, workers_kv = doc.partition("For a Workers KV binding")
    return documented(durable_objects), documented(workers_kv)


async def test_every_key_of_a_durable_object_namespace_s_metrics_is_documented_with_a_unit():
    rt = Runtime(durable_objects={"COUNTER": Counter})
    await rt.env.COUNTER.getByName("a").hit()
    keys, _ = doc_sections()
    assert set(keys) == set(rt.metrics("COUNTER"))
    assert all(unit and meaning for unit, meaning in keys.values())
    rt.close()


async def test_every_key_of_a_workers_kv_binding_s_metrics_is_documented_with_a_unit():
    rt = Runtime(durable_objects={"COUNTER": Counter}, kv_namespaces=["CACHE"])
    await rt.env.CACHE.put("k", "v")
    _, keys = doc_sections()
    assert set(keys) == set(rt.metrics("CACHE"))
    assert all(unit and meaning for unit, meaning in keys.values())
    rt.close()
