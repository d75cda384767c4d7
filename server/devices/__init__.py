"""Devices: enrollment tokens, the registry, inventory and its history, live metrics."""
