"""The support manager's figures over a range of days (UTC), from Rasa's conversation store and our tables,
by SQL on SQLite and PostgreSQL: the same numbers for the /agent/analytics page and `make analytics`.

Definitions (README "Analytics"):
- a conversation counts in the range when its customer wrote at least one message in it;
- contained: such a conversation without a ticket (the bot closed it without a person);
- misunderstood: a customer message read as nlu_fallback or out_of_scope;
- topics: the intents of customer messages, small talk and yes/no left out (support/clarification.NOT_TOPICS);
- times to first reply and to resolution: tickets opened in the range, medians in minutes.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.clarification import NOT_TOPICS
from support.db import models as m
from support.db.conversation_store import events_between
from support.db.engine import session_scope
from support.redaction import PersonalDataRedactor
from support.vocabulary import Author, TriggeredBy

MISUNDERSTOOD = ("nlu_fallback", "out_of_scope")
TOP_NOT_UNDERSTOOD = 20


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=timezone.utc)

    @classmethod
    def parse(cls, first: Optional[str], last: Optional[str], today: date, default_days: int = 30) -> DateRange:
        """From YYYY-MM-DD strings (missing: the last `default_days` days); raises ValueError if invalid."""
        end = date.fromisoformat(last) if last else today
        begin = date.fromisoformat(first) if first else end - timedelta(days=default_days - 1)
        if begin > end or (end - begin).days > 366:
            raise ValueError("the range must go forward and cover at most a year")
        return cls(begin, end)


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _median_minutes(values: Sequence[float]) -> Optional[float]:
    return round(statistics.median(values), 1) if values else None


def _table(title: str, columns: List[str], rows: List[List[Any]]) -> Dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}


@dataclass
class Conversations:
    """What the conversation store says about the range."""

    senders: set
    user_messages: int
    misunderstood: Counter
    misunderstood_count: int
    topics: Counter  # (day, intent) -> messages
    channels: Dict[str, str]  # sender -> channel of its last message
    languages: Dict[str, str]  # sender -> language last set


def read_conversations(store: Engine, span: DateRange) -> Conversations:
    found = Conversations(set(), 0, Counter(), 0, Counter(), {}, {})
    for event in events_between(store, span.start.timestamp(), span.end.timestamp(), ("user", "slot")):
        if event.type_name == "slot":
            if event.data.get("name") == "language" and event.data.get("value"):
                found.languages[event.sender_id] = str(event.data["value"])
            continue
        found.senders.add(event.sender_id)
        found.user_messages += 1
        found.channels[event.sender_id] = str(event.data.get("input_channel") or "unknown")
        intent = event.intent_name or ((event.data.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in MISUNDERSTOOD:
            found.misunderstood_count += 1
            found.misunderstood[" ".join(str(event.data.get("text") or "").split())] += 1
        elif intent and intent not in NOT_TOPICS:
            day = datetime.fromtimestamp(event.timestamp, tz=timezone.utc).date().isoformat()
            found.topics[(day, intent)] += 1
    return found


def _tickets(session: Session, span: DateRange) -> List[m.Ticket]:
    return list(
        session.execute(
            select(m.Ticket).where(m.Ticket.created_at >= span.start, m.Ticket.created_at < span.end)
        ).scalars()
    )


def _first_replies(session: Session, tickets: List[m.Ticket]) -> List[float]:
    firsts = dict(
        session.execute(
            select(m.TicketMessage.ticket_id, func.min(m.TicketMessage.at))
            .where(m.TicketMessage.ticket_id.in_([t.id for t in tickets]), m.TicketMessage.author == Author.AGENT)
            .group_by(m.TicketMessage.ticket_id)
        ).all()
    )
    return [(m.utc(firsts[t.id]) - m.utc(t.created_at)).total_seconds() / 60 for t in tickets if firsts.get(t.id)]


def _counted(session: Session, query: Any) -> List[List[Any]]:
    return [list(row) for row in session.execute(query).all()]


def figures(bind: Engine, store: Engine, span: DateRange, redactor: Optional[PersonalDataRedactor] = None) -> Dict:
    """Every figure of the range: a summary and the tables (each downloadable as CSV)."""
    talk = read_conversations(store, span)
    redactor = redactor or PersonalDataRedactor()
    with session_scope(bind) as session:
        tickets = _tickets(session, span)
        redactor.add_names(session.execute(select(m.User.name)).scalars())
        handed = {t.conversation_id for t in tickets} & talk.senders
        ratings = _counted(
            session,
            select(m.SatisfactionRating.score, func.count())
            .where(m.SatisfactionRating.answered_at >= span.start, m.SatisfactionRating.answered_at < span.end)
            .group_by(m.SatisfactionRating.score),
        )
        retries = _counted(
            session,
            select(m.PaymentAttempt.triggered_by, m.PaymentAttempt.outcome, func.count())
            .where(m.PaymentAttempt.attempted_at >= span.start, m.PaymentAttempt.attempted_at < span.end)
            .where(m.PaymentAttempt.triggered_by != TriggeredBy.RENEWAL)
            .group_by(m.PaymentAttempt.triggered_by, m.PaymentAttempt.outcome)
            .order_by(m.PaymentAttempt.triggered_by, m.PaymentAttempt.outcome),
        )
        emails = _email_states(session, span)
        first_replies = _first_replies(session, tickets) if tickets else []
        resolutions = [
            (m.utc(t.resolved_at) - m.utc(t.created_at)).total_seconds() / 60 for t in tickets if t.resolved_at
        ]
    scores = {int(score): int(count) for score, count in ratings}
    answers = sum(scores.values())
    reasons = Counter(t.reason for t in tickets)
    conversations = len(talk.senders)
    summary = {
        "conversations": conversations,
        "contained": conversations - len(handed),
        "containment_rate": _rate(conversations - len(handed), conversations),
        "handoffs": len(tickets),
        "handoff_rate": _rate(len(handed), conversations),
        "user_messages": talk.user_messages,
        "misunderstood": talk.misunderstood_count,
        "misunderstanding_rate": _rate(talk.misunderstood_count, talk.user_messages),
        "csat_average": round(sum(s * c for s, c in scores.items()) / answers, 2) if answers else None,
        "csat_answers": answers,
        "first_reply_minutes_median": _median_minutes(first_replies),
        "resolution_minutes_median": _median_minutes(resolutions),
        "payment_retries": sum(int(row[2]) for row in retries),
        "emails_sent": emails.get("sent", 0),
        "emails_failed": emails.get("failed", 0),
    }
    not_understood: Counter = Counter()
    for text, count in talk.misunderstood.items():
        not_understood[redactor.redact(text)] += count
    return {
        "range": {"from": span.first.isoformat(), "to": span.last.isoformat()},
        "summary": summary,
        "tables": {
            "handoff_reasons": _table("Handoff reasons", ["reason", "tickets"], _most(reasons)),
            "not_understood": _table(
                "Top messages not understood", ["message", "times"], _most(not_understood, TOP_NOT_UNDERSTOOD)
            ),
            "topics_per_day": _table(
                "Topics per day",
                ["day", "topic", "messages"],
                [[day, topic, count] for (day, topic), count in sorted(talk.topics.items())],
            ),
            "languages": _table("Languages", ["language", "conversations"], _split(talk.languages, talk.senders)),
            "channels": _table("Channels", ["channel", "conversations"], _split(talk.channels, talk.senders)),
            "csat": _table("Satisfaction", ["score", "answers"], [[s, scores.get(s, 0)] for s in range(1, 6)]),
            "payment_retries": _table("Payment retries", ["triggered_by", "outcome", "attempts"], retries),
            "emails": _table("Emails", ["state", "emails"], [[k, emails[k]] for k in ("sent", "queued", "failed")]),
        },
    }


def _most(counts: Counter, limit: Optional[int] = None) -> List[List[Any]]:
    return [[key, count] for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _split(values: Dict[str, str], senders: set) -> List[List[Any]]:
    return _most(Counter(values.get(sender, "unknown") for sender in senders))


def _email_states(session: Session, span: DateRange) -> Dict[str, int]:
    rows = session.execute(
        select(m.OutboxEmail.sent_at, m.OutboxEmail.failed_at).where(
            m.OutboxEmail.created_at >= span.start, m.OutboxEmail.created_at < span.end
        )
    ).all()
    states: Dict[str, int] = {"sent": 0, "queued": 0, "failed": 0}
    for sent_at, failed_at in rows:
        states["sent" if sent_at else "failed" if failed_at else "queued"] += 1
    return states


def csv_rows(report: Dict[str, Any], table: str) -> Tuple[List[str], List[List[Any]]]:
    """One table's header and rows (KeyError for an unknown table)."""
    found = report["tables"][table]
    return found["columns"], found["rows"]


def text_report(report: Dict[str, Any]) -> str:
    """`make analytics`'s text: the summary, then every table."""
    lines = [f"Support analytics {report['range']['from']} to {report['range']['to']} (UTC)", ""]
    width = max(len(key) for key in report["summary"])
    for key, value in report["summary"].items():
        shown = "-" if value is None else f"{value:.1%}" if key.endswith("_rate") else value
        lines.append(f"  {key.ljust(width)}  {shown}")
    for table in report["tables"].values():
        lines += ["", table["title"], "  " + " | ".join(table["columns"])]
        lines += ["  " + " | ".join(str(cell) for cell in row) for row in table["rows"]] or ["  (none)"]
    return "\n".join(lines) + "\n"


def by_day(rows: List[List[Any]]) -> Dict[str, Dict[str, int]]:
    """topics_per_day as {day: {topic: messages}} (for charts and tests)."""
    days: Dict[str, Dict[str, int]] = defaultdict(dict)
    for day, topic, count in rows:
        days[day][topic] = count
    return dict(days)
