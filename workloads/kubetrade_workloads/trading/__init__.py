"""The trader: a bar-driven loop on the market ports, with exactly-once orders,
a trade store, a Lease, live risk edits, alerts and metrics."""
