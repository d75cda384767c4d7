"""Tickets: incidents, service requests and problems, their lifecycle and timeline."""
