"""The script library (reviewed, versioned scripts) and script runs on devices."""
