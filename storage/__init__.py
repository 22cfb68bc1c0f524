"""Persistence: SQLAlchemy 2 (async) models, repositories and Alembic migrations.

SQLAlchemy is imported here and nowhere else.
"""
