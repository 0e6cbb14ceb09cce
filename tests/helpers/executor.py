"""Runs the custom actions through rasa-sdk's executor, as the action server runs them."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk.executor import ActionExecutor

EXECUTOR = ActionExecutor()
EXECUTOR.register_package("actions")


def user_event(
    intent: str, text: str = "…", metadata: Optional[dict] = None, language: Optional[dict] = None
) -> Dict[str, Any]:
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text}
    if language is not None:
        parse["language"] = language
    return {"event": "user", "text": text, "metadata": metadata or {}, "parse_data": parse}


def run_action(
    action: str, events: List[dict], slots: Optional[dict] = None, sender: str = "test", paused: bool = False
) -> dict:
    """The executor's answer (events and responses) for `action` after `events`."""
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    payload = {
        "next_action": action,
        "sender_id": sender,
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": latest,
            "events": events,
            "paused": paused,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }
    return asyncio.run(EXECUTOR.run(payload))


def slots_set(result: dict) -> dict:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


def responses(result: dict) -> List[str]:
    return [r["response"] for r in result["responses"]]
