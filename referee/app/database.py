"""``referee db upgrade``: bring a database's schema to the newest migration."""

from __future__ import annotations

from referee.db.engine import make_engine, upgrade_schema

__all__ = ["upgrade_database"]


def upgrade_database(url: str) -> None:
    """Apply every pending migration (Alembic upgrade to head) to the database at ``url``."""
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
