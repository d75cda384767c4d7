"""Health checks: thresholds per device group, check states, incidents from failures."""
