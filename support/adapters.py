"""The one place where the configured adapters are chosen: the payment gateway and the helpdesk transport."""

from __future__ import annotations

from typing import Optional

from support.emails.smtp import SmtpSettings, smtp_settings
from support.helpdesk.transports import Chatwoot, GenericWebhook, Transport
from support.payments.port import PaymentGateway
from support.payments.sandbox import SandboxGateway
from support.settings import (
    InvalidSettings,
    environment,
    helpdesk_mode,
    payment_gateway_name,
)


def configured_gateway() -> PaymentGateway:
    """The gateway that PAYMENT_GATEWAY (else product.yml) names."""
    if payment_gateway_name() == "stripe":
        from support.payments.stripe_gateway import (
            StripeGateway,  # the stripe library only when it is used
        )

        env = environment()
        if not env.stripe_api_key:
            raise InvalidSettings("PAYMENT_GATEWAY=stripe needs STRIPE_API_KEY")
        return StripeGateway(env.stripe_api_key, env.stripe_api_base)
    return SandboxGateway()


def configured_transport() -> Optional[Transport]:
    """The helpdesk transport, or None when HELPDESK_MODE is off or HELPDESK_URL is not set."""
    mode, env = helpdesk_mode(), environment()
    if mode == "off" or not env.helpdesk_url:
        return None
    if mode == "chatwoot":
        return Chatwoot(env.helpdesk_url, env.helpdesk_api_token or "", env.helpdesk_account_id, env.helpdesk_inbox_id)
    return GenericWebhook(env.helpdesk_url, env.helpdesk_secret or "", env.helpdesk_api_token or "")


def configured_smtp() -> Optional[SmtpSettings]:
    """Where the email outbox is delivered (SMTP_URL); None: emails stay queued until it is set."""
    url = environment().smtp_url
    return smtp_settings(url) if url else None
