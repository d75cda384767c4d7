"""Fixtures and helpers every Deskmate test module reuses."""
