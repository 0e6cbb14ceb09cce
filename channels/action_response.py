"""The action server's responses validated with a validator built once, not once per response.

Rasa's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` on every response
of the action server, and `jsonschema.validate` checks the schema itself, then builds a validator, each
time: about 37 % of the Rasa server's CPU under load (issue 13's profile). The schema is a constant of
Rasa's code, so `install()` builds its validator once and puts in place a method that validates with it,
raising the same error as Rasa's (the best match, with Rasa's explanation appended).

It refuses to install (RuntimeError at start) when Rasa's schema is not the one this module was checked
against (`RASA_SCHEMA_SHA256`): after an upgrade of Rasa, read the new schema, then update the hash.
The package `channels` installs it when the Rasa server loads its channels.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

RASA_SCHEMA_SHA256 = "fb650e99afd82f1c650004526571ec7bc95a81aa36aaf6a899a6e9e212b166be"  # rasa 3.6.21


def fingerprint(schema: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode("utf-8")).hexdigest()


def compiled_validator() -> Validator:
    """The validator of Rasa's response schema, checked once; refuses a schema it does not know."""
    schema = RemoteAction.action_response_format_spec()
    if fingerprint(schema) != RASA_SCHEMA_SHA256:
        raise RuntimeError(
            "Rasa's action response schema changed (channels/action_response.py): check it, then update "
            f"RASA_SCHEMA_SHA256 to {fingerprint(schema)}"
        )
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def install() -> None:
    """Replaces Rasa's per-response schema check by one with the validator built here (idempotent)."""
    validator = compiled_validator()

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
