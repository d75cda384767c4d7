"""Health checks run on the device: probes, evaluation with hysteresis, the runner."""
