"""`python -m durable_dojo._kata check | audit [KATA ...] | gut FILE`: the kata authors' tools."""

import sys

from .author import main

sys.exit(main())
