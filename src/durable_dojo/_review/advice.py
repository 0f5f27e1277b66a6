"""Metric-driven review: advice from what a workload did in a world (`advise(rt)`).

The static review (`dojo review`) reads code; this reads a world after a workload: its metrics
(`rt.metrics(binding)`) and its trace (`rt.trace`). It gives data-driven advice, each
piece with the numbers that triggered it and what the namespace would cost per month at the
observed traffic (`rt.estimate_cost(binding, multiplier)`):

* `USE-KV`: many objects, each serving a request or two of plain lookups: Workers KV. Requests
  are counted as callers made them: an object's own alarm runs (which the dashboard's `requests`
  includes) are housekeeping, such as the clean-up KV's expiration would do for free.
* `SHARD`: one object carries most of a namespace's requests, fast: shard it.
* `BCW-DOMINATES`: `blockConcurrencyWhile` runs in (nearly) every request and holds the gate
  for most of the handler time.
* `ALARM-RETRIES`: alarm handlers fail and are retried (or given up on).
* `STATE-LOST`: with chaos eviction on, objects were evicted and rebuilt while keeping nothing
  in storage: whatever they hold lives in fields and restarted from scratch.

```python
rt = Runtime(durable_objects={"LIMITER": Limiter})
...  # the workload
for advice in advise(rt):
    print(advice.format())
```

Thresholds are the named constants below; each one's comment says why it has that value.
"""

from __future__ import annotations

from .._core.trace import Kind

from collections import defaultdict
from dataclasses import asdict, dataclass, field

# ----- USE-KV: a Durable Object per key, doing lookups -----

KV_MIN_OBJECTS = 100
"""At least this many objects in the namespace: below it, a handful of objects is normal design
(per-room, per-tenant); above it, one object per key of a lookup table starts to show."""

KV_MAX_REQUESTS_PER_OBJECT = 3.0
"""At most this many requests from callers per object on average (alarm runs not counted):
objects that live for a lookup or two coordinate nothing (a rate limiter checked once or twice, a
cached value read once)."""

KV_MAX_STORAGE_OPS_PER_REQUEST = 2.0
"""At most this many storage operations (get, put, delete, list) per request, made by the request
handlers: "plain lookups", a get and maybe a put. Operations in `alarm()` are left out: clean-up
at the end of a window is what KV's `expirationTtl` does without code. The classic case is
thousands of objects each doing simple rate-limit checks."""

# ----- SHARD: one hot object -----

SHARD_MIN_REQUESTS = 100
"""The namespace must have seen this many requests before a share means anything."""

SHARD_HOT_SHARE = 0.5
"""The hottest object carries at least this share of the namespace's requests."""

SHARD_HOT_RATE = 100.0
"""...at this many requests per (virtual) second or more. One object handles roughly 500-1,000
simple requests/s, 200-500 when each writes storage (semantics 2.12); 100/s is half the low end,
time to shard before the object answers "overloaded"."""

SHARD_MIN_WINDOW_SECONDS = 1.0
"""Rates are measured over at least one second, so a burst at one instant is not an infinite rate."""

# ----- BCW-DOMINATES: blockConcurrencyWhile per request -----

BCW_MIN_REQUESTS = 20
"""Requests an object must have served before its blockConcurrencyWhile habits count."""

BCW_PER_REQUEST = 0.5
"""blockConcurrencyWhile sections outside the constructor per request: at least one in two
requests takes the object's gate for itself."""

BCW_TIME_SHARE = 0.5
"""Share of the handlers' (virtual) time spent with the gate held by those sections. When the
handlers take no virtual time at all, the per-request count alone decides."""

# ----- ALARM-RETRIES -----

ALARM_MIN_RETRIES = 1
"""Any retry is a failure of `alarm()`: worth a look (they are retried 6 times with back-off)."""

ALARM_RETRY_SHARE = 0.1
"""...and advice is given when retries are at least this share of the alarms fired, or any alarm
was given up on after its last attempt."""

