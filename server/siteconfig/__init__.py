"""Site settings an admin edits in the console (mail, branding), over the static config."""
