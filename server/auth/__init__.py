"""Authentication: passwords, console sessions, API tokens, rate limiting, roles."""