# ----- STATE-LOST -----

STATE_LOST_MIN_REBUILDS = 1
"""With chaos eviction on, an object rebuilt at least once (two constructors) that never read or
wrote storage keeps whatever state it has in fields, and that state restarted from scratch."""

ADVICE_CODES = ("USE-KV", "SHARD", "BCW-DOMINATES", "ALARM-RETRIES", "STATE-LOST")

REQUEST_KINDS = ("rpc", "fetch", "ws", "call")


@dataclass
class Advice:
    """One piece of advice for one namespace, with the numbers behind it."""

    code: str
    binding: str
    message: str
    numbers: dict = field(default_factory=dict)
    estimated_monthly_cost: float = 0.0
    cost: dict = field(default_factory=dict)

    def format(self) -> str:
        numbers = ", ".join(f"{k}={_num(v)}" for k, v in self.numbers.items())
        return (f"{self.binding}: {self.code} {self.message}\n    numbers: {numbers}\n"
                f"    estimated cost: ${self.estimated_monthly_cost:,.2f}/month at the observed traffic")

    def to_dict(self) -> dict:
        return asdict(self)


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class _ObjectStats:
    __slots__ = ("requests", "first", "last", "handler_ms", "bcw_sections", "bcw_ms", "constructors", "evictions",
                 "chaos", "storage_ops", "handler_storage_ops", "commits")

    def __init__(self):
        self.requests = 0
        self.first: float | None = None
        self.last: float | None = None
        self.handler_ms = 0.0
        self.bcw_sections = 0
        self.bcw_ms = 0.0
        self.constructors = 0
        self.evictions = 0
        self.chaos = 0
        self.storage_ops = 0
        self.handler_storage_ops = 0  # made while a caller's request was being handled (not in alarm())
        self.commits = 0


def _object_stats(rt, binding: str) -> dict[str, _ObjectStats]:
    """Per-object numbers read from the trace: requests and their times, gate sections, rebuilds."""
    stats: dict[str, _ObjectStats] = defaultdict(_ObjectStats)
    started: dict[int, float] = {}
    gates: dict[str, list] = defaultdict(list)  # per object: stack of [time, is_bcw, in_constructor]
    previous: dict[str, object] = {}
    for event in rt.trace:
        if event.binding != binding or event.object is None:
            continue
        obj = stats[event.object]
        kind = event.kind
        head, _, tail = kind.partition(":")
        if tail == "start" and head in REQUEST_KINDS:
            obj.requests += 1
            obj.first = event.time if obj.first is None else obj.first
            obj.last = event.time
            if event.request is not None:
                started[event.request] = event.time
        elif tail in ("end", "error") and head in REQUEST_KINDS and event.request in started:
            obj.handler_ms += event.time - started.pop(event.request)
        elif kind == Kind.GATE_CLOSE:
            gates[event.object].append([event.time, event.detail == "blockConcurrencyWhile", False])
        elif kind == Kind.GATE_OPEN:
            if gates[event.object]:
                opened, is_bcw, in_constructor = gates[event.object].pop()
                if is_bcw and not in_constructor:
                    obj.bcw_sections += 1
                    obj.bcw_ms += event.time - opened
        elif kind == Kind.CONSTRUCTOR:
            obj.constructors += 1
            # a section the constructor opened was recorded just before this event: not per request
            prev = previous.get(event.object)
            if prev is not None and prev.kind == Kind.GATE_CLOSE and gates[event.object]:
                gates[event.object][-1][2] = True
        elif kind in (Kind.EVICT, Kind.HIBERNATE):
            obj.evictions += 1
        elif kind == Kind.CHAOS:
            obj.chaos += 1
        elif kind.startswith("storage:"):
            obj.storage_ops += 1
            if event.request in started:
                obj.handler_storage_ops += 1
        elif kind == Kind.COMMIT:
            obj.commits += 1
        previous[event.object] = event
    return stats


