"""When the NLU hesitates between two topics: which two to offer as buttons, instead of a confident wrong answer."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

# Intents that are not a topic a customer could mean (small talk, yes/no, the fallbacks themselves).
NOT_TOPICS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "how_are_you",
        "bot_challenge",
        "human_handoff",
        "out_of_scope",
        "nlu_fallback",
    }
)
FIRST_AT_LEAST = 0.25  # the likelier topic's confidence, for the question to be worth asking
SECOND_AT_LEAST = 0.12  # the other one's


def topics_to_offer(ranking: Sequence[Dict[str, Any]]) -> List[str]:
    """The two topics the message most likely meant, or [] when the NLU has no real candidates."""
    topics = [entry for entry in ranking if entry.get("name") not in NOT_TOPICS]
    topics.sort(key=lambda entry: entry.get("confidence") or 0.0, reverse=True)
    if len(topics) < 2:
        return []
    first, second = topics[0], topics[1]
    if (first.get("confidence") or 0.0) < FIRST_AT_LEAST or (second.get("confidence") or 0.0) < SECOND_AT_LEAST:
        return []
    return [str(first["name"]), str(second["name"])]


# How a follow-up starts ("and for the annual plan?", "et pour le stockage ?"): it leans on the previous topic.
CONTINUATIONS = re.compile(
    r"^\W*(ok(ay)?\W+|d'accord\W+|merci\W+|thanks\W+)?"
    r"(and|also|what about|how about|what if|and if|plus|et|aussi|et pour|et si|pis|puis|sinon|du coup)\b",
    re.IGNORECASE,
)
FOLLOW_UP_MAX_WORDS = 12
CANDIDATES_KEPT = 3  # the previous topic is taken again if the NLU still ranks it among its first three


def follow_up_topic(text: str, ranking: Sequence[Dict[str, Any]], previous: Optional[str]) -> Optional[str]:
    """The topic a short follow-up the NLU was unsure of is about: the previous topic when the NLU still
    considers it, else the NLU's own best topic when it is likely enough, else the previous topic."""
    if previous is None or len(text.split()) > FOLLOW_UP_MAX_WORDS or not CONTINUATIONS.match(text.strip()):
        return None
    topics = sorted(
        (entry for entry in ranking if entry.get("name") not in NOT_TOPICS),
        key=lambda entry: entry.get("confidence") or 0.0,
        reverse=True,
    )
    if previous in [entry.get("name") for entry in topics[:CANDIDATES_KEPT]]:
        return previous
    if topics and (topics[0].get("confidence") or 0.0) >= FIRST_AT_LEAST:
        return str(topics[0]["name"])
    return previous
