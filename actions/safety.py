"""One safety net for every custom action: an unexpected exception ends in an apology, never in silence.

When an action raises, rasa-sdk answers the Rasa server with an error (and logs the whole request,
metadata and token included), and the customer gets no answer at all. Every action here derives from
`SafeAction` and writes its work in `act`; `SafeAction.run`, the method rasa-sdk calls, runs `act` and,
when anything unexpected escapes it (a bug, a UnicodeEncodeError, a gateway's own exception):

- logs, at ERROR level, the action's name, the exception's type (and the types it was raised from) and
  the stack, but not the exception's message: it may quote the customer's text, an e-mail address or
  a token;
- forgets what the action had said before failing (no half-told story) and sends
  `utter_something_went_wrong` instead, in the conversation's language (the response's variations);
  nothing while a person owns the conversation (paused), since the bot must stay silent then;
- returns `recovery_events`: by default the pending yes-or-no question is dropped (`pending_change`
  None), so that the next "yes" confirms nothing; never ConversationPaused.

Failures an action expects keep their own answer inside `act` (the database: utter_database_unavailable).
"""

from __future__ import annotations

import logging
import traceback
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

logger = logging.getLogger(__name__)

APOLOGY = "utter_something_went_wrong"


def _types(error: BaseException) -> str:
    """'RuntimeError <- KeyError': the exception and those it was raised from or while handling."""
    names: List[str] = []
    current: Optional[BaseException] = error
    while current is not None and len(names) < 5:
        names.append(type(current).__qualname__)
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


def log_failure(action: str, error: BaseException) -> None:
    """What operators need (where and what), without the exception's message (customer data)."""
    stack = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "%s failed with %s; the customer was sent %s. Stack (exception message left out):\n%s",
        action,
        _types(error),
        APOLOGY,
        stack.rstrip(),
    )


class SafeAction(Action, ABC):
    """A custom action whose unexpected exceptions end in an apology (see the module's docstring).

    Subclasses implement `act`, never `run`. Abstract, so that rasa-sdk registers only subclasses.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in vars(cls):
            raise TypeError(f"{cls.__qualname__} overrides run(): implement act(), run() is the safety net")

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """The action's work: what `run` would be in a plain rasa-sdk Action."""

    def recovery_events(self, tracker: Tracker) -> List[EventType]:
        """The events after an unexpected failure: the conversation goes on, with no question pending."""
        return [SlotSet("pending_change", None)]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        said_before = len(dispatcher.messages)
        try:
            return await self.act(dispatcher, tracker, domain)
        except ActionExecutionRejection:  # rasa-sdk's own signal to the Rasa server, not a failure
            raise
        except Exception as error:  # noqa: BLE001 - logged by log_failure, without its message
            log_failure(self.name(), error)
            del dispatcher.messages[said_before:]
            if not tracker.is_paused():
                dispatcher.utter_message(response=APOLOGY)
            return self.recovery_events(tracker)
