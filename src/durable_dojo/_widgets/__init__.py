"""The notebook widgets (a tool); `durable_dojo.widgets` is their public facade."""
