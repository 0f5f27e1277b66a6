"""The reviewer and the metric-driven adviser (tools): depend on the core, never the other way."""
