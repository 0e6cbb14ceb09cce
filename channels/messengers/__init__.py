"""Telegram, Facebook Messenger and Slack channels over one base (base.py) and shared request checks (signatures.py)."""
