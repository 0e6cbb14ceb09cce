"""Product facts (name, URLs, policy numbers) read from product.yml, the one place they live."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict

import yaml

PRODUCT_FILE = Path(__file__).resolve().parent.parent / "product.yml"

# Keys that responses interpolate as slots of the same name.
RESPONSE_KEYS = ("product_name", "portal_domain", "support_url", "grace_days", "retry_attempts")


@functools.lru_cache(maxsize=1)
def product() -> Dict[str, Any]:
    """Returns product.yml as a dict (read once per process)."""
    with PRODUCT_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def response_slots() -> Dict[str, Any]:
    """The slot values that responses need, e.g. {"grace_days": 14, ...}."""
    facts = product()
    return {key: facts[key] for key in RESPONSE_KEYS}
