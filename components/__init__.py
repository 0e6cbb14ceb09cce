"""Custom Rasa NLU components (referenced by name from config.yml)."""
