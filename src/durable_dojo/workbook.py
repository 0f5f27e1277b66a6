"""The workbook's checked exercises: edit the cell tagged `exercise`, then run its check cell.

```python
from durable_dojo.workbook import check

await check("00-route-by-name", Edge)   # prints what is wrong, or that it is right
```

The exercises are listed in `durable_dojo/_workbook/exercises.toml`; reference answers are in
`solutions/workbook/` (look after an honest try).
"""

from ._workbook.framework import check

__all__ = ["check"]
