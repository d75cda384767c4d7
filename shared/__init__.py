"""Code used by both the Deskmate server and the endpoint agent (no I/O here)."""
