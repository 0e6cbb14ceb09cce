"""When the NLU hesitates between two topics: which two to offer as buttons, instead of a confident wrong answer."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

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
