"""The workbook's checked exercises: edit the cell tagged `exercise`, then run its check cell.

```python
from durable_dojo.workbook import check

await check("00-route-by-name", Edge)   # prints what is wrong, or that it is right
```

Each chapter's exercises say what to change; the check runs your code on the emulator (requests,
evictions, restarts, every order of concurrent requests) and tells you what went wrong, with the
trace. Reference answers are in the repository's `solutions/workbook/` (look after an honest try).
"""

from ._workbook.framework import check

__all__ = ["check"]
