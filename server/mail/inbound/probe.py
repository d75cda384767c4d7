"""Try a mailbox's IMAP login now and say in words what went wrong (blocking: call in a
thread). Nothing is fetched or removed."""

from __future__ import annotations

import imaplib
import socket
import ssl

from server.mail.inbound.imap import ImapConfig, ImapSession
from server.mail.inbound.oauth import TokenError


def explain(exc: BaseException, config: ImapConfig) -> str:
    """Return what a failed IMAP login means for the admin, in plain words."""
    where = f"{config.host}:{config.port}"
    if isinstance(exc, TokenError):
        return f"no OAuth2 access token: {exc}"
    if isinstance(exc, socket.gaierror):
        return f"the server name {config.host!r} could not be found (DNS: {exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection: no IMAP server listens on that port"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where} did not answer (a firewall, or the wrong port)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the certificate of {config.host} could not be verified "
                f"({exc.verify_message}); mail_imap_ca_file must name a private CA")
    if isinstance(exc, ssl.SSLError):
        return (f"the encrypted connection to {where} failed ({exc.reason or exc}); port "
                f"993 usually needs tls, 143 starttls")
    if isinstance(exc, imaplib.IMAP4.error):
        text = str(exc)
        if "cannot open folder" in text:
            return f"logged in, but {text}"
        return f"{where} refused the login ({text[:200]})"
    if isinstance(exc, OSError):
        return f"could not reach {where}: {exc.strerror or exc}"
    return f"the connection failed: {exc}"


def probe(config: ImapConfig) -> str | None:
    """Log in and open the folder; return None when that worked, else why not."""
    try:
        session = ImapSession(config)
    except (OSError, imaplib.IMAP4.error, TokenError) as exc:
        return explain(exc, config)
    session.close()
    return None
