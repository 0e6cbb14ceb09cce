"""The action server's responses are validated as Rasa validates them, with a validator built once."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import channels  # noqa: F401  (installs the validator, as the Rasa server does when it loads the channels)
from channels import action_response

GOOD = {
    "events": [{"event": "slot", "name": "language", "value": "fr"}, {"event": "action", "name": "action_listen"}],
    "responses": [{"text": "Bonjour", "buttons": []}],
}
BAD = [
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
]


def test_the_channels_package_installs_it() -> None:
    assert RemoteAction._validate_action_result.__module__ == "channels.action_response"


def test_a_valid_response_passes() -> None:
    assert RemoteAction("action_x", None)._validate_action_result(GOOD) is True


@pytest.mark.parametrize("response", BAD)
def test_an_invalid_response_is_refused_with_the_error_rasa_gives(response: dict) -> None:
    with pytest.raises(ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(response)
    with pytest.raises(ValidationError) as rasas:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_an_unknown_schema_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = {**RemoteAction.action_response_format_spec(), "required": ["events"]}
    monkeypatch.setattr(RemoteAction, "action_response_format_spec", staticmethod(lambda: changed))
    with pytest.raises(RuntimeError, match="schema changed"):
        action_response.compiled_validator()


def test_the_schema_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    validator = action_response.compiled_validator()
    monkeypatch.setattr(type(validator), "check_schema", classmethod(lambda cls, schema: calls.append(schema)))
    for _ in range(3):
        RemoteAction("action_x", None)._validate_action_result(GOOD)
    assert calls == []
