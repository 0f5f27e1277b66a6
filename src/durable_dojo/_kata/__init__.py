"""The kata runner (a tool): depends on the core, never the other way."""
