"""The agent hub: authenticated WebSocket connections of enrolled devices."""
