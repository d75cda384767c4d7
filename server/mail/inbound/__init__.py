"""E-mail in: mailboxes, parsing, threading and ingesting mail into tickets and comments."""
