"""Rasa-server side: channel connectors, the agent console and the event broker."""
