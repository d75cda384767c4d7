"""Send one test mail now and say in words what went wrong (blocking: call in a thread)."""

from __future__ import annotations

import secrets
import smtplib
import socket
import ssl

from server.mail import compose
from server.mail.sender import SmtpConfig, tls_context

TRIAL_TIMEOUT = 15.0


def explain(exc: BaseException, config: SmtpConfig, to_addr: str) -> str:
    """Return what a failure means for the admin who set up mail, in plain words."""
    where = f"{config.host}:{config.port}"
    if isinstance(exc, socket.gaierror):
        return f"the mail server name {config.host!r} could not be found (DNS: {exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection: no mail server listens on that port"
    if isinstance(exc, TimeoutError | socket.timeout):
        return (f"{where} did not answer within {TRIAL_TIMEOUT:.0f} seconds (a firewall, or "
                f"the wrong port)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the certificate of {config.host} could not be verified "
                f"({exc.verify_message}); the server is not who it claims to be, or "
                f"smtp_ca_file must name its CA")
    if isinstance(exc, ssl.SSLError):
        return (f"the encrypted connection to {where} failed ({exc.reason or exc}); check "
                f"the security setting: port 465 usually needs tls, 587 starttls")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} does not offer STARTTLS; choose tls, or another server"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} refused the user name or password ({_reply(exc)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"{where} refused the sender address {config.mail_from!r} ({_reply(exc)})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
        return f"{where} refused the address {to_addr!r} ({codes})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection unexpectedly"
    if isinstance(exc, OSError):
        return f"could not reach {where}: {exc.strerror or exc}"
    return f"sending failed: {exc}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}".strip()


def send_trial(config: SmtpConfig, to_addr: str, *, product: str, subject: str | None = None,
               body: str | None = None) -> str | None:
    """Send a test mail to ``to_addr``; return None when the server took it, else why not.

    ``subject`` and ``body`` are a template's test (server/mail/template_views.py); by
    default the mail says that outgoing mail works.
    """
    message = compose.message(
        mail_from=config.mail_from, to_addr=to_addr,
        subject=subject if subject is not None else f"{product}: test mail",
        body=body if body is not None else (
            f"This is a test mail from {product}. Outgoing mail works: notifications "
            f"will be sent through {config.host}.\n"),
        message_id=f"<test.{secrets.token_hex(12)}@{compose.domain_of(config.mail_from)}>",
        thread_id=None)
    try:
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port,
                                                  timeout=TRIAL_TIMEOUT,
                                                  context=tls_context(config.ca_file))
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=TRIAL_TIMEOUT)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=tls_context(config.ca_file))
            if config.username:
                smtp.login(config.username, config.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return explain(exc, config, to_addr)
    return None
