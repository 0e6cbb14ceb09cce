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
        "rate_satisfaction",
    }
)
FIRST_AT_LEAST = 0.25  # the likelier topic's confidence, for the question to be worth asking
SECOND_AT_LEAST = 0.12  # the other one's


def topics_to_offer(ranking: Sequence[Dict[str, Any]], unsure_of: Optional[str] = None) -> List[str]:
    """The two topics the message most likely meant, or [] when the NLU has no real candidates. A topic the
    NLU was unsure of (`unsure_of`: a dispute read without certainty) is offered first, with the likeliest
    other one."""
    topics = [entry for entry in ranking if entry.get("name") not in NOT_TOPICS]
    topics.sort(key=lambda entry: entry.get("confidence") or 0.0, reverse=True)
    if unsure_of is not None:
        return [unsure_of, *[str(entry["name"]) for entry in topics if entry.get("name") != unsure_of][:1]]
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
    if previous is None or not continues(text):
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


TOPIC_LOOKBACK = 3  # user messages before this one in which the previous topic is looked for
PREVIOUS_AT_LEAST = 0.1  # the NLU's confidence in the previous topic, for a follow-up to stay on it
CONFIDENT_ELSEWHERE = 0.5  # a follow-up read as another topic with less confidence stays on the previous one
NEVER_RE_READ = frozenset({"human_handoff", "bot_challenge", "out_of_scope", "nlu_fallback"})  # a miss: action_clarify


def previous_topic_of(events: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The topic of the customer's latest earlier message that had one (in this session, a few messages back)."""
    intents: List[Optional[str]] = []
    for event in reversed(events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            intents.append(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
    for intent in intents[1 : 1 + TOPIC_LOOKBACK]:
        if intent is not None and intent not in NOT_TOPICS:
            return intent
    return None


def continues(text: str) -> bool:
    """A short message that leans on what came before ("and for the annual plan?", "et niveau stockage ?")."""
    return len(text.split()) <= FOLLOW_UP_MAX_WORDS and bool(CONTINUATIONS.match(text.strip()))


def stays_on_previous_topic(
    text: str, predicted: Optional[str], ranking: Sequence[Dict[str, Any]], previous: Optional[str]
) -> bool:
    """A reading (`predicted`) of a follow-up as another topic that gives way to the previous topic: the previous
    topic is still a real candidate of the NLU's `ranking`, or the other reading is not a confident one (a short
    "and if we'd been on monthly?" names no topic of its own). A request for a person or an out-of-scope
    question is never re-read."""
    if previous is None or predicted is None or not continues(text):
        return False
    if predicted == previous or predicted in NEVER_RE_READ:
        return False
    confidence = next((e.get("confidence") for e in ranking if e.get("name") == predicted), None)
    if confidence is None:  # no reading of the NLU's to weigh (a button payload, a test story)
        return False
    if confidence < CONFIDENT_ELSEWHERE:
        return True
    if predicted in NOT_TOPICS:  # a confident "and thanks!"
        return False
    topics = [entry for entry in ranking if entry.get("name") not in NOT_TOPICS][:CANDIDATES_KEPT]
    return any(e.get("name") == previous and (e.get("confidence") or 0.0) >= PREVIOUS_AT_LEAST for e in topics)
