"""Settings: product facts from product.yml and the environment, as frozen dataclasses, checked when loaded.

product.yml is the one place for the product's name, URLs and policy numbers; it is read once per
process and refused at start if a value is missing or wrong. The environment (secrets, database,
adapters) is read into `Environment`; it is cached per set of values, so a changed variable is seen.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_FILE = ROOT / "product.yml"
LANGUAGES = ("fr", "en")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAYMENT_GATEWAYS = ("sandbox", "stripe")
HELPDESK_MODES = ("off", "generic", "chatwoot")
PAYMENT_METHODS = ("card", "sepa_debit", "bank_transfer", "paypal")  # what product.yml may say customers pay with

# Keys that responses interpolate as slots of the same name.
RESPONSE_KEYS = ("product_name", "portal_domain", "support_url", "grace_days", "retry_attempts")


class InvalidSettings(ValueError):
    """product.yml or the environment holds a value the assistant cannot run with."""


class InsecureConfiguration(RuntimeError):
    """Raised when production would run without a real way to verify customers."""


@dataclass(frozen=True)
class Product:
    product_name: str
    portal_domain: str
    support_url: str
    grace_days: int
    retry_attempts: int
    default_language: str
    retention_discount_percent: int
    retention_discount_months: int
    bot_retries_per_day: int
    payment_gateway: str
    dunning_retry_days: Tuple[int, ...]
    payment_methods: Tuple[str, ...]
    support_timezone: str
    support_days: Tuple[str, ...]
    support_opens: time
    support_closes: time
    expected_wait_minutes: int
    helpdesk_mode: str
    retention_days: int


# How each value of product.yml is read; a key not named here is kept as YAML gives it.
CONVERTERS: Dict[str, Callable[[Any], Any]] = {
    **{
        key: int
        for key in (
            "grace_days",
            "retry_attempts",
            "retention_discount_percent",
            "retention_discount_months",
            "bot_retries_per_day",
            "expected_wait_minutes",
            "retention_days",
        )
    },
    "dunning_retry_days": lambda value: tuple(int(days) for days in value),
    "support_days": lambda value: tuple(str(day) for day in value),
    "payment_methods": lambda value: tuple(str(method) for method in value),
    "support_opens": lambda value: time.fromisoformat(str(value)),
    "support_closes": lambda value: time.fromisoformat(str(value)),
    "helpdesk_mode": lambda value: str(value).lower(),
}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidSettings(f"product.yml: {message}")


def _read(name: str, value: Any) -> Any:
    try:
        return CONVERTERS.get(name, lambda same: same)(value)
    except (TypeError, ValueError) as error:
        raise InvalidSettings(f"product.yml: {name}: {error}") from error


def parse_product(raw: Mapping[str, Any]) -> Product:
    """A Product from product.yml's mapping; InvalidSettings names the first wrong value."""
    names = [f.name for f in fields(Product)]
    missing = [name for name in names if name not in raw]
    _check(not missing, f"missing {', '.join(missing)}")
    product = Product(**{name: _read(name, raw[name]) for name in names})
    _check(product.default_language in LANGUAGES, f"default_language must be one of {LANGUAGES}")
    _check(product.grace_days > 0 and product.bot_retries_per_day >= 0, "grace_days must be positive")
    _check(
        all(0 < days < product.grace_days for days in product.dunning_retry_days),
        "dunning_retry_days must fall inside the grace period",
    )
    _check(product.payment_gateway in PAYMENT_GATEWAYS, f"payment_gateway must be one of {PAYMENT_GATEWAYS}")
    _check(
        bool(product.payment_methods) and set(product.payment_methods) <= set(PAYMENT_METHODS),
        f"payment_methods must be some of {PAYMENT_METHODS}",
    )
    _check(product.retention_days >= 30, "retention_days must be at least 30")
    _check(product.helpdesk_mode in HELPDESK_MODES, f"helpdesk_mode must be one of {HELPDESK_MODES}")
    _check(
        bool(product.support_days) and all(day in WEEKDAYS for day in product.support_days),
        f"support_days must be days among {WEEKDAYS}",
    )
    _check(product.support_opens < product.support_closes, "support_opens must be before support_closes")
    try:
        ZoneInfo(product.support_timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidSettings(f"product.yml: unknown support_timezone {product.support_timezone!r}") from error
    return product


@functools.lru_cache(maxsize=1)
def product() -> Product:
    """product.yml, read and checked once per process."""
    with PRODUCT_FILE.open(encoding="utf-8") as handle:
        return parse_product(yaml.safe_load(handle) or {})


def response_slots() -> Dict[str, Any]:
    """The slot values that responses need, e.g. {"grace_days": 14, ...}."""
    facts = product()
    return {key: getattr(facts, key) for key in RESPONSE_KEYS}


@dataclass(frozen=True)
class Environment:
    """What the environment says; None where a variable is unset or empty."""

    app_env: str
    database_url: Optional[str]
    auth_jwt_secret: Optional[str]
    auth_jwt_public_key: Optional[str]
    channel_token_secret: Optional[str]
    payment_gateway: Optional[str]
    stripe_api_key: Optional[str]
    stripe_api_base: Optional[str]
    helpdesk_mode: Optional[str]
    helpdesk_url: Optional[str]
    helpdesk_secret: Optional[str]
    helpdesk_api_token: Optional[str]
    helpdesk_account_id: str
    helpdesk_inbox_id: str
    helpdesk_poll_seconds: float  # how often the Rasa server's worker delivers the outbox
    helpdesk_retry_seconds: float  # the first retry's delay; it doubles up to ten minutes
    helpdesk_webhook_token: Optional[str]  # the secret in Chatwoot's webhook URL (/agent/helpdesk/chatwoot/<token>)
    helpdesk_webhook_secret: Optional[str]  # Chatwoot's webhook secret: its X-Chatwoot-Signature is then required
    agent_credentials: Optional[str]  # "name:password,..." for the agent console
    agent_managers: Optional[str]  # "name,..." of the agents with the manager role (analytics, privacy requests)
    chat_session_secret: Optional[str]  # signs the widget's anonymous sessions (else the JWT secret)
    refuse_db_on_event_loop: bool  # set by scripts/run.sh for the Rasa server
    host: str  # the interface both servers listen on (127.0.0.1 unless told; 0.0.0.0 in a container)
    action_server_token: Optional[str]  # what the Rasa server sends the action server, which refuses other calls
    rest_api_keys: Optional[str]  # "name:key,..." for integrations using the REST channel (outside development)
    allowed_origins: Optional[str]  # "https://www.example.com,..." may embed the widget and call /link/code
    max_message_chars: int  # the longest message any channel accepts
    rate_limit_conversation: int  # messages a minute one conversation may send
    rate_limit_client: int  # messages a minute one client (IP address) may send, all conversations together
    redis_url: Optional[str]  # replicas: shared rate limits, Rasa's lock store, socket.io rooms, delivery ids
    rabbitmq_url: Optional[str]  # amqp://user:password@host:5672/: every conversation event also goes to RabbitMQ
    smtp_url: Optional[str]  # smtp://user:password@host:port (+ ?starttls=1) or smtps://... for the email outbox
    email_from: Optional[str]  # the From address of customer emails (else no-reply@<portal_domain>)
    email_max_tries: int  # a message still refused after this many tries is marked failed for good
    email_retry_seconds: float  # the first retry's delay; it doubles up to an hour
    dev_mailbox: Optional[str]  # development: the mail catcher's Maildir, shown on the demo page (make run sets it)

    @property
    def is_development(self) -> bool:
        """Only when asked for: development secrets, the demo sign-in and development agent credentials."""
        return self.app_env == "development"

    @property
    def is_production(self) -> bool:
        """Anything but APP_ENV=development: real secrets required."""
        return not self.is_development


ENVIRONMENT_VARIABLES = tuple(f.name.upper() for f in fields(Environment))


@functools.lru_cache(maxsize=8)
def _environment(values: Tuple[Optional[str], ...]) -> Environment:
    given: Dict[str, Any] = {name.lower(): (value or None) for name, value in zip(ENVIRONMENT_VARIABLES, values)}
    given["app_env"] = (given["app_env"] or "").lower()
    given["helpdesk_account_id"] = given["helpdesk_account_id"] or "1"
    given["helpdesk_inbox_id"] = given["helpdesk_inbox_id"] or "1"
    given["helpdesk_poll_seconds"] = float(given["helpdesk_poll_seconds"] or 2)
    given["helpdesk_retry_seconds"] = float(given["helpdesk_retry_seconds"] or 5)
    given["refuse_db_on_event_loop"] = given["refuse_db_on_event_loop"] == "1"
    given["host"] = given["host"] or "127.0.0.1"
    given["max_message_chars"] = int(given["max_message_chars"] or 4000)
    given["rate_limit_conversation"] = int(given["rate_limit_conversation"] or 20)
    given["rate_limit_client"] = int(given["rate_limit_client"] or 120)
    given["email_max_tries"] = int(given["email_max_tries"] or 8)
    given["email_retry_seconds"] = float(given["email_retry_seconds"] or 30)
    return Environment(**given)


def environment() -> Environment:
    """The environment's settings (read again only when a variable changed)."""
    return _environment(tuple(os.environ.get(name) for name in ENVIRONMENT_VARIABLES))


def is_production() -> bool:
    return environment().is_production


def is_development() -> bool:
    return environment().is_development


def payment_gateway_name() -> str:
    name = (environment().payment_gateway or product().payment_gateway).lower()
    if name not in PAYMENT_GATEWAYS:
        raise InvalidSettings(f"PAYMENT_GATEWAY must be one of {PAYMENT_GATEWAYS}, not {name!r}")
    return name


def helpdesk_mode() -> str:
    mode = (environment().helpdesk_mode or product().helpdesk_mode).lower()
    if mode not in HELPDESK_MODES:
        raise InvalidSettings(f"HELPDESK_MODE must be one of {HELPDESK_MODES}, not {mode!r}")
    return mode


def check_configuration() -> None:
    """Called when a server starts: product.yml and the adapters' names must be valid, and outside
    development every secret must be real (none falls back to the development one)."""
    product()
    payment_gateway_name()
    helpdesk_mode()
    env = environment()
    if env.is_development:
        return
    missing = [
        name
        for name, given in (
            ("AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY", env.auth_jwt_secret or env.auth_jwt_public_key),
            ("CHANNEL_TOKEN_SECRET or AUTH_JWT_SECRET", env.channel_token_secret or env.auth_jwt_secret),
            ("CHAT_SESSION_SECRET or AUTH_JWT_SECRET", env.chat_session_secret or env.auth_jwt_secret),
            ("ACTION_SERVER_TOKEN", env.action_server_token),
        )
        if not given
    ]
    if missing:
        raise InsecureConfiguration(
            f"{', '.join(missing)} must be set (APP_ENV={env.app_env or 'unset'} is production; "
            "APP_ENV=development uses development secrets)"
        )
