"""What the Telegram, Messenger and Slack channels share: reading their configuration, and the
InputChannel scaffolding (configuration, `DeliveryLog`, `Relay`, output channel).

Each channel module keeps its own configuration dataclass (secrets declared `field(repr=False)`, so
that only `api_base` is ever printed), its output channel and its webhook blueprint.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Type, TypeVar

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.linking import Relay
from channels.messengers.signatures import DeliveryLog
from support.settings import environment

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT")


def read_config(
    label: str,
    config_class: Type[ConfigT],
    credentials: Optional[Mapping[str, Any]],
    variables: Mapping[str, str],
    api_base_variable: str,
    default_api_base: str,
) -> Optional[ConfigT]:
    """`config_class` built from the credentials values, else the environment variables `variables`
    (credentials key -> variable), plus `api_base` (credentials, `api_base_variable`, else the default).
    None (channel off) when a value is missing, with a warning when only some of them are set."""
    given = credentials or {}
    values = {key: given.get(key) or os.environ.get(variable) for key, variable in variables.items()}
    base = given.get("api_base") or os.environ.get(api_base_variable) or default_api_base
    if all(values.values()):
        return config_class(**{key: str(value) for key, value in values.items()}, api_base=str(base).rstrip("/"))
    if any(values.values()):
        names = list(variables.values())
        logger.warning(
            "%s channel off: %s and %s are %s needed",
            label,
            ", ".join(names[:-1]),
            names[-1],
            "both" if len(names) == 2 else "all",
        )
    return None


class MessengerInput(InputChannel):
    """Base of the messenger input channels; a subclass sets the class attributes and adds `blueprint`."""

    platform: ClassVar[str]  # "telegram": the channel name, and the prefix of its conversation ids
    config_reader: ClassVar[Callable[[Optional[Dict[str, Any]]], Optional[Any]]]  # staticmethod(<platform>_config)
    output_class: ClassVar[Callable[[Any], OutputChannel]]  # called with the configuration

    def __init__(self, config: Optional[Any]) -> None:
        self.config = config  # None: the channel is off
        self.deliveries = DeliveryLog(self.platform, redis_url=environment().redis_url)
        self.relay = Relay(self.platform)

    @classmethod
    def name(cls) -> str:
        return cls.platform

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(cls.config_reader(credentials))

    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.output_class(self.config) if self.config else None


def refuse_misshapen_payloads(bp: Blueprint, label: str) -> Blueprint:
    """A signed webhook whose fields have another JSON type than the platform's (an object where a list is
    expected...) gets 400 with a JSON error, never a 500 and a traceback."""

    @bp.exception(AttributeError, TypeError, KeyError, ValueError)
    async def misshapen(request: Request, exception: Exception) -> HTTPResponse:
        logger.warning("%s: misshapen payload refused (%s)", label, type(exception).__name__)
        return response.json({"error": "malformed_payload"}, status=400)

    return bp
