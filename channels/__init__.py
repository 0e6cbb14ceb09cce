"""Rasa-server side: channel connectors, the pages, the agent console and the event broker.

Loading the package (the Rasa server does, for the channels of credentials.yml) also puts in place the
action-response validator built once (channels/action_response.py).
"""

from channels.action_response import install as _install_action_response_validator

_install_action_response_validator()
