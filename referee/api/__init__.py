"""The reviewers' REST API (FastAPI): ``create_app(engine, settings)``."""

from referee.api.app import create_app

__all__ = ["create_app"]
