"""Rasa-server side: channel connectors, the pages, the agent console and the event broker."""
