"""The manager's side of the agent console: analytics (page, JSON, CSV) and privacy requests (export, erase).
Every route needs the console's credentials of an agent with the manager role (AGENT_MANAGERS); the work
runs on a worker thread with the report engine's longer timeout.

GET  /agent/analytics                          the page (web/agent/analytics.html)
GET  /agent/api/analytics?from=&to=            the figures (support/analytics.py), days in UTC, inclusive
GET  /agent/api/analytics.csv?table=&from=&to= one table as CSV
GET  /agent/api/privacy/export?email= | ?conversation=   everything the assistant holds, one JSON file
POST /agent/api/privacy/erase {"email"} | {"conversation"}  erased, with an audit entry without personal data
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any, Awaitable, Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from support.analytics import DateRange, csv_rows, figures
from support.clock import now_utc
from support.db.conversation_store import store_engine
from support.db.engine import database_url, report_engine_for
from support.privacy import PrivacyRequestError, erase_customer, export_customer

Handler = Callable[..., Awaitable[HTTPResponse]]


def _range(request: Request) -> DateRange:
    return DateRange.parse(request.args.get("from"), request.args.get("to"), now_utc().date())


async def _figures(request: Request) -> Any:
    span = _range(request)
    return await asyncio.to_thread(figures, report_engine_for(database_url()), store_engine(), span)


async def analytics(request: Request, agent: str) -> HTTPResponse:
    try:
        return response.json(await _figures(request))
    except ValueError:
        return response.json({"error": "invalid_range"}, status=400)


async def analytics_csv(request: Request, agent: str) -> HTTPResponse:
    try:
        report = await _figures(request)
        columns, rows = csv_rows(report, request.args.get("table", ""))
    except ValueError:
        return response.json({"error": "invalid_range"}, status=400)
    except KeyError:
        return response.json({"error": "unknown_table"}, status=404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    name = f"{request.args.get('table')}-{report['range']['from']}-{report['range']['to']}.csv"
    return response.text(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _who(source: Any) -> dict:
    get = source.get if hasattr(source, "get") else (lambda _key: None)
    return {"email": (get("email") or "").strip() or None, "conversation": (get("conversation") or "").strip() or None}


async def privacy_export(request: Request, agent: str) -> HTTPResponse:
    who = _who(request.args)
    try:
        data = await asyncio.to_thread(
            export_customer, report_engine_for(database_url()), store_engine(), now_utc(), **who
        )
    except PrivacyRequestError as problem:
        return response.json({"error": problem.code}, status=400)
    name = "privacy-export.json"
    return response.text(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def privacy_erase(request: Request, agent: str) -> HTTPResponse:
    who = _who(request.json if isinstance(request.json, dict) else {})
    try:
        done = await asyncio.to_thread(
            erase_customer, report_engine_for(database_url()), store_engine(), agent, now_utc(), **who
        )
    except PrivacyRequestError as problem:
        return response.json({"error": problem.code}, status=400)
    return response.json({"erased": done})


def add_manager_routes(bp: Blueprint, page: Handler, guard: Callable[[Handler], Handler]) -> None:
    bp.add_route(page, "/analytics", methods=["GET"])
    bp.add_route(guard(analytics), "/api/analytics", methods=["GET"])
    bp.add_route(guard(analytics_csv), "/api/analytics.csv", methods=["GET"])
    bp.add_route(guard(privacy_export), "/api/privacy/export", methods=["GET"])
    bp.add_route(guard(privacy_erase), "/api/privacy/erase", methods=["POST"])
