"""Rasa-server side: channel connectors, the pages, the agent console and the event broker.

Loading the package (the Rasa server does, for the channels of credentials.yml) also puts in place two
changes to the Rasa server's turn: the action-response validator built once (channels/action_response.py)
and the `language` slot set without an action-server call (channels/language_slot.py).
"""

from channels import action_response, language_slot

action_response.install()
language_slot.install()