def _namespaces(rt) -> list[str]:
    from .._core.stubs import DurableObjectNamespace

    return [name for name, value in rt.env._bindings.items() if isinstance(value, DurableObjectNamespace)]


def advise(rt, multiplier: float = 1.0, bindings: list[str] | None = None) -> list["Advice"]:
    """The data-driven advice for every Durable Object namespace of `rt` (or those in `bindings`),
    after a workload. `multiplier` scales the observed traffic for the cost estimate (say the
    production traffic relative to the test)."""
    out: list[Advice] = []
    for binding in bindings or _namespaces(rt):
        metrics = rt.metrics(binding)
        if not metrics["requests"] and not metrics["alarmsFired"]:
            continue
        cost = rt.estimate_cost(binding, multiplier)
        objects = _object_stats(rt, binding)
        found = [
            _use_kv(binding, metrics, objects),
            _shard(binding, metrics, objects),
            _bcw(binding, objects),
            _alarm_retries(rt, binding, metrics),
            _state_lost(binding, objects),
        ]
        for advice in found:
            if advice is not None:
                advice.estimated_monthly_cost = cost["total"]
                advice.cost = cost
                out.append(advice)
    return out


def _use_kv(binding, metrics, objects) -> Advice | None:
    created = metrics["objectsCreated"]
    requests = sum(o.requests for o in objects.values())  # from callers: alarm runs are not counted
    if created < KV_MIN_OBJECTS or not requests:
        return None
    per_object = requests / created
    per_request = sum(o.handler_storage_ops for o in objects.values()) / requests
    if per_object > KV_MAX_REQUESTS_PER_OBJECT or per_request > KV_MAX_STORAGE_OPS_PER_REQUEST:
        return None
    alarm_runs = metrics["alarmsFired"]
    alarms_text = f" (and {alarm_runs:,} alarm runs of their own)" if alarm_runs else ""
    return Advice(
        "USE-KV", binding,
        f"{created:,} objects served {requests:,} requests{alarms_text}, {per_object:.1f} each, with "
        f"{per_request:.1f} storage operations per request: a Durable Object per key doing plain lookups. "
        "If eventual consistency is acceptable (caches, sessions, approximate limits), Workers KV serves "
        "these from the edge for less, and its expirationTtl replaces clean-up alarms; for approximate "
        "rate limits, the Rate Limiting binding (limit({key})) needs no storage at all. Keep Durable "
        "Objects for what needs coordination.",
        {"objectsCreated": created, "requests": requests, "alarmRuns": alarm_runs, "requestsPerObject": per_object,
         "storageOpsPerRequest": per_request, "activeObjects": metrics["activeObjects"],
         "cpuTimeP95": metrics["cpuTimeP95"]},
    )


def _shard(binding, metrics, objects) -> Advice | None:
    total = sum(o.requests for o in objects.values())
    if total < SHARD_MIN_REQUESTS:
        return None
    name, hot = max(objects.items(), key=lambda kv: kv[1].requests)
    share = hot.requests / total
    window = max(((hot.last or 0) - (hot.first or 0)) / 1000.0, SHARD_MIN_WINDOW_SECONDS)
    rate = hot.requests / window
    if share < SHARD_HOT_SHARE or rate < SHARD_HOT_RATE:
        return None
    return Advice(
        "SHARD", binding,
        f"object {name!r} carried {share:.0%} of the requests ({hot.requests:,} of {total:,}) at {rate:,.0f} "
        "requests/s. One object handles about 500-1,000 simple requests/s (200-500 when each writes storage) "
        "and answers \"overloaded\" beyond: shard it (getByName(f\"{key}:{random shard of N}\"), aggregate "
        "on read) or name objects after what each request is about.",
        {"hotObject": name, "hotRequests": hot.requests, "requests": total, "share": share,
         "requestsPerSecond": rate, "objects": len(objects), "cpuTimeP95": metrics["cpuTimeP95"]},
    )


