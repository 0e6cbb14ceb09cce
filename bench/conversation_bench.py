"""Conversation-level benchmark: the independent multi-turn conversations of bench/conversations/{en,fr}.yml
(written by an author who never saw the training data; never trained on), played over REST against both
servers (ports 15014/15064) on a PostgreSQL database reloaded with the demo data before each conversation.

    python -m bench.conversation_bench [--language en|fr] [--only ID] [--failures]     (make bench-conversations)
    python -m bench.conversation_bench --set conversations_blind     (a second set, never looked at while tuning)

A turn is right when the NLU gave one of its expected intents, the replies hold every expected fact and a
ticket was opened exactly when the turn expects one, with its reason. When the assistant asks a clarifying
question whose buttons include the expected topic, the customer clicks it (counted as "clarified").
Per language it prints: task success (every turn of the conversation right), wrong answers (turns answered
as another question), misunderstandings (turns met with "I didn't understand" or out of scope), clarifying
questions, and handoff precision and recall.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml

os.environ.setdefault("APP_ENV", "development")  # the demo tokens are signed with the development secret

from sqlalchemy import select  # noqa: E402

from support.db import models as m  # noqa: E402
from support.db.engine import engine_for, session_scope  # noqa: E402
from support.identity import issue_token  # noqa: E402
from tests.helpers.server import Assistant, fresh_demo_database, postgres_database, start_assistant  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RASA_PORT, ACTIONS_PORT = 15014, 15064
DATABASE = "assistant_conversation_bench"
MISUNDERSTOOD = {"nlu_fallback", "out_of_scope"}
SMALL_TALK = {"greet", "goodbye", "thank", "how_are_you", "affirm", "deny"}
# A request after small talk in the same message ("merci ! et il me reste combien de jours ?")
GREETING_FIRST = re.compile(
    r"^\W*(hi|hello|hey|thanks|thank you|thx|ok thanks|bonjour|salut|slt|coucou|merci|allo)\b", re.I
)
HANDED_OVER = {"human_handoff", "billing_dispute", "privacy_request"}  # these requests always open a ticket


@dataclass
class Turn:
    say: str
    intents: List[str]
    contains: List[str]
    handoff: Optional[str]


@dataclass
class Result:
    conversation: str
    language: str
    turns: int = 0
    right: int = 0
    wrong: int = 0
    misunderstood: int = 0
    clarified: int = 0
    mixed: int = 0  # turns with small talk before a request
    mixed_right: int = 0
    handoffs_expected: int = 0
    handoffs_made: int = 0
    handoffs_right: int = 0
    problems: List[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.problems


def load(folder: Path, language: str) -> List[Dict[str, Any]]:
    return yaml.safe_load((folder / f"{language}.yml").read_text(encoding="utf-8"))["conversations"]


def turns_of(conversation: Dict[str, Any]) -> List[Turn]:
    """The turns; a turn that asks for a person expects a handoff even when its reason is left open ("any")."""
    turns = []
    for turn in conversation["turns"]:
        intents = [turn["intent"]] if isinstance(turn["intent"], str) else list(turn["intent"])
        handoff = turn.get("handoff") or ("any" if set(intents) <= HANDED_OVER else None)
        turns.append(Turn(turn["say"], intents, list(turn.get("contains") or []), handoff))
    return turns


def normalised(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ").casefold()


def database_url() -> str:
    return postgres_database(DATABASE)


def ticket_reason(url: str, conversation_id: str) -> Optional[str]:
    with session_scope(engine_for(url)) as session:
        ticket = session.execute(
            select(m.Ticket).where(m.Ticket.conversation_id == conversation_id)
        ).scalar_one_or_none()
        return ticket.reason if ticket else None


class Player:
    def __init__(self, assistant: Assistant, url: str) -> None:
        self.assistant = assistant
        self.url = url

    def latest_intent(self, sender: str) -> Optional[str]:
        events = self.assistant.tracker(self.assistant.rest(sender))["events"]
        users = [event for event in events if event["event"] == "user"]
        return users[-1]["parse_data"]["intent"]["name"] if users else None

    def play(self, conversation: Dict[str, Any], language: str) -> Result:
        fresh_demo_database(self.url)
        sender = uuid.uuid4().hex
        email = conversation.get("user")
        result = Result(conversation["id"], language)
        for number, turn in enumerate(turns_of(conversation), start=1):
            metadata = {"token": issue_token(email)} if email else {}
            try:
                replies = self.assistant.say(turn.say, sender, metadata=metadata)
            except requests.RequestException as error:  # counted as a failed turn; the next conversation goes on
                result.turns += 1
                result.problems.append(f"turn {number} {turn.say!r}: no answer ({type(error).__name__})")
                break
            intent = self.latest_intent(sender)
            buttons = [button for reply in replies for button in reply.get("buttons") or []]
            clicked = next((b for b in buttons if b["payload"].lstrip("/") in turn.intents), None)
            if intent == "nlu_fallback" and clicked is not None:
                result.clarified += 1
                replies = self.assistant.say(clicked["payload"], sender, metadata=metadata)
                intent = self.latest_intent(sender)
            self.score(result, number, turn, intent, replies, sender)
            if turn.handoff:
                break  # the bot is paused: a person answers from here on
        return result

    def score(
        self, result: Result, number: int, turn: Turn, intent: Optional[str], replies: List[dict], sender: str
    ) -> None:
        result.turns += 1
        mixed = bool(GREETING_FIRST.match(turn.say)) and not set(turn.intents) & SMALL_TALK
        result.mixed += mixed
        result.mixed_right += mixed and intent in turn.intents
        text = normalised("\n".join(reply.get("text") or "" for reply in replies))
        problems = []
        if intent not in turn.intents:
            problems.append(f"intent {intent}, expected {'/'.join(turn.intents)}")
            if intent in MISUNDERSTOOD and not set(turn.intents) & MISUNDERSTOOD:
                result.misunderstood += 1
            else:
                result.wrong += 1
        missing = [fact for fact in turn.contains if normalised(fact) not in text]
        if missing:
            problems.append(f"missing {missing}")
        reason = ticket_reason(self.url, self.assistant.rest(sender))
        made = reason is not None and result.handoffs_made == 0
        if made:
            result.handoffs_made += 1
        if turn.handoff:
            result.handoffs_expected += 1
            if made and turn.handoff in (reason, "any"):
                result.handoffs_right += 1
            else:
                problems.append(f"handoff {reason}, expected {turn.handoff}")
        elif made:
            problems.append(f"unexpected handoff ({reason})")
        if not replies:
            problems.append("no reply")
        if problems:
            result.problems.append(f"turn {number} {turn.say!r}: {'; '.join(problems)}")
        else:
            result.right += 1


def report(language: str, results: List[Result], failures: bool) -> None:
    turns = sum(r.turns for r in results)
    made = sum(r.handoffs_made for r in results)
    expected = sum(r.handoffs_expected for r in results)
    right = sum(r.handoffs_right for r in results)
    success = sum(r.success for r in results)
    print(
        f"{language}: {len(results)} conversations, {turns} turns | task success {success / len(results):.1%} | "
        f"wrong answers {sum(r.wrong for r in results) / turns:.1%} | "
        f"misunderstood {sum(r.misunderstood for r in results) / turns:.1%} | "
        f"clarifying questions {sum(r.clarified for r in results)} | "
        f"small talk + request {sum(r.mixed_right for r in results)}/{sum(r.mixed for r in results)} | "
        f"handoff precision {right / made if made else 1:.1%} ({right}/{made}), "
        f"recall {right / expected if expected else 1:.1%} ({right}/{expected})"
    )
    if failures:
        for result in results:
            for problem in result.problems:
                print(f"  {result.conversation} {problem}")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", choices=["en", "fr"], action="append")
    parser.add_argument("--only", action="append", help="conversation id (repeatable)")
    parser.add_argument("--failures", action="store_true", help="list every failed turn")
    parser.add_argument(
        "--set", default="conversations", help="the folder of bench/ holding en.yml and fr.yml (conversations_blind)"
    )
    args = parser.parse_args(argv)
    url = database_url()
    fresh_demo_database(url)
    servers = start_assistant(RASA_PORT, ACTIONS_PORT, url, extra_env={"RATE_LIMIT_CONVERSATION": "1000"})
    assistant = next(servers)
    try:
        player = Player(assistant, url)
        for language in args.language or ["en", "fr"]:
            chosen = [c for c in load(ROOT / "bench" / args.set, language) if not args.only or c["id"] in args.only]
            if chosen:
                report(language, [player.play(c, language) for c in chosen], args.failures)
        problems = assistant.log_problems()
        if problems:
            print("server log problems:", *problems[:10], sep="\n  ")
    finally:
        servers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
