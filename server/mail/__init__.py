"""Outgoing e-mail notifications: a durable outbox filled with ticket events, and a sender."""
