"""The conversations that bench/load_bench.py plays: this assistant's (French and English, anonymous and signed
in, over REST and socket.io) and Rasa's moodbot's (English, REST), as scripts of customer messages.

A script is played with a new conversation each time (a new REST sender id, a new widget connection). A
signed-in script names a demo user (support/demo_data.py), or `CANCELLING` for the cancellation flow, which
takes an account of its own from a pool of past_due customers (tests/helpers/server.py add_past_due_customer)
so that every run really cancels (a second cancellation is only told it is already done); a script that ends with a handoff stops there (the bot is paused).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Optional, Tuple

CANCELLING = "cancelling"  # the script takes an account of its own from the cancellation pool
TRANSPORTS = ("rest", "socketio")


@dataclass(frozen=True)
class Script:
    name: str
    language: str
    kind: str  # status, renewal, cancellation, handoff, account, small_talk (moodbot: happy, sad...)
    turns: Tuple[str, ...]
    user: Optional[str] = None  # a demo user's email, CANCELLING, or None (anonymous)
    weight: int = 2  # how often it is played in the mix, relative to the others

    @property
    def locale(self) -> str:
        return "fr-FR" if self.language == "fr" else "en-GB"

    @property
    def signed_in(self) -> bool:
        return self.user is not None


def _s(name: str, language: str, kind: str, user: Optional[str], *turns: str, weight: int = 2) -> Script:
    return Script(name, language, kind, tuple(turns), user, weight)


ACME, MEMBER, GLOBEX = "admin@acme.example", "member@acme.example", "admin@globex.example"
INITECH, UMBRELLA, HOOLI = "admin@initech.example", "admin@umbrella.example", "admin@hooli.example"

ASSISTANT_SCRIPTS: List[Script] = [
    # English, anonymous
    _s("en-anon-status", "en", "status", None, "hi", "is my subscription still active?", "thanks, bye"),
    _s(
        "en-anon-renewal",
        "en",
        "renewal",
        None,
        "why did my renewal payment fail?",
        "how long is the grace period?",
        "how do I update my card?",
    ),
    _s(
        "en-anon-cancel",
        "en",
        "cancellation",
        None,
        "how do I cancel my subscription?",
        "can I get a refund for the rest of the month?",
        "ok thanks",
    ),
    _s("en-anon-handoff", "en", "handoff", None, "my payment failed again", "I want to speak to a person", weight=1),
    # French, anonymous
    _s("fr-anon-status", "fr", "status", None, "bonjour", "quand est-ce que mon abonnement se renouvelle ?", "merci"),
    _s(
        "fr-anon-renewal",
        "fr",
        "renewal",
        None,
        "pourquoi mon renouvellement a échoué ?",
        "combien de temps dure la période de grâce ?",
        "je veux changer de carte",
    ),
    _s(
        "fr-anon-cancel",
        "fr",
        "cancellation",
        None,
        "comment résilier mon abonnement ?",
        "est-ce que je serai remboursé ?",
        "d'accord merci",
    ),
    _s(
        "fr-anon-handoff",
        "fr",
        "handoff",
        None,
        "comment résilier mon abonnement ?",
        "je voudrais parler à un conseiller",
        weight=1,
    ),
    # English, signed in
    _s(
        "en-globex-status",
        "en",
        "status",
        GLOBEX,
        "what plan am I on and when does it renew?",
        "will my telephony credit be refunded?",
        "thanks",
    ),
    _s(
        "en-umbrella-renewal",
        "en",
        "renewal",
        UMBRELLA,
        "why was my subscription payment declined?",
        "how many days of grace do I have left?",
        "thank you",
    ),
    _s(
        "en-initech-status",
        "en",
        "status",
        INITECH,
        "what plan am I on?",
        "we are over the free plan limits and files are locked",
        "thanks",
    ),
    _s("en-hooli-account", "en", "account", HOOLI, "how do we stop renewing our on-premise licence?", "thanks"),
    _s(
        "en-cancel-confirmed",
        "en",
        "cancellation",
        CANCELLING,
        "I want to cancel my subscription",
        "no thanks",
        "yes",
        "thanks",
    ),
    _s(
        "en-globex-handoff",
        "en",
        "handoff",
        GLOBEX,
        "will my telephony credit be refunded?",
        "I want to talk to a person",
        weight=1,
    ),
    # French, signed in
    _s(
        "fr-acme-renewal",
        "fr",
        "renewal",
        ACME,
        "quel est mon abonnement actuel ?",
        "pourquoi mon renouvellement a échoué ?",
        "il me reste combien de jours ?",
    ),
    _s("fr-member-cancel", "fr", "cancellation", MEMBER, "je veux résilier notre abonnement", "merci"),
    _s(
        "fr-globex-status",
        "fr",
        "status",
        GLOBEX,
        "quel est mon abonnement actuel et quand est le prochain paiement ?",
        "est-ce que mon crédit de téléphonie sera remboursé ?",
        "merci",
    ),
    _s(
        "fr-cancel-confirmed",
        "fr",
        "cancellation",
        CANCELLING,
        "je veux résilier mon abonnement",
        "non",
        "oui",
        "merci",
    ),
    _s(
        "fr-acme-handoff",
        "fr",
        "handoff",
        ACME,
        "pourquoi mon renouvellement a échoué ?",
        "je voudrais parler à un conseiller",
        weight=1,
    ),
]

MOODBOT_SCRIPTS: List[Script] = [
    _s("mood-happy", "en", "happy", None, "hello", "I'm great", "bye"),
    _s("mood-sad-helped", "en", "sad", None, "hi", "I am very sad", "yes", "goodbye"),
    _s("mood-sad-not-helped", "en", "sad", None, "hey there", "I feel terrible", "no", "bye"),
    _s("mood-challenge", "en", "bot_challenge", None, "good morning", "are you a bot?", "see you later"),
]


@dataclass(frozen=True)
class Run:
    """One script on one transport: what a simulated conversation plays."""

    script: Script
    transport: str


def mix(scripts: List[Script], transports: Tuple[str, ...], seed: int = 13) -> List[Run]:
    """Every script on every transport, each as often as its weight, in a fixed shuffled order."""
    runs = [Run(script, transport) for script in scripts for transport in transports for _ in range(script.weight)]
    random.Random(seed).shuffle(runs)
    return runs


def describe(runs: List[Run]) -> dict:
    """Counts of the mix per language, transport, kind and identity, and its turns."""
    counts: dict = {"runs": len(runs), "turns": sum(len(run.script.turns) for run in runs)}
    for label, key in (
        ("language", lambda r: r.script.language),
        ("transport", lambda r: r.transport),
        ("kind", lambda r: r.script.kind),
        ("identity", lambda r: "signed_in" if r.script.signed_in else "anonymous"),
    ):
        group: dict = {}
        for run in runs:
            group[key(run)] = group.get(key(run), 0) + 1
        counts[label] = dict(sorted(group.items()))
    return counts
