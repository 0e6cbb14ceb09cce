"""Customer emails: the outbox rendered per language (render.py) and delivered over SMTP (smtp.py, worker.py)."""
