"""The domain as Rasa reads it: every YAML file of domain/ merged (lists joined, mappings updated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "domain"


def load_domain() -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    return merged
