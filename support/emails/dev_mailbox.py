"""The development mail catcher's mailbox: `make run` starts aiosmtpd's own Maildir handler
(`python -m aiosmtpd -c aiosmtpd.handlers.Mailbox DIR`) and the demo page shows what reached each address.
Development only: production sends through SMTP_URL and has no mailbox of ours."""

from __future__ import annotations

import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, Dict, List

LIMIT = 20


def _recipients(message: EmailMessage) -> List[str]:
    return [address.lower() for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def messages_to(directory: Path, address: str, limit: int = LIMIT) -> List[Dict[str, Any]]:
    """The newest messages addressed to `address` (none if the catcher has not started yet)."""
    if not (directory / "cur").is_dir():
        return []
    found = []
    for raw in mailbox.Maildir(directory, factory=None, create=False):
        message = BytesParser(policy=policy.default).parsebytes(raw.as_bytes())
        if address.lower() not in _recipients(message):
            continue
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
        found.append(
            {
                "subject": str(message["Subject"] or ""),
                "to": str(message["To"] or ""),
                "date": sent.isoformat() if sent else "",
                "message_id": str(message["Message-ID"] or ""),
                "text": _text(message),
            }
        )
    return sorted(found, key=lambda item: item["date"], reverse=True)[:limit]
