"""The paid plans as the chat quotes them: names, limits and prices read from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.queries import FREE_PLAN
from support.vocabulary import Cycle


@dataclass(frozen=True)
class PlanQuote:
    code: str
    name: str
    price_minor: int  # for the billing cycle asked about
    currency: str
    max_users: int
    storage_gb: int


def paid_plans(session: Session, cycle: str) -> List[PlanQuote]:
    """Every paid plan, cheapest first, priced for `cycle` (monthly or yearly)."""
    rows = session.execute(select(m.Plan).where(m.Plan.code != FREE_PLAN).order_by(m.Plan.monthly_price_minor))
    return [
        PlanQuote(
            plan.code,
            plan.name,
            plan.yearly_price_minor if cycle == Cycle.YEARLY else plan.monthly_price_minor,
            plan.currency,
            plan.max_users,
            plan.storage_gb,
        )
        for plan in rows.scalars()
    ]


def plan_named_in(text: str, plans: List[PlanQuote]) -> Optional[PlanQuote]:
    """The plan a message names ("upgrade to professional", "passer au plan Pro"), if exactly one."""
    words = set(re.findall(r"\w+", text.casefold()))
    named = [plan for plan in plans if plan.name.casefold() in words or plan.code in words]
    if not named and "pro" in words:
        named = [plan for plan in plans if plan.code == "professional"]
    return named[0] if len(named) == 1 else None
