"""The Deskmate server: REST API, WebSocket hubs, storage and the console."""

__version__ = "0.1.0"
