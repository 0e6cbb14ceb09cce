"""Creates DATABASE_URL's PostgreSQL database when it does not exist yet (make cluster; the server must exist)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from support.db.engine import database_url


def main() -> None:
    url = make_url(database_url())
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database})
        if found.first() is None:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
            print(f"created the database {url.database}")
    admin.dispose()


if __name__ == "__main__":
    main()
