"""Reports: the desk's dashboards over daily roll-ups kept in step with ticket events."""
