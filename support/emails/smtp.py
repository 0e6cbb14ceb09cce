"""Where emails leave: `SMTP_URL` read into settings, and one message sent over SMTP (the standard library).

smtp://host:25                      plain (a local catcher in development)
smtp://user:password@host:587?starttls=1
smtps://user:password@host:465      TLS from the first byte
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps)
    starttls: bool
    user: Optional[str]
    password: Optional[str]

    def __repr__(self) -> str:  # never the password
        return f"SmtpSettings({self.host}:{self.port}, tls={self.tls}, starttls={self.starttls}, user={self.user!r})"


def smtp_settings(url: str) -> SmtpSettings:
    """Reads SMTP_URL; ValueError on a scheme other than smtp or smtps, or no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:port")
    tls = parts.scheme == "smtps"
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        starttls=starttls and not tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Sends one message; smtplib's errors (OSError, SMTPException) reach the caller."""
    context = ssl.create_default_context()
    if settings.tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.user:
            client.login(settings.user, settings.password or "")
        client.send_message(message)
