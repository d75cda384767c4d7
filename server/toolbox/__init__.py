"""The technician's toolbox: tool sessions on a ticket's device (a terminal first)."""
