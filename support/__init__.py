"""The assistant's core: settings, identity, language, the database, billing, payments, handoff and the
helpdesk. Plain Python: it imports no rasa, rasa_sdk or sanic (tests/unit/test_architecture.py)."""
