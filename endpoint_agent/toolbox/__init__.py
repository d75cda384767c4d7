"""The technician's toolbox on the endpoint: tool sessions (a terminal)."""
