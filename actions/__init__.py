"""Rasa custom actions (rasa-sdk loads every module here): thin translation between the tracker and support/."""
