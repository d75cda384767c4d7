"""The web console: static HTML, CSS and ES modules served by the server (no code here)."""
