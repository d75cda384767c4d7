"""The tray: an icon in the user's X11 session that talks to the local agent."""
