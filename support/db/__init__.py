"""The database: the engine and transactions (engine.py), the tables (models/), shared lookups (queries.py)."""
