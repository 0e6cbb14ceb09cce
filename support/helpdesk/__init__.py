"""The helpdesk: its outbox (outbox.py), the worker that delivers it (worker.py) and the transports."""
