"""Users, roles and groups (teams)."""
