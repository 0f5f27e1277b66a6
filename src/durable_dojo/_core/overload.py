"""Overload: an object that cannot keep up sheds requests instead of queueing them forever.

One object runs on one thread, so its throughput has a ceiling (about 1,000 simple requests per
second, the platform's documented soft limit). Requests beyond what it can take queue up, and
when the queue is too long the platform rejects new ones with an error whose `overloaded` is
true ("Durable Object is overloaded. Too many requests queued.", Cloudflare's troubleshooting
page); the error-handling page says never to retry them. The platform documents no queue sizes,
so the bound here is a model: `Runtime(max_queued_requests=1000)` requests admitted to one object
and not yet answered (running, or waiting behind its input gate); `None` turns it off. A hot
singleton that takes a burst larger than that fails visibly, and sharding the same traffic over
several objects does not.
"""

from __future__ import annotations

from .errors import JsError, mark_remote
from .trace import Kind

DEFAULT_MAX_QUEUED_REQUESTS = 1000
TOO_MANY_REQUESTS_QUEUED = "Durable Object is overloaded. Too many requests queued."
_SHED_KINDS = ("rpc", "fetch")  # requests with a caller; alarms and socket events are not shed here


def shed(instance, event) -> bool:
    """Reject `event` with the platform's overload error if the object's queue is full."""
    limit = instance.world.max_queued_requests
    if limit is None or event.kind not in _SHED_KINDS:
        return False
    if len(instance.in_flight) + len(instance.input_gate.queued) < limit:
        return False
    error = mark_remote(JsError(TOO_MANY_REQUESTS_QUEUED), remote=False, overloaded=True)
    instance.world.trace.record(Kind.OVERLOADED, instance.host, request=event.request_id, detail=event.label)
    event.fail(error)
    return True
