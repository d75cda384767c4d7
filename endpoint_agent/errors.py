"""The agent's exception tree."""

from __future__ import annotations


class AgentError(Exception):
    """Root of the agent's exceptions; the message is meant for the person at the shell."""


class NotEnrolled(AgentError):
    """The state directory holds no enrollment."""


class EnrollmentError(AgentError):
    """The server refused the enrollment, or could not be reached."""


class PinMismatch(AgentError):
    """The server's certificate does not match the pinned fingerprint."""


class FatalConnectionError(AgentError):
    """The server refused this device for good (revoked, unknown); retrying cannot help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class HelloRefused(AgentError):
    """The server could not read this agent's hello (a bug or a version skew of the agent).

    Not the device's identity: keep the enrollment and retry, slowly.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
