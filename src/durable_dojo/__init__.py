"""Durable Dojo: Cloudflare Durable Objects in Python, on an in-process emulator.

```python
from durable_dojo import Runtime

rt = Runtime(durable_objects={"COUNTER": Counter})
stub = rt.env.COUNTER.getByName("a")
await stub.increment()          # RPC into the object
await rt.advance(3600)          # one virtual hour: due alarms run
await rt.evict(stub)            # memory dropped, storage kept
```

The public names are the ones below; everything in modules starting with `_` is private.
"""

from ._core.errors import (
    DataCloneError,
    DeadlockError,
    DojoError,
    DurableObjectAbort,
    HangTimeout,
    JsError,
    RangeError,
)
from ._core.explore import explore
from ._core.faults import StorageFault
from ._core.ids import DurableObjectId
from ._core.alarms import AlarmInfo
from ._core.runtime import Runtime
from ._core.stubs import DurableObjectNamespace, DurableObjectStub
from ._core.trace import Trace, TraceEvent

__version__ = "0.1.0"

# The public classes say they live here, where learners import them from: an error reads
# `durable_dojo.DeadlockError`, not the private module that defines it. The JavaScript error
# kinds (DataCloneError, JsError, RangeError) keep the name the platform shows for them,
# `pyodide.ffi.JsException` (see _core/errors.py).
for _public in (AlarmInfo, DeadlockError, DojoError, DurableObjectAbort, DurableObjectId,
                DurableObjectNamespace, DurableObjectStub, HangTimeout, Runtime,
                StorageFault, Trace, TraceEvent):
    _public.__module__ = __name__
del _public


def __getattr__(name: str):
    """`advise` (and `Advice`, `format_advice`) load on first use: most runs never need them."""
    if name in ("advise", "Advice", "format_advice"):
        from ._review import advice as _advice

        return getattr(_advice, name)
    raise AttributeError(f"module 'durable_dojo' has no attribute {name!r}")


__all__ = [
    "Advice",
    "AlarmInfo",
    "DataCloneError",
    "DeadlockError",
    "DojoError",
    "DurableObjectAbort",
    "DurableObjectId",
    "DurableObjectNamespace",
    "DurableObjectStub",
    "HangTimeout",
    "JsError",
    "RangeError",
    "Runtime",
    "StorageFault",
    "Trace",
    "TraceEvent",
    "advise",
    "explore",
    "format_advice",
]