def _bcw(binding, objects) -> Advice | None:
    worst = None
    for name, obj in objects.items():
        if obj.requests < BCW_MIN_REQUESTS or not obj.bcw_sections:
            continue
        per_request = obj.bcw_sections / obj.requests
        share = obj.bcw_ms / obj.handler_ms if obj.handler_ms > 0 else None
        if per_request < BCW_PER_REQUEST or (share is not None and share < BCW_TIME_SHARE):
            continue
        if worst is None or per_request > worst[1]:
            worst = (name, per_request, share, obj)
    if worst is None:
        return None
    name, per_request, share, obj = worst
    held_ms = obj.bcw_ms / obj.bcw_sections
    cap = 1000.0 / held_ms if held_ms > 0 else None
    share_text = f", holding the gate for {share:.0%} of handler time" if share is not None else ""
    cap_text = f" (~{held_ms:.1f} ms each: at most ~{cap:,.0f} requests/s)" if cap else ""
    return Advice(
        "BCW-DOMINATES", binding,
        f"object {name!r} ran blockConcurrencyWhile in {obj.bcw_sections:,} of {obj.requests:,} requests"
        f"{share_text}{cap_text}. Storage awaits already keep the input gate closed; keep "
        "blockConcurrencyWhile for the constructor, and per request only around non-storage awaits "
        "(prefer check-and-set).",
        {"object": name, "bcwSections": obj.bcw_sections, "requests": obj.requests, "perRequest": per_request,
         "gateShareOfHandlerTime": share if share is not None else 0.0, "gateMsPerSection": held_ms},
    )


def _alarm_retries(rt, binding, metrics) -> Advice | None:
    fired, retried = metrics["alarmsFired"], metrics["alarmsRetried"]
    gave_up = len(rt.trace.select(Kind.ALARM_GAVE_UP, binding=binding))
    if retried < ALARM_MIN_RETRIES and not gave_up:
        return None
    share = retried / fired if fired else 0.0
    if share < ALARM_RETRY_SHARE and not gave_up:
        return None
    failures = [e.detail for e in rt.trace.select(Kind.ALARM_ERROR, binding=binding)]
    example = f" Last error: {failures[-1]}." if failures else ""
    return Advice(
        "ALARM-RETRIES", binding,
        f"{retried:,} of {fired:,} alarm runs were retries ({share:.0%}), {gave_up} alarm(s) given up after "
        f"7 attempts.{example} alarm() is retried with exponential back-off from 2 s when it throws: make it "
        "idempotent, catch what is expected, and store progress so a retry resumes instead of redoing.",
        {"alarmsFired": fired, "alarmsRetried": retried, "retryShare": share, "gaveUp": gave_up},
    )


def _state_lost(binding, objects) -> Advice | None:
    chaos = sum(o.chaos for o in objects.values())
    if not chaos:
        return None
    lost = {name: o for name, o in objects.items()
            if o.constructors > STATE_LOST_MIN_REBUILDS and o.evictions and not o.storage_ops and not o.commits
            and o.requests}
    if not lost:
        return None
    rebuilds = sum(o.constructors - 1 for o in lost.values())
    requests = sum(o.requests for o in lost.values())
    names = ", ".join(repr(n) for n in sorted(lost)[:3]) + (" ..." if len(lost) > 3 else "")
    return Advice(
        "STATE-LOST", binding,
        f"{len(lost)} object(s) ({names}) were evicted and rebuilt {rebuilds:,} times during {requests:,} "
        "requests with chaos eviction on, and never read or wrote storage: any state they keep lives in "
        "fields and started from scratch each time. Persist it (put / SQL) and load it in the constructor "
        "under blockConcurrencyWhile.",
        {"objects": len(lost), "rebuilds": rebuilds, "requests": requests, "chaosEvictions": chaos,
         "storageOps": 0},
    )


def format_advice(advice: list[Advice]) -> str:
    """The advice as text, one block per piece (or a line saying there is none)."""
    if not advice:
        return "no advice: the workload looks healthy\n"
    return "\n".join(a.format() for a in advice) + f"\n{len(advice)} piece(s) of advice\n"
