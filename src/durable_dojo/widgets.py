"""Views of a world for notebooks: `Inspector(rt)` and `Timeline(rt)`.

```python
from durable_dojo.widgets import Inspector, Timeline

Inspector(rt)            # objects, their state, storage, alarm, sockets; buttons to act on them
Timeline(rt, last=30)    # the trace as lanes, one per object (or per request)
SchedulerPlayground(make_runtime=..., requests=...)   # you pick which ready event runs next
```

The views live in `durable_dojo._widgets`, a tool on top of the emulator core; this module is
their public face. `import durable_dojo` never imports ipywidgets.
"""

from ._widgets.scheduler import ReadyEvent, SchedulerPlayground
from ._widgets.views import Inspector, ObjectView, Timeline, TimelineRow, object_state

__all__ = ["Inspector", "ObjectView", "ReadyEvent", "SchedulerPlayground", "Timeline", "TimelineRow",
           "object_state"]
